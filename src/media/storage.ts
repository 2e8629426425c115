/**
 * Media storage: payloads/ (ingest uploads, deleted at finalization), results/ (result + WebP
 * thumbnail), templates/<slot>/ (never purged), media/ (temporary public objects). The database
 * keeps keys relative to the store ("results/<job>.jpg"), the same in every backend, so a box can
 * move its media between backends (`photochanger media migrate`) without touching a row.
 *
 * Two backends behind one interface: the local directory MEDIA_ROOT (the default) and an
 * S3-compatible bucket (`S3_BUCKET`, src/media/s3.ts). Either way a write is complete or absent —
 * a reader never sees half a file — and the caller writes the database row only after it.
 */
import { randomBytes } from "node:crypto";
import { mkdirSync } from "node:fs";
import { open, readdir, rename, rm, stat, statfs } from "node:fs/promises";
import { dirname, join, posix, relative, resolve, sep } from "node:path";

export const MEDIA_KINDS = ["payloads", "results", "templates", "media"] as const;
export type MediaKind = (typeof MEDIA_KINDS)[number];

export interface StoredFile {
  /** The key, relative to the store (what the database keeps). */
  path: string;
  size: number;
  mtimeMs: number;
}

/** How long a call to a remote store (the bucket) may be tried again; the local disk ignores it. */
export interface CallOptions {
  /**
   * Wall-clock instant (ms since the epoch) until which a refused or timed-out call is tried again
   * — a job's deadline for the worker. Unset: a few seconds, and less while the store is failing.
   */
  until?: number;
}

export interface WriteOptions extends CallOptions {
  durable?: boolean;
  mime?: string;
  /**
   * Paid work (a result): a store with a spool (src/media/spool.ts) keeps the bytes there when the
   * bucket cannot take them by `until`, and returns the `spool/` key it is kept under.
   */
  spool?: boolean;
}

/** Whether the store's calls have been failing: for /readyz, status, the banner and /system. */
export interface MediaHealth {
  /** When the calls began to fail (null: the last call was answered). */
  failingSince: Date | null;
  /** The last failure's reason while failing. */
  error: string | null;
  /** Calls given up for lateness whose answer has not come (a hanging bucket). */
  unanswered: number;
}

/**
 * The store could not be reached in time: the bucket refused the connection, reset it, answered
 * "try again", or did not answer within the call's bound — and kept doing so until the caller's
 * deadline. Not the photo's fault: the caller answers 503 (or 504 with the job id), never 500.
 */
export class MediaUnavailable extends Error {
  override readonly name = "MediaUnavailable";

  constructor(
    readonly code: string,
    message: string,
    override readonly cause?: unknown,
  ) {
    super(`The media storage is unavailable: ${message}`);
  }
}

/** What every media backend offers. Keys are relative POSIX paths under one of MEDIA_KINDS. */
export interface MediaStore {
  readonly backend: "local" | "s3";
  /** Where the media are, for status and readiness output (a directory or `s3://bucket`). */
  readonly location: string;
  /** Creates what must exist before the first write (the directories of a local store). */
  ensureLayout(): void;
  /**
   * Stores the bytes at `key` (complete or absent; replaces an older object) and returns the key.
   * `durable: false` may skip flushing for objects that can be made again (thumbnails); `mime` is
   * the object's Content-Type where the backend keeps one.
   */
  writeAtomic(key: string, bytes: Uint8Array, opts?: WriteOptions): Promise<string>;
  /** The whole object; rejects when it is missing. */
  read(key: string, opts?: CallOptions): Promise<Uint8Array>;
  /**
   * A response body for the object, or null when it is missing. A local file goes out with
   * sendfile and a Content-Length; a bucket's object is read whole first (see S3MediaStore.body).
   */
  body(key: string, opts?: CallOptions): Promise<Blob | ReadableStream<Uint8Array> | null>;
  exists(key: string, opts?: CallOptions): Promise<boolean>;
  /** The object's size in bytes, or null when it is missing. */
  size(key: string, opts?: CallOptions): Promise<number | null>;
  /** Removes an object; returns its size in bytes, or 0 when it was already gone. */
  remove(key: string | null | undefined, opts?: CallOptions): Promise<number>;
  /** Every object under a kind (for orphan sweeps, the gauges and `media migrate`). */
  list(kind: MediaKind): Promise<StoredFile[]>;
  bytesByKind(): Promise<Record<MediaKind, number>>;
  /** Room left for new media: the volume's free bytes, or Infinity for a bucket (no quota we can see). */
  freeBytes(): Promise<number>;
  /** The local volume under the data: the media directory's, or for a bucket the data dir's. */
  diskUsage(): Promise<{ free: number; total: number }>;
  /** Writes, reads back and deletes a small object: proves the store takes writes right now (bounded). */
  probe(): Promise<void>;
  /** Whether calls are failing now (a local directory always answers). */
  health(): MediaHealth;
}

/** Refuses keys that are absolute, climb out of the store or are not in normal form. */
export function checkKey(key: string): string {
  if (
    !key ||
    key.startsWith("/") ||
    key.includes("\\") ||
    key.includes("\0") ||
    posix.normalize(key) !== key ||
    key === ".." ||
    key.startsWith("../")
  ) {
    throw new Error(`media path escapes the media root: ${key}`);
  }
  return key;
}

/** The directory MEDIA_ROOT (the default backend). */
export class LocalMediaStore implements MediaStore {
  readonly backend = "local" as const;
  readonly root: string;

  constructor(root: string) {
    this.root = resolve(root);
  }

  get location(): string {
    return this.root;
  }

  health(): MediaHealth {
    return { failingSince: null, error: null, unanswered: 0 };
  }

  ensureLayout(): void {
    for (const kind of MEDIA_KINDS) mkdirSync(join(this.root, kind), { recursive: true });
  }

  /** Absolute path of a stored relative path; refuses anything that escapes the root. */
  abs(relPath: string): string {
    const full = resolve(this.root, checkKey(relPath));
    if (full !== this.root && !full.startsWith(this.root + sep)) {
      throw new Error(`media path escapes the media root: ${relPath}`);
    }
    return full;
  }

  rel(absPath: string): string {
    return relative(this.root, absPath);
  }

  /**
   * Writes bytes at `relPath` (complete or absent) and returns the relative path. `durable: false`
   * skips both fsyncs, for files that can be made again from others (thumbnails): a crash may lose
   * them, never leave them half-written.
   */
  async writeAtomic(relPath: string, bytes: Uint8Array, opts: WriteOptions = {}): Promise<string> {
    const durable = opts.durable ?? true;
    const target = this.abs(relPath);
    const dir = dirname(target);
    mkdirSync(dir, { recursive: true });
    const tmp = `${target}.tmp-${randomBytes(6).toString("hex")}`;
    try {
      const fh = await open(tmp, "wx", 0o640);
      try {
        await fh.writeFile(bytes);
        if (durable) await fh.sync();
      } finally {
        await fh.close();
      }
      await rename(tmp, target);
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
    if (durable) await fsyncDir(dir);
    return relPath;
  }

  async read(relPath: string): Promise<Uint8Array> {
    return new Uint8Array(await Bun.file(this.abs(relPath)).arrayBuffer());
  }

  async body(relPath: string): Promise<Blob | null> {
    const file = Bun.file(this.abs(relPath));
    return (await file.exists()) ? file : null;
  }

  async exists(relPath: string): Promise<boolean> {
    return Bun.file(this.abs(relPath)).exists();
  }

  async size(relPath: string): Promise<number | null> {
    try {
      const s = await stat(this.abs(relPath));
      return s.isFile() ? s.size : null;
    } catch {
      return null;
    }
  }

  /** Removes a file; returns its size in bytes, or 0 when it was already gone. */
  async remove(relPath: string | null | undefined): Promise<number> {
    if (!relPath) return 0;
    const full = this.abs(relPath);
    try {
      const { size } = await stat(full);
      await rm(full, { force: true });
      return size;
    } catch {
      return 0;
    }
  }

  /** Every file under a kind's directory (relative paths), for orphan sweeps. */
  async list(kind: MediaKind): Promise<StoredFile[]> {
    const base = join(this.root, kind);
    const out: StoredFile[] = [];
    let entries: string[];
    try {
      entries = await readdir(base, { recursive: true });
    } catch {
      return out;
    }
    for (const entry of entries) {
      const full = join(base, entry);
      try {
        const s = await stat(full);
        if (s.isFile()) out.push({ path: this.rel(full), size: s.size, mtimeMs: s.mtimeMs });
      } catch {
        // vanished between readdir and stat
      }
    }
    return out;
  }

  async bytesByKind(): Promise<Record<MediaKind, number>> {
    const totals = { payloads: 0, results: 0, templates: 0, media: 0 } as Record<MediaKind, number>;
    for (const kind of MEDIA_KINDS) {
      for (const f of await this.list(kind)) totals[kind] += f.size;
    }
    return totals;
  }

  async freeBytes(): Promise<number> {
    const s = await statfs(this.root);
    return Number(s.bavail) * Number(s.bsize);
  }

  async diskUsage(): Promise<{ free: number; total: number }> {
    return volumeUsage(this.root);
  }

  async probe(): Promise<void> {
    const probe = join(this.root, `.readyz-${randomBytes(6).toString("hex")}`);
    try {
      await Bun.write(probe, "ok");
    } finally {
      await rm(probe, { force: true });
    }
  }
}

export async function volumeUsage(dir: string): Promise<{ free: number; total: number }> {
  const s = await statfs(dir);
  return { free: Number(s.bavail) * Number(s.bsize), total: Number(s.blocks) * Number(s.bsize) };
}

async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, "r");
  try {
    await fh.sync();
  } catch {
    // some filesystems refuse fsync on directories; the rename is still atomic
  } finally {
    await fh.close();
  }
}

/**
 * The bucket could not take or give the object — unreachable, hanging, refusing (credentials, no
 * such bucket) or failing past the retries. Not the photo's fault: the caller answers 503 (504 with
 * the job id once a job exists), never 500. A missing object is not an outage.
 */
export function isStorageUnavailable(err: unknown): boolean {
  if (err instanceof MediaUnavailable) return true;
  const e = err as { name?: string; code?: string } | null;
  return e?.name === "S3Error" && !["NoSuchKey", "NotFound"].includes(e.code ?? "");
}

export function isDiskFull(err: unknown): boolean {
  const code = (err as { code?: string } | null)?.code;
  return code === "ENOSPC" || code === "EDQUOT";
}
