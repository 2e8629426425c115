/**
 * Admin accounts, sessions and failed-attempt records (drizzle): `admin_user`, `admin_session`,
 * `auth_failure`.
 */
import { and, asc, eq, gt, isNull, lt } from "drizzle-orm";
import type { Db } from "../db/client";
import { adminSession, adminUser, authFailure } from "../db/schema";

export type AdminUserRow = typeof adminUser.$inferSelect;

export class AuthStore {
  constructor(private readonly db: Db) {}

  // ---- admin_user ----

  async usernames(): Promise<string[]> {
    return (await this.db.select({ u: adminUser.username }).from(adminUser)).map((r) => r.u);
  }

  async user(username: string): Promise<AdminUserRow | null> {
    const [row] = await this.db.select().from(adminUser).where(eq(adminUser.username, username));
    return row ?? null;
  }

  /** Creates the user unless it exists; true when created. */
  async createUser(username: string, passwordHash: string, scopes: string[]): Promise<boolean> {
    const rows = await this.db
      .insert(adminUser)
      .values({ username, passwordHash, scopes })
      .onConflictDoNothing()
      .returning({ u: adminUser.username });
    return rows.length > 0;
  }

  /** Sets the password of a user, creating the user with `scopes` if it does not exist yet. */
  async setPassword(username: string, passwordHash: string, scopes: string[], now: Date): Promise<void> {
    await this.db
      .insert(adminUser)
      .values({ username, passwordHash, scopes, passwordUpdatedAt: now })
      .onConflictDoUpdate({ target: adminUser.username, set: { passwordHash, passwordUpdatedAt: now } });
  }

  /** Replaces a user's scopes; false when there is no such user. */
  async setScopes(username: string, scopes: string[]): Promise<boolean> {
    const rows = await this.db
      .update(adminUser)
      .set({ scopes })
      .where(eq(adminUser.username, username))
      .returning({ u: adminUser.username });
    return rows.length > 0;
  }

  // ---- admin_session ----

  async createSession(s: {
    id: string;
    username: string;
    createdAt: Date;
    expiresAt: Date;
    clientIp: string | null;
  }): Promise<void> {
    await this.db.insert(adminSession).values(s);
  }

  /** The scopes of the session's user if the session is live (not revoked, not expired) at `now`. */
  async liveSessionScopes(id: string, username: string, now: Date): Promise<string[] | null> {
    const [row] = await this.db
      .select({ scopes: adminUser.scopes })
      .from(adminSession)
      .innerJoin(adminUser, eq(adminUser.username, adminSession.username))
      .where(
        and(
          eq(adminSession.id, id),
          eq(adminSession.username, username),
          isNull(adminSession.revokedAt),
          gt(adminSession.expiresAt, now),
        ),
      );
    return row ? row.scopes : null;
  }

  async revokeSession(id: string, now: Date): Promise<void> {
    await this.db.update(adminSession).set({ revokedAt: now }).where(eq(adminSession.id, id));
  }

  // ---- auth_failure ----

  /** When the failures of `scope`/`key` after `since` happened, oldest first. */
  async failuresSince(scope: string, key: string, since: Date): Promise<Date[]> {
    const rows = await this.db
      .select({ at: authFailure.occurredAt })
      .from(authFailure)
      .where(and(eq(authFailure.scope, scope), eq(authFailure.key, key), gt(authFailure.occurredAt, since)))
      .orderBy(asc(authFailure.occurredAt));
    return rows.map((r) => r.at);
  }

  async recordFailure(scope: string, key: string, at: Date): Promise<void> {
    await this.db.insert(authFailure).values({ scope, key, occurredAt: at });
  }

  async clearFailures(scope: string, key: string): Promise<void> {
    await this.db.delete(authFailure).where(and(eq(authFailure.scope, scope), eq(authFailure.key, key)));
  }

  /** Drops failures older than `before`; returns how many. */
  async pruneFailures(before: Date): Promise<number> {
    const rows = await this.db
      .delete(authFailure)
      .where(lt(authFailure.occurredAt, before))
      .returning({ id: authFailure.id });
    return rows.length;
  }
}
