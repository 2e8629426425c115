/**
 * The scaffold every fake outside service stands on (AI providers, webhook and Telegram targets):
 * a real HTTP server on 127.0.0.1 and a free port (optionally TLS), the requests it has seen in
 * order, answers scripted in order, a promise for the next arrival, and stop. What a fake checks
 * and answers — its provider's own wire format — stays in the fake; the plumbing lives here once.
 *
 * A fake either extends it and overrides `handle`, or passes a handler (a one-off target in a test).
 */

export interface FakeServerOptions {
  /** Serve HTTPS with this certificate and key (PEM files). */
  tls?: { cert: string; key: string };
}

/** A one-off fake's answer; `record` keeps what the request was in `requests`. */
export type FakeHandler<Seen> = (req: Request, record: (seen: Seen) => void) => Response | Promise<Response>;

export class FakeServer<Seen = unknown, Answer = never> {
  /** What the fake saw, in arrival order (each fake decides what it records). */
  readonly requests: Seen[] = [];
  private readonly server: ReturnType<typeof Bun.serve>;
  private readonly handler?: FakeHandler<Seen>;
  private scripted: Answer[] = [];
  private waiting: (() => void) | null = null;

  constructor(handler?: FakeHandler<Seen>, options: FakeServerOptions = {}) {
    this.handler = handler;
    const { tls } = options;
    this.server = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch: (req) => this.handle(req),
      ...(tls ? { tls: { cert: Bun.file(tls.cert), key: Bun.file(tls.key) } } : {}),
    });
  }

  /** How the fake answers; a subclass speaks its provider's wire format here. */
  protected handle(req: Request): Response | Promise<Response> {
    if (!this.handler) return new Response("Not Found", { status: 404 });
    this.arrived();
    return this.handler(req, (seen) => {
      this.requests.push(seen);
    });
  }

  get port(): number {
    return this.server.port!;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Records what a request was (if given) and wakes whoever waits for the next one. */
  protected arrived(seen?: Seen): void {
    if (seen !== undefined) this.requests.push(seen);
    const w = this.waiting;
    this.waiting = null;
    w?.();
  }

  /** Resolves when the next request reaches the fake (the product's call is in flight). */
  nextRequest(): Promise<void> {
    return new Promise((resolve) => {
      this.waiting = resolve;
    });
  }

  /** Queues answers for the next requests, in order. */
  answer(...answers: Answer[]): void {
    this.scripted.push(...answers);
  }

  /** The answer scripted for the next request, taken off the queue (undefined: nothing scripted). */
  protected nextAnswer(): Answer | undefined {
    return this.scripted.shift();
  }

  /** The answer scripted for the next request, left on the queue. */
  protected peekAnswer(): Answer | undefined {
    return this.scripted[0];
  }

  /** Answers still scripted. */
  get pending(): number {
    return this.scripted.length;
  }

  /** Forgets what was seen and scripted. */
  reset(): void {
    this.requests.length = 0;
    this.scripted = [];
  }

  stop(): void {
    this.server.stop(true);
  }
}
