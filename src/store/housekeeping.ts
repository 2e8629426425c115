/** The cleaner's own records (`cleanup_run`) and the gallery's share links (`share_link`), drizzle. */
import { and, desc, eq, gt, isNotNull, isNull } from "drizzle-orm";
import type { Db } from "../db/client";
import { cleanupRun, shareLink } from "../db/schema";

export type CleanupRunRow = typeof cleanupRun.$inferSelect;
export type ShareLinkRow = typeof shareLink.$inferSelect;

export class CleanupRunStore {
  constructor(private readonly db: Db) {}

  async start(trigger: string, now: Date): Promise<number> {
    const [row] = await this.db.insert(cleanupRun).values({ startedAt: now, trigger }).returning();
    return row!.id;
  }

  async finish(id: number, now: Date, removed: Record<string, number>, error: string | null): Promise<void> {
    await this.db.update(cleanupRun).set({ finishedAt: now, removed, error }).where(eq(cleanupRun.id, id));
  }

  /** The last finished run (for `status`, `/metrics` and the settings page). */
  async last(): Promise<CleanupRunRow | null> {
    const [row] = await this.db
      .select()
      .from(cleanupRun)
      .where(isNotNull(cleanupRun.finishedAt))
      .orderBy(desc(cleanupRun.finishedAt))
      .limit(1);
    return row ?? null;
  }
}

export class ShareLinkStore {
  constructor(private readonly db: Db) {}

  async insert(values: typeof shareLink.$inferInsert): Promise<ShareLinkRow> {
    const [row] = await this.db.insert(shareLink).values(values).returning();
    return row!;
  }

  active(now: Date): Promise<ShareLinkRow[]> {
    return this.db
      .select()
      .from(shareLink)
      .where(and(isNull(shareLink.revokedAt), gt(shareLink.expiresAt, now)))
      .orderBy(desc(shareLink.createdAt));
  }

  async revoke(id: string, now: Date): Promise<void> {
    await this.db
      .update(shareLink)
      .set({ revokedAt: now })
      .where(and(eq(shareLink.id, id), isNull(shareLink.revokedAt)));
  }

  async get(id: string): Promise<ShareLinkRow | null> {
    const [row] = await this.db.select().from(shareLink).where(eq(shareLink.id, id));
    return row ?? null;
  }
}
