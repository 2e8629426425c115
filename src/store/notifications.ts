/**
 * The `notification_log` table (drizzle): every notification sent — test sends and real ones — one
 * row per target with its result, for `/system`'s history. It keeps itself short: each write drops
 * what is beyond the newest KEPT rows, so no cleaner is needed for it.
 */
import { desc, lt } from "drizzle-orm";
import type { Db } from "../db/client";
import { notificationLog } from "../db/schema";

export type NotificationRow = typeof notificationLog.$inferSelect;
export type NewNotificationRow = typeof notificationLog.$inferInsert;

/** Rows kept: far more than the page shows, little enough to never matter. */
const KEPT = 500;

export class NotificationLogStore {
  constructor(private readonly db: Db) {}

  async record(rows: NewNotificationRow[]): Promise<void> {
    if (!rows.length) return;
    const inserted = await this.db.insert(notificationLog).values(rows).returning({ id: notificationLog.id });
    const newest = Math.max(...inserted.map((r) => r.id));
    await this.db.delete(notificationLog).where(lt(notificationLog.id, newest - KEPT));
  }

  /** The newest first. */
  recent(limit: number): Promise<NotificationRow[]> {
    return this.db
      .select()
      .from(notificationLog)
      .orderBy(desc(notificationLog.sentAt), desc(notificationLog.id))
      .limit(limit);
  }
}
