/**
 * Throttling for anything guessable (admin login, the booth's ingest password): at most N
 * verifications per key within a window, however many arrive at once. Each verification first
 * reserves its attempt with one atomic upsert (`reserveAttempt`); the N+1th reservation in the
 * window is refused before any password hash is computed. A success clears the key. Stored in
 * PostgreSQL so several instances share it and a restart does not reset it. Failures are also
 * recorded one row each (`auth_failure`) as the trail of refused attempts.
 */
import { and, eq, lt, sql } from "drizzle-orm";
import type { Db } from "../../db/client";
import { authFailure, authThrottle } from "../../db/schema";

export interface ThrottleRule {
  scope: string;
  maxFailures: number;
  windowMs: number;
}

export const INGEST_PASSWORD_RULE: ThrottleRule = { scope: "ingest", maxFailures: 10, windowMs: 10 * 60_000 };
export const LOGIN_RULE: ThrottleRule = { scope: "login", maxFailures: 5, windowMs: 15 * 60_000 };

/**
 * Seconds until another attempt is allowed, or 0 when the key is not throttled. A cheap read for
 * refusing early; the binding decision is `reserveAttempt`.
 */
export async function throttledFor(db: Db, rule: ThrottleRule, key: string, now: Date): Promise<number> {
  const [row] = await db
    .select({ attempts: authThrottle.attempts, since: authThrottle.windowStartedAt })
    .from(authThrottle)
    .where(and(eq(authThrottle.scope, rule.scope), eq(authThrottle.key, key)));
  if (!row || row.attempts < rule.maxFailures) return 0;
  return secondsLeft(rule, row.since, now);
}

/**
 * Reserves one verification for `key` in one statement: a new window starts when the old one has
 * passed, otherwise the count goes up under the row lock the upsert takes, so parallel callers
 * get distinct counts. Returns 0 when the caller may verify, else the seconds to wait.
 */
export async function reserveAttempt(db: Db, rule: ThrottleRule, key: string, now: Date): Promise<number> {
  const windowOver = sql`${authThrottle.windowStartedAt} <= ${new Date(now.getTime() - rule.windowMs).toISOString()}::timestamptz`;
  const [row] = await db
    .insert(authThrottle)
    .values({ scope: rule.scope, key, windowStartedAt: now, attempts: 1 })
    .onConflictDoUpdate({
      target: [authThrottle.scope, authThrottle.key],
      set: {
        windowStartedAt: sql`CASE WHEN ${windowOver} THEN ${now.toISOString()}::timestamptz ELSE ${authThrottle.windowStartedAt} END`,
        attempts: sql`CASE WHEN ${windowOver} THEN 1 ELSE ${authThrottle.attempts} + 1 END`,
      },
    })
    .returning({ attempts: authThrottle.attempts, since: authThrottle.windowStartedAt });
  if (!row || row.attempts <= rule.maxFailures) return 0;
  return secondsLeft(rule, row.since, now);
}

function secondsLeft(rule: ThrottleRule, since: Date, now: Date): number {
  const left = Math.ceil((since.getTime() + rule.windowMs - now.getTime()) / 1000);
  return Math.max(left, 0);
}

export async function recordFailure(db: Db, rule: ThrottleRule, key: string, now: Date): Promise<void> {
  await db.insert(authFailure).values({ scope: rule.scope, key, occurredAt: now });
}

/** After a success: the key starts afresh (its reservations are released). */
export async function clearFailures(db: Db, rule: ThrottleRule, key: string): Promise<void> {
  await db.delete(authThrottle).where(and(eq(authThrottle.scope, rule.scope), eq(authThrottle.key, key)));
}

/** Drops failures older than any window (the cleaner calls this). */
export async function pruneFailures(db: Db, now: Date, olderThanMs = 24 * 3600_000): Promise<number> {
  const rows = await db
    .delete(authFailure)
    .where(lt(authFailure.occurredAt, new Date(now.getTime() - olderThanMs)))
    .returning({ id: authFailure.id });
  const cutoff = new Date(now.getTime() - olderThanMs);
  await db.delete(authThrottle).where(lt(authThrottle.windowStartedAt, cutoff));
  return rows.length;
}
