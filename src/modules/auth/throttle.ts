/**
 * Throttling for anything guessable (admin login, the booth's ingest password): at most N
 * verifications per key within a window, however many arrive at once. Each verification first
 * reserves its attempt with one atomic upsert (`reserveAttempt`); the N+1th reservation in the
 * window is refused before any password hash is computed. A success clears the key. Stored in
 * PostgreSQL so several instances share it and a restart does not reset it. Failures are also
 * recorded one row each (`auth_failure`) as the trail of refused attempts.
 */
import type { AuthStore } from "../../store/auth";

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
export async function throttledFor(
  auth: AuthStore,
  rule: ThrottleRule,
  key: string,
  now: Date,
): Promise<number> {
  const row = await auth.attempts(rule.scope, key);
  if (!row || row.attempts < rule.maxFailures) return 0;
  return secondsLeft(rule, row.since, now);
}

/** Reserves one verification for `key`: 0 when the caller may verify, else the seconds to wait. */
export async function reserveAttempt(
  auth: AuthStore,
  rule: ThrottleRule,
  key: string,
  now: Date,
): Promise<number> {
  const row = await auth.countAttempt(rule.scope, key, now, rule.windowMs);
  if (row.attempts <= rule.maxFailures) return 0;
  return Math.max(1, secondsLeft(rule, row.since, now));
}

function secondsLeft(rule: ThrottleRule, since: Date, now: Date): number {
  return Math.max(0, Math.ceil((since.getTime() + rule.windowMs - now.getTime()) / 1000));
}

export function recordFailure(auth: AuthStore, rule: ThrottleRule, key: string, now: Date): Promise<void> {
  return auth.recordFailure(rule.scope, key, now);
}

/** After a success: the key starts afresh (its reservations are released). */
export function clearFailures(auth: AuthStore, rule: ThrottleRule, key: string): Promise<void> {
  return auth.clearAttempts(rule.scope, key);
}
