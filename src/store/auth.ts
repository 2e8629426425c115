/**
 * Admin accounts, sessions, failed-attempt records and attempt counters (drizzle): `admin_user`,
 * `admin_session`, `auth_failure`, `auth_throttle`.
 */
import { and, asc, desc, eq, gt, isNull, like, lt, lte, ne, or, sql } from "drizzle-orm";
import type { Db } from "../db/client";
import { adminSession, adminUser, authFailure, authThrottle } from "../db/schema";

export type AdminUserRow = typeof adminUser.$inferSelect;

export interface SessionRow {
  id: string;
  createdAt: Date;
  expiresAt: Date;
  clientIp: string | null;
  userAgent: string | null;
}

const SESSION_COLUMNS = {
  id: adminSession.id,
  createdAt: adminSession.createdAt,
  expiresAt: adminSession.expiresAt,
  clientIp: adminSession.clientIp,
  userAgent: adminSession.userAgent,
};

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
    userAgent: string | null;
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
      .select(SESSION_COLUMNS)
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

  /** Revokes one of the admin's own sessions; null when it is not theirs or already ended. */
  async revokeOwnSession(username: string, sessionId: string, now: Date): Promise<SessionRow | null> {
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
      .returning(SESSION_COLUMNS);
    return rows[0] ?? null;
  }

  /** Revokes every live session of the admin, but `keep` when given; returns the sessions it ended. */
  revokeSessions(username: string, keep: string | null, now: Date): Promise<SessionRow[]> {
    return this.db
      .update(adminSession)
      .set({ revokedAt: now })
      .where(
        and(
          eq(adminSession.username, username),
          isNull(adminSession.revokedAt),
          keep ? ne(adminSession.id, keep) : undefined,
        ),
      )
      .returning(SESSION_COLUMNS);
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
    // a key still blocked (a client that keeps guessing) keeps its row, however old its window
    await this.db
      .delete(authThrottle)
      .where(
        and(
          lt(authThrottle.windowStartedAt, before),
          or(isNull(authThrottle.blockedUntil), lt(authThrottle.blockedUntil, before)),
        ),
      );
    return rows.length;
  }

  // ---- auth_throttle ----

  /** The attempt window of `scope`/`key`, if any. */
  async attempts(scope: string, key: string): Promise<ThrottleRow | null> {
    const [row] = await this.db
      .select(THROTTLE_COLUMNS)
      .from(authThrottle)
      .where(and(eq(authThrottle.scope, scope), eq(authThrottle.key, key)));
    return row ?? null;
  }

  /**
   * Counts one attempt in one statement: a new window starts at `now` when the old one began
   * `windowMs` or more ago, otherwise the count goes up under the row lock the upsert takes, so
   * parallel callers (on any instance) get distinct counts. A blocked key is left as it is (its
   * attempts are decided by `takeProbe`). Returns the row after the count.
   */
  async countAttempt(scope: string, key: string, now: Date, windowMs: number): Promise<ThrottleRow> {
    const at = now.toISOString();
    const blocked = sql`${authThrottle.blockedUntil} > ${at}::timestamptz`;
    const over = sql`${authThrottle.windowStartedAt} <= ${new Date(now.getTime() - windowMs).toISOString()}::timestamptz`;
    const [row] = await this.db
      .insert(authThrottle)
      .values({ scope, key, windowStartedAt: now, attempts: 1 })
      .onConflictDoUpdate({
        target: [authThrottle.scope, authThrottle.key],
        set: {
          windowStartedAt: sql`CASE WHEN ${blocked} THEN ${authThrottle.windowStartedAt} WHEN ${over} THEN ${at}::timestamptz ELSE ${authThrottle.windowStartedAt} END`,
          attempts: sql`CASE WHEN ${blocked} THEN ${authThrottle.attempts} WHEN ${over} THEN 1 ELSE ${authThrottle.attempts} + 1 END`,
          failures: sql`CASE WHEN ${blocked} OR NOT ${over} THEN ${authThrottle.failures} ELSE 0 END`,
          blockedUntil: sql`CASE WHEN ${blocked} THEN ${authThrottle.blockedUntil} ELSE NULL END`,
          probeAt: sql`CASE WHEN ${blocked} THEN ${authThrottle.probeAt} ELSE NULL END`,
        },
      })
      .returning(THROTTLE_COLUMNS);
    return row!;
  }

  /**
   * Takes the blocked key's probe — the one attempt verified per `everyMs` while blocked — if it is
   * due. One conditional update: of callers racing for the same probe, exactly one gets a row.
   */
  async takeProbe(scope: string, key: string, now: Date, everyMs: number): Promise<boolean> {
    const rows = await this.db
      .update(authThrottle)
      .set({ probeAt: now })
      .where(
        and(
          eq(authThrottle.scope, scope),
          eq(authThrottle.key, key),
          gt(authThrottle.blockedUntil, now),
          or(isNull(authThrottle.probeAt), lte(authThrottle.probeAt, new Date(now.getTime() - everyMs))),
        ),
      )
      .returning({ key: authThrottle.key });
    return rows.length > 0;
  }

  /**
   * Counts a wrong attempt against the window. When the window's failures reach `maxFailures`, or
   * the key is blocked already, the key is blocked until `extendMs` after now (`extendMs` null:
   * until the window ends, never later than it already was) and its next probe is due a full
   * interval after this failure.
   */
  async countFailure(
    scope: string,
    key: string,
    now: Date,
    rule: { maxFailures: number; windowMs: number; extendMs: number | null },
  ): Promise<void> {
    const at = now.toISOString();
    const blocking = sql`(${authThrottle.blockedUntil} > ${at}::timestamptz OR ${authThrottle.failures} + 1 >= ${rule.maxFailures})`;
    const until =
      rule.extendMs === null
        ? sql`GREATEST(${authThrottle.blockedUntil}, ${authThrottle.windowStartedAt} + make_interval(secs => ${rule.windowMs / 1000}::double precision))`
        : sql`${new Date(now.getTime() + rule.extendMs).toISOString()}::timestamptz`;
    await this.db
      .update(authThrottle)
      .set({
        failures: sql`${authThrottle.failures} + 1`,
        blockedUntil: sql`CASE WHEN ${blocking} THEN ${until} ELSE ${authThrottle.blockedUntil} END`,
        probeAt: sql`CASE WHEN ${blocking} THEN ${at}::timestamptz ELSE ${authThrottle.probeAt} END`,
      })
      .where(and(eq(authThrottle.scope, scope), eq(authThrottle.key, key)));
  }

  /** Forgets the attempts of `scope`/`key` (after a success, or an operator's unblock); true if there were any. */
  async clearAttempts(scope: string, key: string): Promise<boolean> {
    const rows = await this.db
      .delete(authThrottle)
      .where(and(eq(authThrottle.scope, scope), eq(authThrottle.key, key)))
      .returning({ key: authThrottle.key });
    return rows.length > 0;
  }

  /** Keys blocked at `now`, the longest-standing first. */
  blocked(now: Date): Promise<(ThrottleRow & { scope: string; key: string })[]> {
    return this.db
      .select({ scope: authThrottle.scope, key: authThrottle.key, ...THROTTLE_COLUMNS })
      .from(authThrottle)
      .where(gt(authThrottle.blockedUntil, now))
      .orderBy(asc(authThrottle.windowStartedAt), asc(authThrottle.key));
  }

  /** Lifts the blocks at `now` that `match` selects; returns which were lifted. */
  async unblock(
    now: Date,
    match: { scope: string; key: string } | { address: string } | "all",
  ): Promise<{ scope: string; key: string; failures: number }[]> {
    const which =
      match === "all"
        ? undefined
        : "address" in match
          ? or(
              and(eq(authThrottle.scope, "ingest"), eq(authThrottle.key, match.address)),
              and(eq(authThrottle.scope, "login"), like(authThrottle.key, `%|${escapeLike(match.address)}`)),
            )
          : and(eq(authThrottle.scope, match.scope), eq(authThrottle.key, match.key));
    return this.db
      .delete(authThrottle)
      .where(and(gt(authThrottle.blockedUntil, now), which))
      .returning({ scope: authThrottle.scope, key: authThrottle.key, failures: authThrottle.failures });
  }
}

export interface ThrottleRow {
  attempts: number;
  since: Date;
  failures: number;
  blockedUntil: Date | null;
  probeAt: Date | null;
}

const THROTTLE_COLUMNS = {
  attempts: authThrottle.attempts,
  since: authThrottle.windowStartedAt,
  failures: authThrottle.failures,
  blockedUntil: authThrottle.blockedUntil,
  probeAt: authThrottle.probeAt,
};

function escapeLike(s: string): string {
  return s.replace(/[\\%_]/g, (c) => `\\${c}`);
}
