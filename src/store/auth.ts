/**
 * Admin accounts, sessions, failed-attempt records and attempt counters (drizzle): `admin_user`,
 * `admin_session`, `auth_failure`, `auth_throttle`.
 */
import { and, asc, desc, eq, gt, isNull, lt, ne, sql } from "drizzle-orm";
import type { Db } from "../db/client";
import { adminSession, adminUser, authFailure, authThrottle } from "../db/schema";

export type AdminUserRow = typeof adminUser.$inferSelect;

export interface SessionRow {
  id: string;
  createdAt: Date;
  expiresAt: Date;
  clientIp: string | null;
}

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

  /** The admin's live sessions, newest first. */
  activeSessions(username: string, now: Date): Promise<SessionRow[]> {
    return this.db
      .select({
        id: adminSession.id,
        createdAt: adminSession.createdAt,
        expiresAt: adminSession.expiresAt,
        clientIp: adminSession.clientIp,
      })
      .from(adminSession)
      .where(
        and(
          eq(adminSession.username, username),
          isNull(adminSession.revokedAt),
          gt(adminSession.expiresAt, now),
        ),
      )
      .orderBy(desc(adminSession.createdAt));
  }

  /** Revokes one of the admin's own sessions; false when it is not theirs or already ended. */
  async revokeOwnSession(username: string, sessionId: string, now: Date): Promise<boolean> {
    const rows = await this.db
      .update(adminSession)
      .set({ revokedAt: now })
      .where(
        and(
          eq(adminSession.id, sessionId),
          eq(adminSession.username, username),
          isNull(adminSession.revokedAt),
        ),
      )
      .returning({ id: adminSession.id });
    return rows.length > 0;
  }

  /** Revokes every live session of the admin, but `keep` when given; returns how many it ended. */
  async revokeSessions(username: string, keep: string | null, now: Date): Promise<number> {
    const rows = await this.db
      .update(adminSession)
      .set({ revokedAt: now })
      .where(
        and(
          eq(adminSession.username, username),
          isNull(adminSession.revokedAt),
          keep ? ne(adminSession.id, keep) : undefined,
        ),
      )
      .returning({ id: adminSession.id });
    return rows.length;
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

  /** Drops failures (and attempt windows) older than `before`; returns how many failures. */
  async pruneFailures(before: Date): Promise<number> {
    const rows = await this.db
      .delete(authFailure)
      .where(lt(authFailure.occurredAt, before))
      .returning({ id: authFailure.id });
    await this.db.delete(authThrottle).where(lt(authThrottle.windowStartedAt, before));
    return rows.length;
  }

  // ---- auth_throttle ----

  /** The attempt window of `scope`/`key`, if any. */
  async attempts(scope: string, key: string): Promise<{ attempts: number; since: Date } | null> {
    const [row] = await this.db
      .select({ attempts: authThrottle.attempts, since: authThrottle.windowStartedAt })
      .from(authThrottle)
      .where(and(eq(authThrottle.scope, scope), eq(authThrottle.key, key)));
    return row ?? null;
  }

  /**
   * Counts one attempt in one statement: a new window starts at `now` when the old one began
   * `windowMs` or more ago, otherwise the count goes up under the row lock the upsert takes, so
   * parallel callers (on any instance) get distinct counts. Returns the count and window start.
   */
  async countAttempt(
    scope: string,
    key: string,
    now: Date,
    windowMs: number,
  ): Promise<{ attempts: number; since: Date }> {
    const over = sql`${authThrottle.windowStartedAt} <= ${new Date(now.getTime() - windowMs).toISOString()}::timestamptz`;
    const [row] = await this.db
      .insert(authThrottle)
      .values({ scope, key, windowStartedAt: now, attempts: 1 })
      .onConflictDoUpdate({
        target: [authThrottle.scope, authThrottle.key],
        set: {
          windowStartedAt: sql`CASE WHEN ${over} THEN ${now.toISOString()}::timestamptz ELSE ${authThrottle.windowStartedAt} END`,
          attempts: sql`CASE WHEN ${over} THEN 1 ELSE ${authThrottle.attempts} + 1 END`,
        },
      })
      .returning({ attempts: authThrottle.attempts, since: authThrottle.windowStartedAt });
    return row!;
  }

  /** Forgets the attempts of `scope`/`key` (after a success). */
  async clearAttempts(scope: string, key: string): Promise<void> {
    await this.db.delete(authThrottle).where(and(eq(authThrottle.scope, scope), eq(authThrottle.key, key)));
  }
}
