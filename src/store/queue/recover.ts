/**
 * Recover: work orphaned by a crash or a stop resolved by the interruption rule, jobs past their
 * deadline swept, and a gone booth's pending jobs put behind live work.
 */
import type { Sql } from "../../db/client";
import { ACTIVE_STATUSES as ACTIVE } from "../../domain/outcome";
import { type FinalizedJob, finalizeWith } from "./finalize";
import { interruptedSet } from "./release";

/**
 * Resolves work orphaned by a crash or a stop, by the interruption rule: processing jobs whose
 * instance is known to be stopped, and — when `lapsedBefore` is given — processing jobs of other
 * instances whose lease heartbeat is older than it; `me`'s own jobs are never taken by lapse (its
 * workers are alive and will finalize or release them). Anything active that is past its deadline
 * by more than the grace ends as `timeout`. Pending jobs of a dead instance stay pending: their
 * booth is gone, but the work is still done and its result kept.
 */
export async function recoverOrphans(
  sql: Sql,
  now: Date,
  me: string,
  lapsedBefore: Date | null,
  graceMs: number,
): Promise<FinalizedJob[]> {
  const overdue = new Date(now.getTime() - graceMs);
  return finalizeWith(
    sql,
    now,
    sql`
      update job set ${interruptedSet(sql, now, "The server stopped while the job was running")},
        unattended = unattended or exists (select 1 from instance w
          where w.id = job.instance_id and w.stopped_at is not null)
      where (status = 'processing' and (lease_owner is null or lease_owner not like ${`${me}/%`}) and (
          exists (select 1 from instance i
            where i.id::text = split_part(job.lease_owner, '/', 1) and i.stopped_at is not null)
          or (${lapsedBefore}::timestamptz is not null and heartbeat_at < ${lapsedBefore}::timestamptz)
        ))
        or (status in ${sql(ACTIVE)} and expires_at <= ${overdue})
      returning *`,
    { details: { recovered: true } },
  );
}

/**
 * Pending jobs whose booth waited on a process that is gone: nobody will read their answer, so they
 * run behind live work and leave the in-flight cap to live booths. Returns how many it marked.
 */
export async function markUnattended(sql: Sql): Promise<number> {
  const rows = await sql`
    update job set unattended = true
    where status = 'pending' and not unattended
      and exists (select 1 from instance w where w.id = job.instance_id and w.stopped_at is not null)
    returning 1`;
  return rows.length;
}
