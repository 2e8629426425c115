/** The `audit_log` table (drizzle): who changed what and when. Append-only. */
import { and, count, desc, eq } from "drizzle-orm";
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

  /** One page of the log, newest first, filtered by actor and action; and how many entries match. */
  async page(opts: {
    page: number;
    pageSize: number;
    actor?: string;
    action?: string;
  }): Promise<{ rows: AuditRow[]; total: number }> {
    const where = and(
      opts.actor ? eq(auditLog.actor, opts.actor) : undefined,
      opts.action ? eq(auditLog.action, opts.action) : undefined,
    );
    const [rows, [counted]] = await Promise.all([
      this.db
        .select()
        .from(auditLog)
        .where(where)
        .orderBy(desc(auditLog.occurredAt), desc(auditLog.id))
        .limit(opts.pageSize)
        .offset((opts.page - 1) * opts.pageSize),
      this.db.select({ n: count() }).from(auditLog).where(where),
    ]);
    return { rows, total: counted?.n ?? 0 };
  }

  /** Every action the log holds, for the page's filter. */
  async actions(): Promise<string[]> {
    const rows = await this.db
      .selectDistinct({ action: auditLog.action })
      .from(auditLog)
      .orderBy(auditLog.action);
    return rows.map((r) => r.action);
  }
}
