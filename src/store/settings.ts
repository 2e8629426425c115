/** The `app_settings` table (drizzle): key → JSON value, with who changed it and when. */
import { eq } from "drizzle-orm";
import type { Db } from "../db/client";
import { appSettings } from "../db/schema";

export type SettingRow = typeof appSettings.$inferSelect;

export class SettingsStore {
  constructor(private readonly db: Db) {}

  all(): Promise<SettingRow[]> {
    return this.db.select().from(appSettings);
  }

  async get(key: string): Promise<SettingRow | null> {
    const [row] = await this.db.select().from(appSettings).where(eq(appSettings.key, key));
    return row ?? null;
  }

  async put(key: string, value: unknown, by: string, isSecret: boolean, now: Date): Promise<void> {
    await this.db
      .insert(appSettings)
      .values({ key, value: value as never, isSecret, updatedAt: now, updatedBy: by })
      .onConflictDoUpdate({
        target: appSettings.key,
        set: { value: value as never, isSecret, updatedAt: now, updatedBy: by },
      });
  }

  /** Deletes a setting; true when there was one. */
  async remove(key: string): Promise<boolean> {
    const rows = await this.db
      .delete(appSettings)
      .where(eq(appSettings.key, key))
      .returning({ key: appSettings.key });
    return rows.length > 0;
  }
}
