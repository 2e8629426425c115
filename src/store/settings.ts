/**
 * The `app_settings` table (drizzle): key → JSON value, with who changed it and when. Every write is
 * announced on SETTINGS_CHANNEL (postgres.js NOTIFY/LISTEN), so every instance's cache drops at once.
 */
import { eq } from "drizzle-orm";
import type { Db, Sql } from "../db/client";
import { appSettings } from "../db/schema";

export type SettingRow = typeof appSettings.$inferSelect;

/** NOTIFY channel: the payload is the changed key (a hint; listeners re-read every setting). */
export const SETTINGS_CHANNEL = "photochanger_settings";

export class SettingsStore {
  constructor(
    private readonly db: Db,
    private readonly sql: Sql,
  ) {}

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
    await this.announce(key);
  }

  /** Deletes a setting; true when there was one. */
  async remove(key: string): Promise<boolean> {
    const rows = await this.db
      .delete(appSettings)
      .where(eq(appSettings.key, key))
      .returning({ key: appSettings.key });
    if (rows.length) await this.announce(key);
    return rows.length > 0;
  }

  /** Tells every instance (this one included) that `key` changed. */
  private async announce(key: string): Promise<void> {
    await this.sql`select pg_notify(${SETTINGS_CHANNEL}, ${key})`;
  }

  /** Calls `onChanged` on every announced change; `onConnected` after each (re)connect. */
  async listen(handlers: { onChanged(key: string): void; onConnected?(): void }) {
    const sub = await this.sql.listen(
      SETTINGS_CHANNEL,
      (key) => handlers.onChanged(key),
      () => handlers.onConnected?.(),
    );
    return { unlisten: () => sub.unlisten().catch(() => {}) };
  }
}
