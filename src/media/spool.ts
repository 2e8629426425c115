/**
 * The result spool: paid work the bucket could not take in time, kept on this machine's disk
 * (`<data dir>/media-spool/`) until the bucket takes it.
 *
 * The design, chosen for being the simplest that stays correct with one finalizing statement: the
 * worker finalizes its job `succeeded` as usual, but with a result path that says where the bytes
 * are — `spool/results/<job>.a<n>.<ext>` instead of `results/<job>.a<n>.<ext>`. The media store
 * (SpooledMediaStore, wrapping the bucket) serves a `spool/` key from the local spool, so the booth
 * still gets its image, and the gallery link works, on this instance at once. When the bucket is
 * back, the drain (src/queue/spool-drain.ts) uploads the file to the key without the prefix, points
 * the job at it (one conditional UPDATE) and deletes the local copy. Nothing else changes state:
 * the sweepers see an ordinary succeeded job, the cleaner removes a spooled result through the same
 * store like any other, and a `spool/` key is never looked for in the bucket under its own name.
 *
 * Another instance asked for a `spool/` key it does not hold looks for the uploaded object; until
 * it is there the answer is "not available yet" (MediaUnavailable: 503), never 404 or 410.
 *
 * The spool is bounded: past MEDIA_SPOOL_MAX_MB, or with less than SPOOL_DISK_RESERVE_BYTES left
 * on the data dir's volume, a result is refused (logged as `media.spool_full`) and its job fails as
 * `storage_full` rather than filling the disk.
 */
import { join } from "node:path";
import type { Logger } from "../lib/log";
import {
  type CallOptions,
  isStorageUnavailable,
  LocalMediaStore,
  type MediaHealth,
  type MediaKind,
  type MediaStore,
  MediaUnavailable,
  type StoredFile,
  volumeUsage,
  type WriteOptions,
} from "./storage";

export const SPOOL_PREFIX = "spool/";
export const SPOOL_DIR = "media-spool";
/** The spool never takes the data dir's volume below this much free space. */
export const SPOOL_DISK_RESERVE_BYTES = 256 * 1024 * 1024;

/** The spool is full (its cap, or the disk under it): the result cannot be kept. */
export class SpoolFull extends Error {
  override readonly name = "SpoolFull";
  readonly code = "ESPOOLFULL";
}

export function isSpoolKey(key: string | null | undefined): key is string {
  return !!key?.startsWith(SPOOL_PREFIX);
}

/** The bucket key a spooled result is uploaded to. */
export function bucketKeyOf(spoolKey: string): string {
  return spoolKey.slice(SPOOL_PREFIX.length);
}

export interface SpoolStats {
  files: number;
  bytes: number;
  maxBytes: number;
  /** When the oldest waiting result was spooled. */
  oldest: Date | null;
}

/** The local directory of spooled results (keys inside it have no `spool/` prefix). */
export class ResultSpool {
  readonly dir: string;
  private readonly files: LocalMediaStore;

  constructor(
    dataDir: string,
    readonly maxBytes: number,
    private readonly log: Logger,
  ) {
    this.dir = join(dataDir, SPOOL_DIR);
    this.files = new LocalMediaStore(this.dir);
  }

  /** Keeps the result (durably: it is paid work) and returns its `spool/` key. */
  async keep(key: string, bytes: Uint8Array): Promise<string> {
    const { bytes: held } = await this.stats();
    const { free } = await volumeUsage(this.dataVolume()).catch(() => ({ free: 0 }));
    if (held + bytes.byteLength > this.maxBytes || free - bytes.byteLength < SPOOL_DISK_RESERVE_BYTES) {
      this.log.error("media.spool_full", {
        key,
        bytes: bytes.byteLength,
        spool_bytes: held,
        spool_max_bytes: this.maxBytes,
        disk_free_bytes: free,
      });
      throw new SpoolFull(
        `The result spool is full (${held} of ${this.maxBytes} bytes, ${free} bytes free on its disk) ` +
          "while the media bucket is unreachable",
      );
    }
    await this.files.writeAtomic(key, bytes);
    this.log.warn("media.spooled", { key, bytes: bytes.byteLength });
    return `${SPOOL_PREFIX}${key}`;
  }

  /** The spooled results waiting (oldest first), as `spool/` keys. */
  async waiting(): Promise<StoredFile[]> {
    const found = await this.files.list("results");
    return found
      .filter((f) => !f.path.includes(".tmp-"))
      .map((f) => ({ ...f, path: `${SPOOL_PREFIX}${f.path}` }))
      .sort((a, b) => a.mtimeMs - b.mtimeMs);
  }

  async stats(): Promise<SpoolStats> {
    const found = await this.waiting();
    return {
      files: found.length,
      bytes: found.reduce((n, f) => n + f.size, 0),
      maxBytes: this.maxBytes,
      oldest: found.length ? new Date(found[0]!.mtimeMs) : null,
    };
  }

  read(spoolKey: string): Promise<Uint8Array> {
    return this.files.read(bucketKeyOf(spoolKey));
  }

  body(spoolKey: string): Promise<Blob | null> {
    return this.files.body(bucketKeyOf(spoolKey));
  }

  size(spoolKey: string): Promise<number | null> {
    return this.files.size(bucketKeyOf(spoolKey));
  }

  remove(spoolKey: string): Promise<number> {
    return this.files.remove(bucketKeyOf(spoolKey));
  }

  /** The volume the spool lives on (its directory may not exist before the first result). */
  private dataVolume(): string {
    return join(this.dir, "..");
  }
}

/**
 * The bucket, with the result spool in front of it for `spool/` keys (see the file's header). A
 * write asked to `spool` goes to the spool when the bucket cannot take it by the write's deadline.
 */
export class SpooledMediaStore implements MediaStore {
  readonly backend: "local" | "s3";
  readonly location: string;

  constructor(
    readonly bucket: MediaStore,
    readonly spool: ResultSpool,
  ) {
    this.backend = bucket.backend;
    this.location = bucket.location;
  }

  ensureLayout(): void {
    this.bucket.ensureLayout();
  }

  health(): MediaHealth {
    return this.bucket.health();
  }

  async writeAtomic(key: string, bytes: Uint8Array, opts: WriteOptions = {}): Promise<string> {
    try {
      return await this.bucket.writeAtomic(key, bytes, opts);
    } catch (err) {
      if (!opts.spool || !isStorageUnavailable(err)) throw err;
      return this.spool.keep(key, bytes);
    }
  }

  async read(key: string, opts?: CallOptions): Promise<Uint8Array> {
    if (!isSpoolKey(key)) return this.bucket.read(key, opts);
    try {
      return await this.spool.read(key);
    } catch {
      return this.uploaded(key, () => this.bucket.read(bucketKeyOf(key), opts));
    }
  }

  async body(key: string, opts?: CallOptions) {
    if (!isSpoolKey(key)) return this.bucket.body(key, opts);
    return (await this.spool.body(key)) ?? this.uploaded(key, () => this.bucket.body(bucketKeyOf(key), opts));
  }

  async exists(key: string, opts?: CallOptions): Promise<boolean> {
    return (await this.size(key, opts)) !== null;
  }

  async size(key: string, opts?: CallOptions): Promise<number | null> {
    if (!isSpoolKey(key)) return this.bucket.size(key, opts);
    return (await this.spool.size(key)) ?? this.uploaded(key, () => this.bucket.size(bucketKeyOf(key), opts));
  }

  /** A spooled result held elsewhere is the drain's to remove (its job no longer points at it). */
  async remove(key: string | null | undefined, opts?: CallOptions): Promise<number> {
    if (!isSpoolKey(key)) return this.bucket.remove(key, opts);
    return this.spool.remove(key);
  }

  list(kind: MediaKind): Promise<StoredFile[]> {
    return this.bucket.list(kind);
  }

  bytesByKind(): Promise<Record<MediaKind, number>> {
    return this.bucket.bytesByKind();
  }

  freeBytes(): Promise<number> {
    return this.bucket.freeBytes();
  }

  diskUsage(): Promise<{ free: number; total: number }> {
    return this.bucket.diskUsage();
  }

  probe(): Promise<void> {
    return this.bucket.probe();
  }

  /**
   * A `spool/` key this instance does not hold: the drain (here or on the instance that spooled
   * it) may have uploaded it already, under the key without the prefix. Not there yet: the result
   * is waiting in another instance's spool — not available now, but not gone either.
   */
  private async uploaded<T>(key: string, fetch: () => Promise<T | null>): Promise<T> {
    const found = await fetch().catch((err) => {
      if (isStorageUnavailable(err)) throw err;
      return null;
    });
    if (found !== null) return found;
    throw new MediaUnavailable("Spooled", `${key} is waiting in another instance's spool for the bucket`);
  }
}

/** What the operator pages show about media: whether the store's calls fail, and what waits in the spool. */
export interface MediaState {
  backend: "local" | "s3";
  location: string;
  health: MediaHealth;
  spool: SpoolStats | null;
}

export async function mediaState(media: MediaStore): Promise<MediaState> {
  return {
    backend: media.backend,
    location: media.location,
    health: media.health(),
    spool: media instanceof SpooledMediaStore ? await media.spool.stats().catch(() => null) : null,
  };
}
