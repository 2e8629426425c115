/** The `slot_preset` table (drizzle): style presets operators saved from a slot. */
import { asc, eq } from "drizzle-orm";
import type { Db } from "../db/client";
import { type SlotPresetRow, slotPreset } from "../db/schema";

export type PresetRow = SlotPresetRow;

export class PresetStore {
  constructor(private readonly db: Db) {}

  list(): Promise<PresetRow[]> {
    return this.db.select().from(slotPreset).orderBy(asc(slotPreset.createdAt), asc(slotPreset.id));
  }

  async get(id: string): Promise<PresetRow | null> {
    const [row] = await this.db.select().from(slotPreset).where(eq(slotPreset.id, id));
    return row ?? null;
  }

  async insert(p: PresetRow): Promise<PresetRow> {
    const [row] = await this.db.insert(slotPreset).values(p).returning();
    return row!;
  }

  /** The deleted row, or null when there was none. */
  async remove(id: string): Promise<PresetRow | null> {
    const [row] = await this.db.delete(slotPreset).where(eq(slotPreset.id, id)).returning();
    return row ?? null;
  }
}
