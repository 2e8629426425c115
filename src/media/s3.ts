/**
 * Media in an S3-compatible bucket (AWS S3, MinIO, Cloudflare R2, Yandex Object Storage) through
 * Bun's built-in S3 client — no SDK. Keys are the same relative paths the local store uses, so the
 * database rows do not change between backends.
 *
 * Complete-or-absent comes from S3 itself: a PUT (or a multipart upload's completion) makes the
 * object visible whole or not at all, so no temp-and-rename is needed.
 *
 * Every call is bounded. Bun's S3 client takes no AbortSignal and has no request timeout, and a
 * bucket that hangs (a frozen process, a black-holed route) would hold the caller as long as it
 * hangs: so each call races a timer and, when the timer wins, its answer is dropped and the call
 * fails as `MediaUnavailable`. A refused, reset or timed-out call — and S3's own 500/503 answers —
 * is tried again with backoff while the caller's deadline allows (a job's deadline for the worker,
 * a few seconds otherwise). While the bucket is failing (no answer since its last failure) a call
 * waits for it only briefly, so booths get a fast 503 instead of a slow one. Calls dropped for
 * lateness still hold their sockets until the bucket answers or the connection dies; past
 * MAX_UNANSWERED of them, while the bucket is failing, new calls fail at once rather than pile up
 * (each may hold a photo) — all but one at a time, the scout, so that a bucket back is seen at once
 * even when the calls it owes never come (connections lost while it hung may stay silent for
 * minutes).
 *
 * These are waits about real elapsed time (the network), so they use the wall clock; a job's
 * deadline is handed over as a wall-clock instant by its caller.
 */
import { randomBytes } from "node:crypto";
import {
  type CallOptions,
  checkKey,
  MEDIA_KINDS,
  type MediaHealth,
  type MediaKind,
  type MediaStore,
  MediaUnavailable,
  type StoredFile,
  volumeUsage,
  type WriteOptions,
} from "./storage";

export interface S3Settings {
  bucket: string;
  /** Unset: Bun's default (AWS, or S3_ENDPOINT / AWS_ENDPOINT from the environment). */
  endpoint?: string | null;
  accessKeyId?: string | null;
  secretAccessKey?: string | null;
  region?: string | null;
}

/** How long the bucket may take; tests shorten them. */
export interface S3Bounds {
  /** One call — a HEAD, a DELETE, a page of a listing, a transfer's first byte or its next chunk. */
  callTimeoutMs: number;
  /** A PUT may take this much longer per MiB of its body (a slow uplink is not an outage). */
  perMibMs: number;
  /** While the bucket is failing, a call (beyond its per-MiB allowance) gets at most this. */
  suspectTimeoutMs: number;
  /** A call with no deadline of its own, with its retries, takes at most this long. */
  budgetMs: number;
}

export const DEFAULT_S3_BOUNDS: S3Bounds = {
  callTimeoutMs: 3_000,
  perMibMs: 1_000,
  suspectTimeoutMs: 1_000,
  budgetMs: 3_000,
};

/** Sizes of whole-bucket listings are kept this long: /metrics and the dashboard poll them. */
const BYTES_CACHE_MS = 60_000;
/** Backoff between tries of a call the bucket refused or did not answer: doubles up to the max. */
const FIRST_PAUSE_MS = 100;
const MAX_PAUSE_MS = 1_000;
/** The shortest try worth making (a deadline nearly reached still gets one real attempt). */
const MIN_ATTEMPT_MS = 250;
/** Calls given up for lateness that the bucket still owes an answer: past this, fail at once. */
export const MAX_UNANSWERED = 64;
/** The readiness probe's whole budget (write, read back, delete): /readyz must answer fast. */
const PROBE_BUDGET_MS = 2_000;
const MIB = 1024 * 1024;

/**
 * Failures worth another try: the bucket could not be reached, reset or dropped the connection, did
 * not answer in time, or answered with S3's "try again" errors (every call here is idempotent).
 */
const TRANSIENT_CODES = new Set([
  "InternalError",
  "ServiceUnavailable",
  "SlowDown",
  "RequestTimeout",
  "RequestTimeTooSkewed",
  "ConnectionRefused",
  "ConnectionClosed",
  "ConnectionReset",
  "UnableToConnect",
  "FailedToOpenSocket",
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EPIPE",
  "Timeout",
  "Unanswered",
]);

export class S3MediaStore implements MediaStore {
  readonly backend = "s3" as const;
  readonly location: string;
  private readonly client: Bun.S3Client;
  private readonly bounds: S3Bounds;
  private bytesCache: { at: number; value: Record<MediaKind, number> } | null = null;
  /** Since when calls fail (null: the last call the bucket answered), and why. */
  private failingSince: number | null = null;
  private lastError: string | null = null;
  /** Calls whose answer was dropped for lateness and has not come yet. */
  private unanswered = 0;
  /** A call let through past MAX_UNANSWERED to see whether the bucket answers again is on its way. */
  private scouting = false;

  /** `dataDir` is the local volume reported by diskUsage() (the bucket has no size to report). */
  constructor(
    settings: S3Settings,
    private readonly dataDir: string,
    bounds: Partial<S3Bounds> = {},
  ) {
    this.client = new Bun.S3Client({
      bucket: settings.bucket,
      ...(settings.endpoint ? { endpoint: settings.endpoint } : {}),
      ...(settings.accessKeyId ? { accessKeyId: settings.accessKeyId } : {}),
      ...(settings.secretAccessKey ? { secretAccessKey: settings.secretAccessKey } : {}),
      ...(settings.region ? { region: settings.region } : {}),
    });
    this.bounds = { ...DEFAULT_S3_BOUNDS, ...bounds };
    this.location = `s3://${settings.bucket}${settings.endpoint ? ` at ${settings.endpoint}` : ""}`;
  }

  /** A bucket has no directories to create. */
  ensureLayout(): void {}

  health(): MediaHealth {
    return {
      failingSince: this.failingSince === null ? null : new Date(this.failingSince),
      error: this.failingSince === null ? null : this.lastError,
      unanswered: this.unanswered,
    };
  }

  /** Every PUT is durable once S3 answers it, so `durable` changes nothing here. */
  async writeAtomic(key: string, bytes: Uint8Array, opts: WriteOptions = {}): Promise<string> {
    checkKey(key);
    await this.call(
      `PUT ${key}`,
      () => this.client.write(key, bytes, opts.mime ? { type: opts.mime } : {}),
      opts,
      bytes.byteLength,
    );
    this.bytesCache = null;
    return key;
  }

  async read(key: string, opts: CallOptions = {}): Promise<Uint8Array> {
    checkKey(key);
    // Bounded chunk by chunk inside (see readWithin), not as a whole: a large object may take long.
    return this.call(`GET ${key}`, () => this.readWithin(key), opts, 0, false);
  }

  /**
   * The whole object, or null when it is missing. Read whole before the caller sends a status line:
   * a bucket that fails or stalls mid-way then becomes a clean 503/504, never a booth's answer cut
   * after its 200 (results are a few MB; the memory is held only while the answer is sent).
   */
  async body(key: string, opts: CallOptions = {}): Promise<Blob | null> {
    try {
      return new Blob([(await this.read(key, opts)) as Uint8Array<ArrayBuffer>]);
    } catch (err) {
      if (isMissing(err)) return null;
      throw err;
    }
  }

  async exists(key: string, opts: CallOptions = {}): Promise<boolean> {
    checkKey(key);
    return this.call(`HEAD ${key}`, () => this.client.exists(key), opts);
  }

  async size(key: string, opts: CallOptions = {}): Promise<number | null> {
    checkKey(key);
    try {
      return (await this.call(`HEAD ${key}`, () => this.client.stat(key), opts)).size;
    } catch (err) {
      if (isMissing(err)) return null;
      throw err;
    }
  }

  async remove(key: string | null | undefined, opts: CallOptions = {}): Promise<number> {
    if (!key) return 0;
    // One budget for both calls: a removal never costs more than its caller allowed.
    const until = opts.until ?? Date.now() + this.bounds.budgetMs;
    const size = await this.size(key, { until });
    if (size === null) return 0;
    await this.call(`DELETE ${key}`, () => this.client.delete(key), { until });
    this.bytesCache = null;
    return size;
  }

  async list(kind: MediaKind): Promise<StoredFile[]> {
    const out: StoredFile[] = [];
    let continuationToken: string | undefined;
    do {
      const page = await this.call(`LIST ${kind}/`, () =>
        this.client.list({ prefix: `${kind}/`, maxKeys: 1000, continuationToken }),
      );
      for (const o of page.contents ?? []) {
        out.push({
          path: o.key,
          size: o.size ?? 0,
          mtimeMs: o.lastModified ? new Date(o.lastModified).getTime() : 0,
        });
      }
      continuationToken = page.isTruncated ? page.nextContinuationToken : undefined;
    } while (continuationToken);
    return out;
  }

  /**
   * The bucket's content by kind, for gauges and the dashboard. While the bucket cannot be listed,
   * the last known totals (or zeros) are given: a gauge must not take /metrics or the dashboard
   * down with the bucket — its outage is reported by /readyz, the banner and /system.
   */
  async bytesByKind(): Promise<Record<MediaKind, number>> {
    if (this.bytesCache && Date.now() - this.bytesCache.at < BYTES_CACHE_MS) return this.bytesCache.value;
    const totals = { payloads: 0, results: 0, templates: 0, media: 0 } as Record<MediaKind, number>;
    try {
      for (const kind of MEDIA_KINDS) {
        for (const f of await this.list(kind)) totals[kind] += f.size;
      }
    } catch (err) {
      if (!(err instanceof MediaUnavailable)) throw err;
      return this.bytesCache?.value ?? totals;
    }
    this.bytesCache = { at: Date.now(), value: totals };
    return totals;
  }

  async freeBytes(): Promise<number> {
    return Number.POSITIVE_INFINITY;
  }

  async diskUsage(): Promise<{ free: number; total: number }> {
    return volumeUsage(this.dataDir);
  }

  /**
   * Writes, reads back and deletes a small object, all within PROBE_BUDGET_MS. A probe object left
   * by a write that timed out (and landed later) is a leftover the cleaner removes.
   */
  async probe(): Promise<void> {
    const key = `media/.readyz-${randomBytes(6).toString("hex")}`;
    const until = Date.now() + PROBE_BUDGET_MS;
    const bytes = new TextEncoder().encode("ok");
    try {
      await this.writeAtomic(key, bytes, { until });
      const back = new TextDecoder().decode(await this.read(key, { until }));
      if (back !== "ok") throw new Error("the bucket returned other bytes");
    } finally {
      await this.remove(key, { until: Math.max(until, Date.now() + MIN_ATTEMPT_MS) }).catch(() => {});
    }
  }

  /**
   * Runs one idempotent bucket call, bounded and tried again while `until` allows (see the file's
   * header). A failure that is not the bucket's (a missing object, a refused signature) is thrown
   * as it came; an outage is thrown as MediaUnavailable carrying the last reason.
   */
  private async call<T>(
    what: string,
    fn: () => Promise<T>,
    opts: CallOptions = {},
    bytes = 0,
    boundWhole = true,
  ): Promise<T> {
    const transfer = (bytes / MIB) * this.bounds.perMibMs;
    const until =
      opts.until ??
      Date.now() +
        transfer +
        (this.failingSince === null ? this.bounds.budgetMs : this.bounds.suspectTimeoutMs);
    let pause = FIRST_PAUSE_MS;
    for (let attempt = 1; ; attempt++) {
      const limit =
        transfer + (this.failingSince === null ? this.bounds.callTimeoutMs : this.bounds.suspectTimeoutMs);
      const timeout = Math.max(MIN_ATTEMPT_MS, Math.min(limit, until - Date.now()));
      try {
        const value = await (boundWhole ? this.bounded(what, fn, timeout) : fn());
        this.failingSince = null;
        return value;
      } catch (err) {
        if (isMissing(err)) {
          this.failingSince = null; // the bucket answered
          throw err;
        }
        this.lastError = describe(err);
        this.failingSince ??= Date.now();
        if (!isTransient(err)) throw err;
        if (Date.now() + pause >= until) {
          throw new MediaUnavailable(codeOf(err), `${what}: ${this.lastError} (${attempt} tries)`, err);
        }
        await Bun.sleep(pause);
        pause = Math.min(pause * 2, MAX_PAUSE_MS);
      }
    }
  }

  /** The call, or a Timeout once `ms` pass first (its answer is then dropped when it comes). */
  private bounded<T>(what: string, fn: () => Promise<T>, ms: number): Promise<T> {
    let scout = false;
    if (this.unanswered >= MAX_UNANSWERED && this.failingSince !== null) {
      if (this.scouting) {
        return Promise.reject(
          new MediaUnavailable("Unanswered", `${this.unanswered} calls to the bucket are still unanswered`),
        );
      }
      this.scouting = scout = true;
    }
    const endScout = () => {
      if (scout) this.scouting = scout = false;
    };
    const call = (async () => fn())();
    return new Promise<T>((resolve, reject) => {
      let late = false;
      const timer = setTimeout(() => {
        late = true;
        this.unanswered++;
        endScout();
        reject(
          new MediaUnavailable("Timeout", `the bucket did not answer ${what} within ${Math.round(ms)} ms`),
        );
      }, ms);
      const settle = () => {
        if (late) this.unanswered--;
        else {
          clearTimeout(timer);
          endScout();
        }
        return !late;
      };
      call.then(
        (v) => settle() && resolve(v),
        (e) => settle() && reject(e),
      );
    });
  }

  /**
   * The object's bytes, streamed so that the bound is on silence, not on size: the GET fails as a
   * Timeout when no chunk comes for a call's timeout, whatever the object's length.
   */
  private async readWithin(key: string): Promise<Uint8Array> {
    const reader = this.client.file(key).stream().getReader();
    const chunks: Uint8Array[] = [];
    try {
      for (;;) {
        const { done, value } = await this.bounded(`GET ${key}`, () => reader.read(), this.chunkTimeout());
        if (done) break;
        chunks.push(value);
      }
    } catch (err) {
      reader.cancel().catch(() => {});
      throw err;
    }
    return Bun.concatArrayBuffers(chunks, Number.POSITIVE_INFINITY, true);
  }

  private chunkTimeout(): number {
    return this.failingSince === null ? this.bounds.callTimeoutMs : this.bounds.suspectTimeoutMs;
  }
}

function codeOf(err: unknown): string {
  return (err as { code?: string } | null)?.code ?? "Unknown";
}

function isTransient(err: unknown): boolean {
  return TRANSIENT_CODES.has(codeOf(err));
}

function describe(err: unknown): string {
  const e = err as { code?: string; message?: string } | null;
  const msg = (e?.message ?? String(err)).split("\n")[0]!.slice(0, 200);
  return e?.code && !msg.includes(e.code) ? `${e.code}: ${msg}` : msg;
}

export function isMissing(err: unknown): boolean {
  const code = (err as { code?: string } | null)?.code;
  return code === "NoSuchKey" || code === "ENOENT" || code === "NotFound";
}
