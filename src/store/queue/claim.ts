/**
 * Claim: the oldest pending jobs taken under a fresh lease, within each provider's room, with their
 * `dispatched` log rows — one statement, FOR UPDATE SKIP LOCKED.
 */
import type { Sql } from "../../db/client";
import type { JobRow } from "../../db/schema";
import { runsOn, toJob } from "./rows";

/** What one claim statement may take: per-provider room, and the room shared by network providers. */
export interface ClaimRoom {
  /** Jobs each provider may still start in this process (0: skipped); one not named, any number. */
  perProvider: Record<string, number>;
  /** Providers whose calls share `shared` (those that go through fetch). */
  sharedBy: string[];
  shared: number;
}

/**
 * Claims up to `owners.length` of the oldest pending jobs still before their deadline — a live
 * booth's before any unattended one (see recoverOrphans) — in one statement, the i-th for
 * `owners[i]`: the inner SELECT … FOR UPDATE SKIP LOCKED reads the partial index
 * `job_pending_idx`, so concurrent loops and processes never get the same row; of the rows it
 * locks, a provider gets no more than its room (and the network providers together no more than
 * their shared room). Each job's `dispatched` log row is written by the same statement. Returned
 * oldest first; fewer than asked when the queue (for the providers with room) has no more.
 */
export async function claimJobs(
  sql: Sql,
  owners: readonly string[],
  now: Date,
  room: ClaimRoom | null = null,
  onlyInstance: string | null = null,
): Promise<{ jobs: JobRow[]; locked: number }> {
  const limit = owners.length;
  const full = Object.entries(room?.perProvider ?? {})
    .filter(([, n]) => n <= 0)
    .map(([p]) => p);
  const rows = await sql`
    with candidates as (
      select id, ${runsOn(sql)} as runs_on, unattended, created_at
      from job
      where status = 'pending' and expires_at > ${now}
        and ${runsOn(sql)} <> all(${sql.array(full)}::text[])
        and (${onlyInstance}::uuid is null or instance_id = ${onlyInstance}::uuid)
      order by unattended, created_at
      limit ${limit}
      for update skip locked
    ), ranked as (
      select id, runs_on, unattended, created_at,
        row_number() over (partition by runs_on order by unattended, created_at) as nth_of_provider,
        count(*) filter (where runs_on = any(${sql.array(room?.sharedBy ?? [])}::text[]))
          over (order by unattended, created_at rows unbounded preceding) as nth_shared
      from candidates
    ), picked as (
      select id, row_number() over (order by unattended, created_at) as nth
      from ranked
      where ${room === null}
        or (nth_of_provider <= coalesce((${sql.json(room?.perProvider ?? {})}::jsonb ->> runs_on)::int, ${limit})
          and (runs_on <> all(${sql.array(room?.sharedBy ?? [])}::text[]) or nth_shared <= ${room?.shared ?? limit}))
    ), done as (
      update job set
        status = 'processing',
        started_at = ${now},
        attempts = attempts + 1,
        lease_owner = (${sql.array([...owners])}::text[])[picked.nth],
        lease_token = gen_random_uuid(),
        heartbeat_at = ${now}
      from picked
      where job.id = picked.id
      returning job.*
    ), logged as (
      insert into processing_log (job_id, slot_id, event, occurred_at, details)
      select id, slot_id, 'dispatched', ${now}, jsonb_build_object(
        'owner', lease_owner, 'provider', ${runsOn(sql)}, 'operation',
        case when fallback_used then fallback->>'operation' else operation end, 'attempt', attempts,
        'queue_wait_ms', (extract(epoch from started_at - created_at) * 1000)::bigint)
      from done
    )
    select counted.n as locked_n, done.*
    from (select count(*)::int as n from candidates) counted left join done on true`;
  const locked = (rows[0]?.locked_n as number | undefined) ?? 0;
  const jobs = rows.filter((r) => r.id != null).map(toJob);
  jobs.sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime());
  return { jobs, locked };
}

/** One job, as `claimJobs` claims them (no provider limits unless `skipProviders` names some). */
export async function claimNextJob(
  sql: Sql,
  owner: string,
  now: Date,
  skipProviders: string[] = [],
  onlyInstance: string | null = null,
): Promise<JobRow | null> {
  const room: ClaimRoom | null = skipProviders.length
    ? { perProvider: Object.fromEntries(skipProviders.map((p) => [p, 0])), sharedBy: [], shared: 1 }
    : null;
  const { jobs } = await claimJobs(sql, [owner], now, room, onlyInstance);
  return jobs[0] ?? null;
}
