/**
 * Files under MEDIA_ROOT: payloads/ (ingest uploads, deleted at finalization), results/ (result +
 * WebP thumbnail), templates/<slot>/ (never purged), media/ (temporary public objects).
 * Writes are crash-safe: temp file in the same directory, fsync, rename, fsync the directory — and
 * only then does the caller write the database row. Paths in the database are relative to the root.
 */
import { randomBytes } from "node:crypto";
import { mkdirSync } from "node:fs";
import { open, readdir, rename, rm, stat, statfs } from "node:fs/promises";
import { dirname, join, relative, resolve, sep } from "node:path";

export const MEDIA_KINDS = ["payloads", "results", "templates", "media"] as const;
export type MediaKind = (typeof MEDIA_KINDS)[number];

export class MediaStore {
  readonly root: string;

  constructor(root: string) {
    this.root = resolve(root);
  }

  ensureLayout(): void {
    for (const kind of MEDIA_KINDS) mkdirSync(join(this.root, kind), { recursive: true });
  }

  /** Absolute path of a stored relative path; refuses anything that escapes the root. */
  abs(relPath: string): string {
    const full = resolve(this.root, relPath);
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
  async writeAtomic(relPath: string, bytes: Uint8Array, opts: { durable?: boolean } = {}): Promise<string> {
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

  async exists(relPath: string): Promise<boolean> {
    return Bun.file(this.abs(relPath)).exists();
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
  async list(kind: MediaKind): Promise<{ path: string; size: number; mtimeMs: number }[]> {
    const base = join(this.root, kind);
    const out: { path: string; size: number; mtimeMs: number }[] = [];
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
    const s = await statfs(this.root);
    return { free: Number(s.bavail) * Number(s.bsize), total: Number(s.blocks) * Number(s.bsize) };
  }
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

export function isDiskFull(err: unknown): boolean {
  const code = (err as { code?: string } | null)?.code;
  return code === "ENOSPC" || code === "EDQUOT";
}
