/**
 * The one clock. Deadlines, TTLs and the timers that fire at deadlines read it, so tests can move
 * time without sleeping: with a `ManualClock`, a timer fires when `advance()`/`set()` reaches it.
 * Waits that are about real elapsed time (idle polls, backoff against an unreachable database)
 * use the free `sleep`, bounded by the clock where a deadline caps them (`sleepWithin`).
 */
export interface Clock {
  now(): Date;
  /**
   * Calls `fn` once the clock has moved `ms` on; returns a function that cancels the timer.
   * `label` names what the wait is for (e.g. "provider.backoff"), so a test clock can tell them apart.
   */
  setTimer(ms: number, fn: () => void, label?: string): () => void;
}

/**
 * The wall-clock instant (ms since the epoch) at which `clock` will read `at`: a deadline kept by the
 * app clock handed to waits on real I/O (the bucket's calls), which run on the wall clock.
 */
export function wallClockAt(clock: Clock, at: Date): number {
  return Date.now() + (at.getTime() - clock.now().getTime());
}

export const systemClock: Clock = {
  now: () => new Date(),
  setTimer(ms, fn) {
    const timer = setTimeout(fn, Math.max(0, ms));
    return () => clearTimeout(timer);
  },
};

interface ManualTimer {
  at: number;
  seq: number;
  fn: () => void;
}

/**
 * A clock that tests can set and advance; its timers fire when time reaches them, never by
 * themselves — except waits whose label is in `elapse`: for those the clock moves on by itself
 * (on the next turn), as if the wait had passed at once. A test that is not about a provider's
 * backoff lets `"provider.backoff"` elapse, and the retries cost no real time.
 */
export class ManualClock implements Clock {
  private readonly timers = new Set<ManualTimer>();
  private readonly watchers = new Set<(ms: number) => boolean>();
  private readonly elapse: Set<string>;
  private seq = 0;

  constructor(
    private current = new Date(),
    options: { elapse?: string[] } = {},
  ) {
    this.elapse = new Set(options.elapse ?? []);
  }

  now(): Date {
    return new Date(this.current);
  }

  setTimer(ms: number, fn: () => void, label?: string): () => void {
    // A timer already due fires on the next turn, as setTimeout(fn, 0) would.
    if (ms <= 0) {
      const t = setTimeout(fn, 0);
      return () => clearTimeout(t);
    }
    const timer = { at: this.current.getTime() + ms, seq: this.seq++, fn };
    this.timers.add(timer);
    for (const w of [...this.watchers]) if (w(ms)) this.watchers.delete(w);
    if (label && this.elapse.has(label)) {
      setTimeout(() => {
        if (this.timers.has(timer) && timer.at > this.current.getTime()) this.set(new Date(timer.at));
      }, 0);
    }
    return () => this.timers.delete(timer);
  }

  /**
   * Resolves when a timer for `ms` (any, if not given) is set: the product is now waiting on this
   * clock — a provider's simulated work, say — so moving it will be seen.
   */
  whenTimerSet(ms?: number): Promise<void> {
    return new Promise((resolve) => {
      this.watchers.add((set) => {
        if (ms !== undefined && set !== ms) return false;
        resolve();
        return true;
      });
    });
  }

  /** Timers not yet fired (for tests that check nothing is left waiting). */
  get pendingTimers(): number {
    return this.timers.size;
  }

  set(date: Date): void {
    this.current = new Date(date);
    this.fireDue();
  }

  advance(ms: number): void {
    this.current = new Date(this.current.getTime() + ms);
    this.fireDue();
  }

  private fireDue(): void {
    const now = this.current.getTime();
    const due = [...this.timers].filter((t) => t.at <= now).sort((a, b) => a.at - b.at || a.seq - b.seq);
    for (const t of due) {
      this.timers.delete(t);
      t.fn();
    }
  }
}

/** Real elapsed time: resolves after `ms`, or at once when the signal fires. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return wait((fn) => {
    const timer = setTimeout(fn, Math.max(0, ms));
    return () => clearTimeout(timer);
  }, signal);
}

/** Resolves once the clock has moved `ms` on (a ManualClock: when the test advances it), or when the signal fires. */
export function sleepOn(clock: Clock, ms: number, signal?: AbortSignal, label?: string): Promise<void> {
  return wait((fn) => clock.setTimer(ms, fn, label), signal);
}

/**
 * Real elapsed time `ms` at most, and never past `until` on the clock: a retry pause or a
 * safety-net poll that must end when the job's deadline does.
 */
export function sleepWithin(clock: Clock, ms: number, until: Date, signal?: AbortSignal): Promise<void> {
  return wait((fn) => {
    const timer = setTimeout(fn, Math.max(0, ms));
    const cancel = clock.setTimer(until.getTime() - clock.now().getTime(), fn);
    return () => {
      clearTimeout(timer);
      cancel();
    };
  }, signal);
}

function wait(start: (fn: () => void) => () => void, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    let settled = false;
    const done = () => {
      if (settled) return;
      settled = true;
      cancel();
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const cancel = start(done);
    signal?.addEventListener("abort", done, { once: true });
  });
}
