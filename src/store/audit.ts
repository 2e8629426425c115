/** The `audit_log` table (drizzle): who changed what and when. Append-only. */
import { desc } from "drizzle-orm";
import type { Db } from "../db/client";
import { auditLog } from "../db/schema";

export type AuditRow = typeof auditLog.$inferSelect;

export class AuditStore {
  constructor(private readonly db: Db) {}

  async append(actor: string, action: string, details: Record<string, unknown>, at: Date): Promise<void> {
    await this.db.insert(auditLog).values({ occurredAt: at, actor, action, details });
  }

  /** The newest entries first. */
  recent(limit: number): Promise<AuditRow[]> {
    return this.db.select().from(auditLog).orderBy(desc(auditLog.occurredAt), desc(auditLog.id)).limit(limit);
  }
}
