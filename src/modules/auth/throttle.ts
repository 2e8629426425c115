/**
 * Failure counting for anything guessable (admin login, the booth's ingest password): N failures
 * per key within a window → refuse with Retry-After until the oldest failure leaves the window.
 * Stored in PostgreSQL so several instances share it and a restart does not reset it.
 */
import { and, asc, eq, gt, lt } from "drizzle-orm";
import type { Db } from "../../db/client";
import { authFailure } from "../../db/schema";

export interface ThrottleRule {
  scope: string;
  maxFailures: number;
  windowMs: number;
}

export const INGEST_PASSWORD_RULE: ThrottleRule = { scope: "ingest", maxFailures: 10, windowMs: 10 * 60_000 };
export const LOGIN_RULE: ThrottleRule = { scope: "login", maxFailures: 5, windowMs: 15 * 60_000 };

/** Seconds until another attempt is allowed, or 0 when the key is not throttled. */
export async function throttledFor(db: Db, rule: ThrottleRule, key: string, now: Date): Promise<number> {
  const since = new Date(now.getTime() - rule.windowMs);
  const rows = await db
    .select({ at: authFailure.occurredAt })
    .from(authFailure)
    .where(
      and(eq(authFailure.scope, rule.scope), eq(authFailure.key, key), gt(authFailure.occurredAt, since)),
    )
    .orderBy(asc(authFailure.occurredAt));
  if (rows.length < rule.maxFailures) return 0;
  const unlockAt = rows[rows.length - rule.maxFailures]!.at.getTime() + rule.windowMs;
  return Math.max(1, Math.ceil((unlockAt - now.getTime()) / 1000));
}

export async function recordFailure(db: Db, rule: ThrottleRule, key: string, now: Date): Promise<void> {
  await db.insert(authFailure).values({ scope: rule.scope, key, occurredAt: now });
}

export async function clearFailures(db: Db, rule: ThrottleRule, key: string): Promise<void> {
  await db.delete(authFailure).where(and(eq(authFailure.scope, rule.scope), eq(authFailure.key, key)));
}

/** Drops failures older than any window (the cleaner calls this). */
export async function pruneFailures(db: Db, now: Date, olderThanMs = 24 * 3600_000): Promise<number> {
  const rows = await db
    .delete(authFailure)
    .where(lt(authFailure.occurredAt, new Date(now.getTime() - olderThanMs)))
    .returning({ id: authFailure.id });
  return rows.length;
}
