/** The `slot` table (drizzle). The 15 rows are seeded by the first migration; only updated here. */
import { and, asc, eq, sql } from "drizzle-orm";
import type { Db, Sql } from "../db/client";
import { type SlotRow, slot } from "../db/schema";

/** The columns an update may change. */
export type SlotChanges = Pick<
  SlotRow,
  "name" | "enabled" | "provider" | "operation" | "settings" | "fallback" | "sizeLimitMb" | "outputFormat"
>;

/**
 * Announced by the `slot_changed` trigger (migration 0013) for every update of a slot, and by
 * `template_changed` (migration 0015) for every change of a slot's templates.
 */
const SLOT_CHANNEL = "photochanger_slot";

export class SlotStore {
  /**
   * Slots as the booth's path reads them, dropped when a slot changes: here at once (updates made
   * through this store), elsewhere by the trigger's NOTIFY — and all of them when the listener
   * reconnects (a change may have been announced meanwhile). Admin pages read fresh rows (`get`).
   */
  private readonly cached = new Map<string, Promise<SlotRow | null>>();
  /** The rows of `cached` that have arrived (what `peek` answers without waiting). */
  private readonly known = new Map<string, SlotRow | null>();
  private listening = false;
  /** Caches of things that belong to a slot (its templates), dropped with it. */
  private readonly dependents = new Set<(id?: string) => void>();

  constructor(
    private readonly db: Db,
    private readonly sql?: Sql,
  ) {}

  async get(id: string): Promise<SlotRow | null> {
    const [row] = await this.db.select().from(slot).where(eq(slot.id, id));
    return row ?? null;
  }

  /** `get` through the cache while this process listens for slot changes (else a fresh read). */
  cachedGet(id: string): Promise<SlotRow | null> {
    if (!this.listening) return this.get(id);
    let hit = this.cached.get(id);
    if (!hit) {
      const read = this.get(id);
      hit = read;
      this.cached.set(id, read);
      read.then(
        (row) => {
          if (this.cached.get(id) === read) this.known.set(id, row);
        },
        // A failed read is not remembered: the next booth asks the database again.
        () => {
          if (this.cached.get(id) === read) this.cached.delete(id);
        },
      );
    }
    return hit;
  }

  /**
   * The cached row, if one has arrived (`undefined`: not cached). No database call, so no sign of
   * the database's health either way — callers must not take it as an answer from it.
   */
  peek(id: string): SlotRow | null | undefined {
    return this.listening ? this.known.get(id) : undefined;
  }

  /** True while slot changes are announced to this process (caches of slot data may be used). */
  get announcing(): boolean {
    return this.listening;
  }

  /** `fn` is told whenever a slot's cached data must go (`id` undefined: every slot's). */
  onForget(fn: (id?: string) => void): void {
    this.dependents.add(fn);
  }

  private forget(id?: string): void {
    for (const fn of this.dependents) fn(id);
    if (id === undefined) {
      this.cached.clear();
      this.known.clear();
    } else {
      this.cached.delete(id);
      this.known.delete(id);
    }
  }

  /** Starts the cache: LISTEN for slot changes (see cachedGet). */
  async listen(): Promise<{ unlisten(): Promise<void> }> {
    if (!this.sql) throw new Error("SlotStore.listen needs the queue's connection");
    const sub = await this.sql.listen(
      SLOT_CHANNEL,
      (id) => this.forget(id),
      () => this.forget(),
    );
    this.listening = true;
    return {
      unlisten: async () => {
        this.listening = false;
        this.forget();
        await sub.unlisten().catch(() => {});
      },
    };
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
    this.forget(id);
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
    this.forget(id);
    return row ?? null;
  }
}
