/** The `slot` table (drizzle). The 15 rows are seeded by the first migration; only updated here. */
import { and, asc, eq, sql } from "drizzle-orm";
import type { Db } from "../db/client";
import { type SlotRow, slot } from "../db/schema";

/** The columns an update may change. */
export type SlotChanges = Pick<
  SlotRow,
  "name" | "enabled" | "provider" | "operation" | "settings" | "fallback" | "sizeLimitMb" | "outputFormat"
>;

export class SlotStore {
  constructor(private readonly db: Db) {}

  async get(id: string): Promise<SlotRow | null> {
    const [row] = await this.db.select().from(slot).where(eq(slot.id, id));
    return row ?? null;
  }

  list(): Promise<SlotRow[]> {
    return this.db.select().from(slot).orderBy(asc(slot.id));
  }

  /** Writes the changes and bumps the version only if the row still has `version`; null otherwise. */
  async updateIfVersion(
    id: string,
    version: number,
    changes: SlotChanges,
    by: string,
    now: Date,
  ): Promise<SlotRow | null> {
    const [row] = await this.db
      .update(slot)
      .set({ ...changes, version: sql`${slot.version} + 1`, updatedBy: by, updatedAt: now })
      .where(and(eq(slot.id, id), eq(slot.version, version)))
      .returning();
    return row ?? null;
  }

  /** The `settings.model` most enabled slots of the provider use (ties: the lowest slot id), or null. */
  async mostUsedModel(provider: string): Promise<string | null> {
    const model = sql<string>`${slot.settings}->>'model'`;
    const [row] = await this.db
      .select({ model })
      .from(slot)
      .where(and(eq(slot.provider, provider), eq(slot.enabled, true), sql`${model} is not null`))
      .groupBy(model)
      .orderBy(sql`count(*) desc`, sql`min(${slot.id})`)
      .limit(1);
    return row?.model ?? null;
  }

  async resetStats(id: string, now: Date): Promise<SlotRow | null> {
    const [row] = await this.db.update(slot).set({ statsResetAt: now }).where(eq(slot.id, id)).returning();
    return row ?? null;
  }
}
