/** The cleaner's own records (`cleanup_run`) and the gallery's share links (`share_link`), drizzle. */
import { and, desc, eq, gt, isNotNull, isNull } from "drizzle-orm";
import type { Db, Sql } from "../db/client";
import { cleanupRun, shareLink } from "../db/schema";

export type CleanupRunRow = typeof cleanupRun.$inferSelect;
export type ShareLinkRow = typeof shareLink.$inferSelect;

/**
 * The PostgreSQL advisory lock that lets one cleaner run at a time across every instance on the
 * database: the two-int4 form, (0x70686f74 = "phot", 1 = the cleaner). A session lock on a reserved
 * connection, so a crashed holder's lock goes with its connection.
 */
export const CLEANER_LOCK = [0x70686f74, 1] as const;
const LOCK_POLL_MS = 250;

export class CleanupRunStore {
  constructor(
    private readonly db: Db,
    private readonly sql: Sql,
  ) {}

  /**
   * Runs `fn` holding the cleaner lock. When another session holds it, tries again for up to
   * `waitMs` (0: once), then gives up with `{ ran: false }`.
   */
  async exclusive<T>(
    waitMs: number,
    fn: () => Promise<T>,
  ): Promise<{ ran: true; value: T } | { ran: false }> {
    const conn = await this.sql.reserve();
    try {
      const deadline = Date.now() + waitMs;
      for (;;) {
        const [row] = await conn<{ ok: boolean }[]>`
          select pg_try_advisory_lock(${CLEANER_LOCK[0]}, ${CLEANER_LOCK[1]}) as ok`;
        if (row?.ok) break;
        if (Date.now() >= deadline) return { ran: false };
        await Bun.sleep(LOCK_POLL_MS);
      }
      try {
        return { ran: true, value: await fn() };
      } finally {
        await conn`select pg_advisory_unlock(${CLEANER_LOCK[0]}, ${CLEANER_LOCK[1]})`.catch(() => {});
      }
    } finally {
      conn.release();
    }
  }

  async start(trigger: string, now: Date): Promise<number> {
    const [row] = await this.db.insert(cleanupRun).values({ startedAt: now, trigger }).returning();
    return row!.id;
  }

  async finish(id: number, now: Date, removed: Record<string, number>, error: string | null): Promise<void> {
    await this.db.update(cleanupRun).set({ finishedAt: now, removed, error }).where(eq(cleanupRun.id, id));
  }

  /** The last run started, finished or not (the banner and `/system`: a run that failed or hangs). */
  async lastStarted(): Promise<CleanupRunRow | null> {
    const [row] = await this.db.select().from(cleanupRun).orderBy(desc(cleanupRun.startedAt)).limit(1);
    return row ?? null;
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
