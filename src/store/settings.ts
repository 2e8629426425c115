/**
 * The `app_settings` table (drizzle): key → JSON value, with who changed it and when. Every write is
 * announced on SETTINGS_CHANNEL (postgres.js NOTIFY/LISTEN), so every instance's cache drops at once.
 */
import { eq, sql } from "drizzle-orm";
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

  /** The rows holding a value sealed with the master key (`{"sealed": "v1:…"}`): what a key rotation re-encrypts. */
  async sealed(): Promise<{ key: string; sealed: string }[]> {
    const rows = await this.db
      .select({ key: appSettings.key, value: appSettings.value })
      .from(appSettings)
      .where(sql`${appSettings.value} ? 'sealed'`);
    return rows.map((r) => ({ key: r.key, sealed: (r.value as { sealed: string }).sealed }));
  }

  /**
   * Replaces every sealed value and the master key's fingerprint in one transaction — a key
   * rotation commits whole or not at all — then announces the change. The rows keep who last set
   * them (a rotation changes no setting's meaning).
   */
  async reseal(
    values: { key: string; sealed: string }[],
    fingerprint: { key: string; value: string },
    now: Date,
  ) {
    await this.db.transaction(async (tx) => {
      for (const v of values) {
        const updated = await tx
          .update(appSettings)
          .set({ value: { sealed: v.sealed } as never })
          .where(eq(appSettings.key, v.key))
          .returning({ key: appSettings.key });
        if (!updated.length) throw new Error(`the setting ${v.key} disappeared during the rotation`);
      }
      await tx
        .insert(appSettings)
        .values({
          key: fingerprint.key,
          value: fingerprint.value as never,
          isSecret: false,
          updatedAt: now,
          updatedBy: "rotate-master-key",
        })
        .onConflictDoUpdate({
          target: appSettings.key,
          set: { value: fingerprint.value as never, updatedAt: now, updatedBy: "rotate-master-key" },
        });
    });
    for (const v of values) await this.announce(v.key);
    await this.announce(fingerprint.key);
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
