/**
 * What the lease holder does while it holds a job, each fenced by the lease token: heartbeats, the
 * move to the fallback, the provider's own reference for the job.
 */
import type { Sql } from "../../db/client";

/** Extends the lease; false means the job is no longer ours (finalized, cancelled or reclaimed). */
export async function heartbeat(sql: Sql, id: string, token: string, now: Date): Promise<boolean> {
  return (await heartbeatMany(sql, [{ id, token }], now)).has(id);
}

/**
 * Extends the leases of every job a process runs, in one statement; returns the ids still ours (a
 * job missing from it was finalized, cancelled or reclaimed).
 */
export async function heartbeatMany(
  sql: Sql,
  leases: readonly { id: string; token: string }[],
  now: Date,
): Promise<Set<string>> {
  if (!leases.length) return new Set();
  const rows = await sql<{ id: string }[]>`
    update job set heartbeat_at = ${now}
    from unnest(${sql.array(leases.map((l) => l.id))}::uuid[], ${sql.array(leases.map((l) => l.token))}::uuid[])
      as lease(id, token)
    where job.id = lease.id and job.lease_token = lease.token and job.status = 'processing'
    returning job.id`;
  return new Set(rows.map((r) => r.id));
}

/**
 * The lease holder moves its job to the fallback (src/domain/fallback.ts), fenced like a
 * finalization and with the `fallback` log row in the same statement: a job re-queued after this
 * resumes on the fallback, never on the primary again. False when the job is no longer ours.
 */
export async function switchToFallback(
  sql: Sql,
  id: string,
  token: string,
  now: Date,
  details: Record<string, unknown>,
): Promise<boolean> {
  const rows = await sql`
    with done as (
      update job set fallback_used = true
      where id = ${id} and lease_token = ${token} and status = 'processing' and expires_at > ${now}
        and fallback is not null
      returning id, slot_id
    ), logged as (
      insert into processing_log (job_id, slot_id, event, occurred_at, details)
      select id, slot_id, 'fallback', ${now}, ${sql.json(details as never)}::jsonb from done
    )
    select id from done`;
  return rows.length === 1;
}

export async function setProviderRef(sql: Sql, id: string, token: string, ref: string): Promise<void> {
  await sql`update job set provider_job_ref = ${ref} where id = ${id} and lease_token = ${token}`;
}
