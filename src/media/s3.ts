/**
 * Media in an S3-compatible bucket (AWS S3, MinIO, Cloudflare R2, Yandex Object Storage) through
 * Bun's built-in S3 client — no SDK. Keys are the same relative paths the local store uses, so the
 * database rows do not change between backends.
 *
 * Complete-or-absent comes from S3 itself: a PUT (or a multipart upload's completion) makes the
 * object visible whole or not at all, so no temp-and-rename is needed. Reads stream: a result goes
 * to the booth or a browser chunk by chunk, never held whole in memory here.
 */
import { randomBytes } from "node:crypto";
import {
  checkKey,
  MEDIA_KINDS,
  type MediaKind,
  type MediaStore,
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

/** Sizes of whole-bucket listings are kept this long: /metrics and the dashboard poll them. */
const BYTES_CACHE_MS = 60_000;
/** S3 asks clients to retry its 500/503 answers (InternalError, SlowDown); every call here is idempotent. */
const RETRY_DELAYS_MS = [100, 400, 1200];
const TRANSIENT_CODES = new Set([
  "InternalError",
  "ServiceUnavailable",
  "SlowDown",
  "RequestTimeout",
  "ECONNRESET",
  "ConnectionClosed",
  "ETIMEDOUT",
]);

export class S3MediaStore implements MediaStore {
  readonly backend = "s3" as const;
  readonly location: string;
  private readonly client: Bun.S3Client;
  private bytesCache: { at: number; value: Record<MediaKind, number> } | null = null;

  /** `dataDir` is the local volume reported by diskUsage() (the bucket has no size to report). */
  constructor(
    settings: S3Settings,
    private readonly dataDir: string,
  ) {
    this.client = new Bun.S3Client({
      bucket: settings.bucket,
      ...(settings.endpoint ? { endpoint: settings.endpoint } : {}),
      ...(settings.accessKeyId ? { accessKeyId: settings.accessKeyId } : {}),
      ...(settings.secretAccessKey ? { secretAccessKey: settings.secretAccessKey } : {}),
      ...(settings.region ? { region: settings.region } : {}),
    });
    this.location = `s3://${settings.bucket}${settings.endpoint ? ` at ${settings.endpoint}` : ""}`;
  }

  /** A bucket has no directories to create. */
  ensureLayout(): void {}

  /** Every PUT is durable once S3 answers it, so `durable` changes nothing here. */
  async writeAtomic(key: string, bytes: Uint8Array, opts: WriteOptions = {}): Promise<string> {
    checkKey(key);
    await retried(() => this.client.write(key, bytes, opts.mime ? { type: opts.mime } : {}));
    this.bytesCache = null;
    return key;
  }

  async read(key: string): Promise<Uint8Array> {
    checkKey(key);
    return retried(() => this.client.file(key).bytes());
  }

  async body(key: string): Promise<ReadableStream<Uint8Array> | null> {
    // One HEAD first: a missing object must become a clean 404/410, not a stream that fails midway.
    if (!(await this.exists(key))) return null;
    return this.client.file(key).stream();
  }

  async exists(key: string): Promise<boolean> {
    checkKey(key);
    return retried(() => this.client.exists(key));
  }

  async size(key: string): Promise<number | null> {
    checkKey(key);
    try {
      return (await retried(() => this.client.stat(key))).size;
    } catch (err) {
      if (isMissing(err)) return null;
      throw err;
    }
  }

  async remove(key: string | null | undefined): Promise<number> {
    if (!key) return 0;
    const size = await this.size(key);
    if (size === null) return 0;
    await retried(() => this.client.delete(key));
    this.bytesCache = null;
    return size;
  }

  async list(kind: MediaKind): Promise<StoredFile[]> {
    const out: StoredFile[] = [];
    let continuationToken: string | undefined;
    do {
      const page = await retried(() =>
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

  async bytesByKind(): Promise<Record<MediaKind, number>> {
    if (this.bytesCache && Date.now() - this.bytesCache.at < BYTES_CACHE_MS) return this.bytesCache.value;
    const totals = { payloads: 0, results: 0, templates: 0, media: 0 } as Record<MediaKind, number>;
    for (const kind of MEDIA_KINDS) {
      for (const f of await this.list(kind)) totals[kind] += f.size;
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

  async probe(): Promise<void> {
    const key = `media/.readyz-${randomBytes(6).toString("hex")}`;
    try {
      await this.client.write(key, "ok");
      if ((await this.client.file(key).text()) !== "ok") throw new Error("the bucket returned other bytes");
    } finally {
      await this.client.delete(key).catch(() => {});
    }
  }
}

/** Runs an idempotent bucket call, again after a short pause when S3 answers with a transient error. */
async function retried<T>(call: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await call();
    } catch (err) {
      const code = (err as { code?: string } | null)?.code ?? "";
      const delay = RETRY_DELAYS_MS[attempt];
      if (delay === undefined || !TRANSIENT_CODES.has(code)) throw err;
      await Bun.sleep(delay);
    }
  }
}

export function isMissing(err: unknown): boolean {
  const code = (err as { code?: string } | null)?.code;
  return code === "NoSuchKey" || code === "ENOENT" || code === "NotFound";
}
