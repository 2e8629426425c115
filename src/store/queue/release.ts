/**
 * Release: the lease holder gives its job up, and the interruption rule that decides what becomes
 * of work stopped without an outcome (re-queued, failed as interrupted, or timed out).
 */
import type { Sql } from "../../db/client";
import { type FinalizedJob, finalizeWith } from "./finalize";

/** How many times a job may be claimed; an interruption after the last attempt fails it. */
export const MAX_ATTEMPTS = 5;
/** A job re-queued with less time than this before its deadline could not finish: it fails instead. */
export const MIN_RERUN_MS = 2_000;

/**
 * The one rule for work that stopped without an outcome (its worker died, lost its lease or had to
 * stop): past the deadline it ends as `timeout`; with attempts left and time to run again it goes
 * back to `pending` (lease cleared, so a late result of the old attempt is refused by the fence);
 * otherwise it fails as `interrupted`. The photo stays either way (a failure keeps it for a re-run).
 * Used inside an UPDATE of `job`.
 */
export function interruptedSet(sql: Sql, now: Date, message: string) {
  const minLeft = new Date(now.getTime() + MIN_RERUN_MS);
  return sql`
    status = case when expires_at <= ${now} then 'timeout'
      when attempts < ${MAX_ATTEMPTS} and expires_at > ${minLeft} then 'pending' else 'failed' end,
    failure_reason = case when expires_at <= ${now} then 'timeout'
      when attempts < ${MAX_ATTEMPTS} and expires_at > ${minLeft} then null else 'interrupted' end,
    error_message = case when expires_at <= ${now} then 'The deadline passed before the job finished'
      when attempts < ${MAX_ATTEMPTS} and expires_at > ${minLeft} then null else ${message} end,
    finalized_at = case when expires_at > ${minLeft} and attempts < ${MAX_ATTEMPTS} then null else ${now}::timestamptz end,
    lease_owner = null, lease_token = null, heartbeat_at = null`;
}

/**
 * The lease holder gives its job up (shutdown, database trouble): fenced by the lease token, the
 * job is re-queued or resolved by the interruption rule. Null if the job is no longer ours.
 */
export async function releaseJob(
  sql: Sql,
  id: string,
  token: string,
  now: Date,
  message: string,
): Promise<FinalizedJob | null> {
  const [done] = await finalizeWith(
    sql,
    now,
    sql`
      update job set ${interruptedSet(sql, now, message)}
      where id = ${id} and lease_token = ${token} and status = 'processing'
      returning *`,
    { details: { released: true } },
  );
  return done ?? null;
}
