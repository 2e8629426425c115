/**
 * Per-key token buckets in memory: `burst` requests at once, refilled at `perSecond`. Per instance
 * on purpose: it protects this process's CPU and disk, which another instance does not share.
 */
const MAX_KEYS = 10_000;

export class TokenBuckets {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    private readonly burst: number,
    private readonly perSecond: number,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Takes one token: 0 when allowed, else the whole seconds until the next token. */
  take(key: string): number {
    const t = this.now();
    const b = this.buckets.get(key) ?? { tokens: this.burst, at: t };
    b.tokens = Math.min(this.burst, b.tokens + ((t - b.at) / 1000) * this.perSecond);
    b.at = t;
    if (b.tokens >= 1) {
      b.tokens -= 1;
      this.remember(key, b);
      return 0;
    }
    this.remember(key, b);
    return Math.max(1, Math.ceil((1 - b.tokens) / this.perSecond));
  }

  private remember(key: string, b: { tokens: number; at: number }): void {
    this.buckets.delete(key);
    this.buckets.set(key, b);
    // Oldest first in a Map: forget the least recently seen addresses (a full bucket again).
    if (this.buckets.size > MAX_KEYS) this.buckets.delete(this.buckets.keys().next().value as string);
  }
}
