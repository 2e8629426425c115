/**
 * Throttling for anything guessable (admin login, the booth's ingest password): at most N
 * verifications per key within a window, however many arrive at once. Each verification first
 * reserves its attempt with one atomic upsert (`reserveAttempt`); the N+1th reservation in the
 * window is refused before any password hash is computed. A success clears the key. Stored in
 * PostgreSQL so several instances share it and a restart does not reset it. Failures are also
 * recorded one row each (`auth_failure`) as the trail of refused attempts.
 *
 * When the window's failures reach N the key is blocked. A rule with probes (the booth's) still
 * verifies one attempt per interval while blocked: a booth whose password was fixed gets in with
 * its next photo instead of waiting out the block, while a guessing client gets one try per
 * interval (30 s: under 3,000 a day) — each wrong probe keeps the key blocked for another window.
 * An operator lifts a block at once (`liftBlocks`).
 */
import type { ThrottleScope } from "../../domain/attention";
import type { AuthStore } from "../../store/auth";

export const THROTTLE_SCOPES: readonly ThrottleScope[] = ["ingest", "login"];

export interface ThrottleRule {
  scope: ThrottleScope;
  maxFailures: number;
  windowMs: number;
  /** While blocked, one attempt is still verified this often (null: none until the block ends). */
  probeEveryMs: number | null;
}

export const INGEST_PASSWORD_RULE: ThrottleRule = {
  scope: "ingest",
  maxFailures: 10,
  windowMs: 10 * 60_000,
  probeEveryMs: 30_000,
};
export const LOGIN_RULE: ThrottleRule = {
  scope: "login",
  maxFailures: 5,
  windowMs: 15 * 60_000,
  probeEveryMs: null,
};

/** The throttle key of an admin login: the user and the address, so one cannot lock out another. */
export function loginKey(username: string, clientIp: string): string {
  return `${username.toLowerCase()}|${clientIp}`;
}

function seconds(ms: number): number {
  return Math.max(0, Math.ceil(ms / 1000));
}

/** Seconds until a blocked key may try again: its next probe, or the end of the block. */
function blockedWait(
  rule: ThrottleRule,
  row: { blockedUntil: Date; probeAt: Date | null },
  now: Date,
): number {
  const untilEnd = seconds(row.blockedUntil.getTime() - now.getTime());
  if (rule.probeEveryMs === null) return untilEnd;
  const probeDue = row.probeAt ? row.probeAt.getTime() + rule.probeEveryMs : now.getTime();
  return Math.min(untilEnd, seconds(probeDue - now.getTime()));
}

function isBlocked(row: { blockedUntil: Date | null }, now: Date): row is { blockedUntil: Date } {
  return row.blockedUntil !== null && row.blockedUntil.getTime() > now.getTime();
}

/**
 * Seconds until another attempt is allowed, or 0 when the key may try now (not throttled, or its
 * probe is due). A cheap read for refusing early; the binding decision is `reserveAttempt`.
 */
export async function throttledFor(
  auth: AuthStore,
  rule: ThrottleRule,
  key: string,
  now: Date,
): Promise<number> {
  return (await throttleState(auth, rule, key, now)).wait;
}

/** `throttledFor`, and whether the key has attempts counted at all (a success should clear them). */
export async function throttleState(
  auth: AuthStore,
  rule: ThrottleRule,
  key: string,
  now: Date,
): Promise<{ wait: number; counted: boolean }> {
  const row = await auth.attempts(rule.scope, key);
  if (!row) return { wait: 0, counted: false };
  if (isBlocked(row, now)) return { wait: blockedWait(rule, row, now), counted: true };
  if (row.attempts < rule.maxFailures) return { wait: 0, counted: true };
  return { wait: secondsLeft(rule, row.since, now), counted: true };
}

/** Reserves one verification for `key`: 0 when the caller may verify, else the seconds to wait. */
export async function reserveAttempt(
  auth: AuthStore,
  rule: ThrottleRule,
  key: string,
  now: Date,
): Promise<number> {
  const row = await auth.countAttempt(rule.scope, key, now, rule.windowMs);
  if (isBlocked(row, now)) {
    if (rule.probeEveryMs !== null && (await auth.takeProbe(rule.scope, key, now, rule.probeEveryMs)))
      return 0;
    return Math.max(1, blockedWait(rule, row, now));
  }
  if (row.attempts <= rule.maxFailures) return 0;
  // A burst past the limit whose failures are not all counted yet: the block follows shortly.
  const wait = secondsLeft(rule, row.since, now);
  return Math.max(1, rule.probeEveryMs === null ? wait : Math.min(wait, seconds(rule.probeEveryMs)));
}

function secondsLeft(rule: ThrottleRule, since: Date, now: Date): number {
  return seconds(since.getTime() + rule.windowMs - now.getTime());
}

export async function recordFailure(
  auth: AuthStore,
  rule: ThrottleRule,
  key: string,
  now: Date,
): Promise<void> {
  await auth.recordFailure(rule.scope, key, now);
  await auth.countFailure(rule.scope, key, now, {
    maxFailures: rule.maxFailures,
    windowMs: rule.windowMs,
    extendMs: rule.probeEveryMs === null ? null : rule.windowMs,
  });
}

/** After a success: the key starts afresh (its reservations and any block are released). */
export async function clearFailures(auth: AuthStore, rule: ThrottleRule, key: string): Promise<void> {
  await auth.clearAttempts(rule.scope, key);
}
