/**
 * Temporary public media objects: inputs served at GET /public/media/{id} to providers that fetch
 * by URL (Turbotext). The id is 256 random bits; an object lives until its job's deadline.
 */
import { randomBytes } from "node:crypto";
import type { MediaObjectRow } from "../db/schema";
import type { MediaObjectStore } from "../store/media";
import { EXT, type ImageFormat } from "./images";
import type { MediaStore } from "./storage";

export class MediaObjects {
  constructor(
    private readonly rows: MediaObjectStore,
    private readonly media: MediaStore,
  ) {}

  async create(input: {
    jobId: string | null;
    kind: string;
    bytes: Uint8Array;
    mime: string;
    format: ImageFormat;
    now: Date;
    expiresAt: Date;
  }): Promise<MediaObjectRow> {
    const id = randomBytes(32).toString("base64url");
    const path = await this.media.writeAtomic(`media/${id}.${EXT[input.format]}`, input.bytes);
    return this.rows.insert({
      id,
      jobId: input.jobId,
      kind: input.kind,
      path,
      mime: input.mime,
      sizeBytes: input.bytes.byteLength,
      createdAt: input.now,
      expiresAt: input.expiresAt,
    });
  }

  get(id: string): Promise<MediaObjectRow | null> {
    return this.rows.get(id);
  }

  /** Paths of the objects still live (their files must stay). */
  async livePaths(): Promise<Set<string>> {
    return new Set(await this.rows.livePaths());
  }

  /** Deletes every object past its expiry (the cleaner); returns count and bytes. */
  async removeExpired(now: Date): Promise<{ count: number; bytes: number }> {
    const rows = await this.rows.markExpiredDeleted(now);
    let bytes = 0;
    for (const r of rows) bytes += await this.media.remove(r.path);
    return { count: rows.length, bytes };
  }
}
