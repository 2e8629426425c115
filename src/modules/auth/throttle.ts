/**
 * Failure counting for anything guessable (admin login, the booth's ingest password): N failures
 * per key within a window → refuse with Retry-After until the oldest failure leaves the window.
 * Stored in PostgreSQL so several instances share it and a restart does not reset it.
 */
import type { AuthStore } from "../../store/auth";

export interface ThrottleRule {
  scope: string;
  maxFailures: number;
  windowMs: number;
}

export const INGEST_PASSWORD_RULE: ThrottleRule = { scope: "ingest", maxFailures: 10, windowMs: 10 * 60_000 };
export const LOGIN_RULE: ThrottleRule = { scope: "login", maxFailures: 5, windowMs: 15 * 60_000 };

/** Seconds until another attempt is allowed, or 0 when the key is not throttled. */
export async function throttledFor(
  auth: AuthStore,
  rule: ThrottleRule,
  key: string,
  now: Date,
): Promise<number> {
  const since = new Date(now.getTime() - rule.windowMs);
  const failures = await auth.failuresSince(rule.scope, key, since);
  if (failures.length < rule.maxFailures) return 0;
  const unlockAt = failures[failures.length - rule.maxFailures]!.getTime() + rule.windowMs;
  return Math.max(1, Math.ceil((unlockAt - now.getTime()) / 1000));
}

export function recordFailure(auth: AuthStore, rule: ThrottleRule, key: string, now: Date): Promise<void> {
  return auth.recordFailure(rule.scope, key, now);
}

export function clearFailures(auth: AuthStore, rule: ThrottleRule, key: string): Promise<void> {
  return auth.clearFailures(rule.scope, key);
}
