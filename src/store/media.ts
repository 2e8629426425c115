/** Rows of the media files: temporary public objects (`media_object`) and templates (`template_media`). */
import { and, asc, eq, isNull, lte } from "drizzle-orm";
import type { Db } from "../db/client";
import { type MediaObjectRow, mediaObject, type TemplateMediaRow, templateMedia } from "../db/schema";
import type { SlotStore } from "./slots";

export type NewMediaObjectRow = typeof mediaObject.$inferInsert;
export type NewTemplateRow = typeof templateMedia.$inferInsert;

export class MediaObjectStore {
  constructor(private readonly db: Db) {}

  async insert(values: NewMediaObjectRow): Promise<MediaObjectRow> {
    const [row] = await this.db.insert(mediaObject).values(values).returning();
    return row!;
  }

  async get(id: string): Promise<MediaObjectRow | null> {
    const [row] = await this.db.select().from(mediaObject).where(eq(mediaObject.id, id));
    return row ?? null;
  }

  /** Marks every live object past its expiry deleted and returns them. */
  markExpiredDeleted(now: Date): Promise<MediaObjectRow[]> {
    return this.db
      .update(mediaObject)
      .set({ deletedAt: now })
      .where(and(lte(mediaObject.expiresAt, now), isNull(mediaObject.deletedAt)))
      .returning();
  }

  /** Live objects past their expiry (what a dry run would remove). */
  expired(now: Date): Promise<MediaObjectRow[]> {
    return this.db
      .select()
      .from(mediaObject)
      .where(and(lte(mediaObject.expiresAt, now), isNull(mediaObject.deletedAt)));
  }

  async livePaths(): Promise<string[]> {
    const rows = await this.db
      .select({ p: mediaObject.path })
      .from(mediaObject)
      .where(isNull(mediaObject.deletedAt));
    return rows.map((r) => r.p);
  }
}

export class TemplateRowStore {
  /**
   * A slot's templates as the booth's path reads them, while slot changes are announced (see
   * SlotStore): dropped here at once on a change made through this store, elsewhere by the
   * `template_changed` trigger's NOTIFY, and all of them when the listener reconnects.
   */
  private readonly cached = new Map<string, Promise<TemplateMediaRow[]>>();

  constructor(
    private readonly db: Db,
    private readonly slots?: Pick<SlotStore, "announcing" | "onForget">,
  ) {
    slots?.onForget((id) => (id === undefined ? this.cached.clear() : this.cached.delete(id)));
  }

  forSlot(slotId: string): Promise<TemplateMediaRow[]> {
    return this.db
      .select()
      .from(templateMedia)
      .where(eq(templateMedia.slotId, slotId))
      .orderBy(asc(templateMedia.createdAt));
  }

  /** `forSlot` through the cache while slot changes are announced (else a fresh read). */
  cachedForSlot(slotId: string): Promise<TemplateMediaRow[]> {
    if (!this.slots?.announcing) return this.forSlot(slotId);
    let hit = this.cached.get(slotId);
    if (!hit) {
      const read = this.forSlot(slotId);
      hit = read;
      this.cached.set(slotId, read);
      // A failed read is not remembered: the next booth asks the database again.
      read.catch(() => {
        if (this.cached.get(slotId) === read) this.cached.delete(slotId);
      });
    }
    return hit;
  }

  async insert(values: NewTemplateRow): Promise<TemplateMediaRow> {
    const [row] = await this.db.insert(templateMedia).values(values).returning();
    this.cached.delete(values.slotId);
    return row!;
  }

  async get(slotId: string, id: string): Promise<TemplateMediaRow | null> {
    const [row] = await this.db
      .select()
      .from(templateMedia)
      .where(and(eq(templateMedia.slotId, slotId), eq(templateMedia.id, id)));
    return row ?? null;
  }

  /** Deletes the row and returns it (its file goes next); null when there was none. */
  async remove(slotId: string, id: string): Promise<TemplateMediaRow | null> {
    const [row] = await this.db
      .delete(templateMedia)
      .where(and(eq(templateMedia.slotId, slotId), eq(templateMedia.id, id)))
      .returning();
    this.cached.delete(slotId);
    return row ?? null;
  }
}

/**
 * The media keys templates and live temporary objects point at, with the SHA-256 recorded for
 * templates (null for temporary objects). With the jobs' own (`JobStore.jobMediaRefs`), what
 * `media migrate` must move and verifies against.
 */
export async function storedMediaRefs(db: Db): Promise<Map<string, string | null>> {
  const refs = new Map<string, string | null>();
  for (const t of await db.select({ p: templateMedia.path, s: templateMedia.sha256 }).from(templateMedia)) {
    refs.set(t.p, t.s);
  }
  for (const m of await db
    .select({ p: mediaObject.path })
    .from(mediaObject)
    .where(isNull(mediaObject.deletedAt))) {
    refs.set(m.p, null);
  }
  return refs;
}
