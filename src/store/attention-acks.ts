/**
 * The `attention_ack` table (drizzle): which banner each admin acknowledged, in which condition
 * (its fingerprint). One row per admin and banner; a newer acknowledgement replaces the older.
 */
import { and, eq, inArray, lt, or } from "drizzle-orm";
import type { Db } from "../db/client";
import { attentionAck } from "../db/schema";

export type AttentionAckRow = typeof attentionAck.$inferSelect;

export class AttentionAckStore {
  constructor(private readonly db: Db) {}

  forUser(username: string): Promise<AttentionAckRow[]> {
    return this.db.select().from(attentionAck).where(eq(attentionAck.username, username));
  }

  async put(username: string, key: string, fingerprint: string, at: Date): Promise<void> {
    await this.db
      .insert(attentionAck)
      .values({ username, key, fingerprint, acknowledgedAt: at })
      .onConflictDoUpdate({
        target: [attentionAck.username, attentionAck.key],
        set: { fingerprint, acknowledgedAt: at },
      });
  }

  /** Forgets the admin's acknowledgements of `keys`, and any older than `before`. */
  async forget(username: string, keys: string[], before: Date): Promise<void> {
    await this.db
      .delete(attentionAck)
      .where(
        and(
          eq(attentionAck.username, username),
          or(
            keys.length ? inArray(attentionAck.key, keys) : undefined,
            lt(attentionAck.acknowledgedAt, before),
          ),
        ),
      );
  }
}
