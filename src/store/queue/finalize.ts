/**
 * Finalize: the fenced end of a job (success, failure, deadline, cancel), each one statement with
 * its log rows, the media it lets go of and the NOTIFY (see finalizeWith).
 */
import type { PendingQuery, Row } from "postgres";
import type { Sql } from "../../db/client";
import type { FailureReason, JobRow } from "../../db/schema";
import { ACTIVE_STATUSES as ACTIVE } from "../../domain/outcome";
import { CHANNEL_JOB_DONE, CHANNEL_JOB_NEW } from "./listen";
import { type LogEntry, toJob } from "./rows";

export interface ResultColumns {
  /** The provider whose image this is: the primary's, or the fallback's. */
  servedProvider: string;
  resultPath: string;
  thumbPath: string | null;
  resultMime: string;
  resultSize: number;
  resultSha256: string;
  resultExpiresAt: Date;
  providerLatencyMs: number | null;
}

/** A finished (or re-queued) job's row, and the files its finalization let go of. */
export interface FinalizedJob {
  row: JobRow;
  /** The payload and temporary media no row points at any more: removed after the commit. */
  releasedPaths: string[];
}

/**
 * The log rows a finalizing statement writes with the state: optional earlier steps (e.g.
 * `provider_responded`, which would otherwise cost its own round trip), then the final row — its
 * event is the new status (`requeued` for a job put back), its details these plus the failure
 * reason and `total_ms` (or `attempts` for a re-queued job).
 */
export interface FinalLog {
  details: Record<string, unknown>;
  before?: LogEntry[];
}

/**
 * Every finalization is one statement, so one commit: the fenced state change (`update`: an
 * `update job … returning *` fragment; it clears `payload_path` of the rows whose photo goes — a
 * success, a cancel — and keeps it for a failure, whose photo waits for a re-run), the job's
 * temporary media marked deleted, its log rows, and the NOTIFY for waiters and idle workers
 * elsewhere. Nothing can be half-finished. The files it released are removed after the commit,
 * idempotently; a crash in between leaves files no row points at, which reclaimLeftovers removes.
 * The payload path is read in the statement's snapshot, i.e. before the update.
 */
export async function finalizeWith(
  sql: Sql,
  now: Date,
  update: PendingQuery<Row[]>,
  log: FinalLog,
): Promise<FinalizedJob[]> {
  const before = (log.before ?? []).map((e) => ({
    event: e.event,
    at: e.at.toISOString(),
    latency: e.providerLatencyMs ?? null,
    details: e.details ?? {},
  }));
  const rows = await sql`
    with done as (${update}),
    earlier as (
      insert into processing_log (job_id, slot_id, event, occurred_at, provider_latency_ms, details)
      select done.id, done.slot_id, e.event, e.at, e.latency, e.details
      from done cross join jsonb_to_recordset(${sql.json(before as never)}::jsonb)
        as e(event text, at timestamptz, latency int, details jsonb)
      returning 1
    ),
    logged as (
      insert into processing_log (job_id, slot_id, event, occurred_at, provider_latency_ms, details)
      select done.id, done.slot_id,
        case when done.status = 'pending' then 'requeued' else done.status end,
        coalesce(done.finalized_at, ${now}), done.provider_latency_ms,
        ${sql.json(log.details as never)}::jsonb
          || jsonb_strip_nulls(jsonb_build_object('failure_reason', done.failure_reason))
          || case when done.status = 'pending' then jsonb_build_object('attempts', done.attempts)
             else jsonb_build_object('total_ms',
               (extract(epoch from done.finalized_at - done.created_at) * 1000)::bigint) end
      -- reading \`earlier\` first makes its rows precede the final one (ids follow the timeline)
      from done cross join (select count(*) from earlier) as written
    ),
    objects as (
      update media_object set deleted_at = ${now}
      where deleted_at is null and job_id in (select id from done where status <> 'pending')
      returning job_id, path
    )
    select done.*,
      array_remove(
        array[(select p.payload_path from job p
          where p.id = done.id and done.status <> 'pending' and done.payload_path is null)]
          || coalesce((select array_agg(o.path) from objects o where o.job_id = done.id), '{}'),
        null) as released_paths,
      pg_notify(case when done.status = 'pending' then ${CHANNEL_JOB_NEW} else ${CHANNEL_JOB_DONE} end,
        done.id::text)
    from done`;
  return rows.map((r) => ({ row: toJob(r), releasedPaths: (r.released_paths as string[] | null) ?? [] }));
}

/**
 * Fenced success: only the current lease holder of a processing job that is not past its deadline
 * may finalize it. Null when the fence refuses (the caller discards its result).
 */
export async function finalizeSucceeded(
  sql: Sql,
  id: string,
  token: string,
  now: Date,
  r: ResultColumns,
  log: FinalLog,
): Promise<FinalizedJob | null> {
  const [done] = await finalizeWith(
    sql,
    now,
    sql`
      update job set
        status = 'succeeded', finalized_at = ${now}, lease_token = null, payload_path = null,
        result_path = ${r.resultPath}, thumb_path = ${r.thumbPath}, result_mime = ${r.resultMime},
        result_size = ${r.resultSize}, result_sha256 = ${r.resultSha256},
        result_expires_at = ${r.resultExpiresAt}, provider_latency_ms = ${r.providerLatencyMs},
        served_provider = ${r.servedProvider}
      where id = ${id} and lease_token = ${token} and status = 'processing' and expires_at > ${now}
      returning *`,
    log,
  );
  return done ?? null;
}

/**
 * Fenced failure by the lease holder (provider error, blocked, invalid config, internal error). The
 * photo stays (`payload_path`): the job may be re-run until the result retention ends.
 */
export async function finalizeFailed(
  sql: Sql,
  id: string,
  token: string,
  now: Date,
  reason: FailureReason,
  message: string,
  providerLatencyMs: number | null,
  log: FinalLog,
): Promise<FinalizedJob | null> {
  const [done] = await finalizeWith(
    sql,
    now,
    sql`
      update job set
        -- A provider that gives up for lack of time (e.g. Gemini NO_IMAGE retries) ends as timeout.
        status = case when ${reason} = 'timeout' then 'timeout' else 'failed' end,
        failure_reason = ${reason}, error_message = ${message}, provider_latency_ms = ${providerLatencyMs},
        finalized_at = ${now}, lease_token = null
      where id = ${id} and lease_token = ${token} and status = 'processing' and expires_at > ${now}
      returning *`,
    log,
  );
  return done ?? null;
}

/**
 * Finalizes a job as `timeout` once its deadline has passed. Used by the waiter at the deadline, by
 * the worker whose call was cut by the deadline, and by the sweeper. Null if it already ended. The
 * photo stays for a re-run.
 */
export async function expireJob(sql: Sql, id: string, now: Date): Promise<FinalizedJob | null> {
  const [done] = await finalizeWith(
    sql,
    now,
    sql`
      update job set
        status = 'timeout', failure_reason = 'timeout', finalized_at = ${now}, lease_token = null,
        error_message = 'The deadline passed before the provider answered'
      where id = ${id} and status in ${sql(ACTIVE)} and expires_at <= ${now}
      returning *`,
    { details: {} },
  );
  return done ?? null;
}

/** An admin's cancel: any pending or processing job ends as `cancelled` (and its photo goes). */
export async function cancelJob(sql: Sql, id: string, now: Date, by: string): Promise<FinalizedJob | null> {
  const [done] = await finalizeWith(
    sql,
    now,
    sql`
      update job set
        status = 'cancelled', failure_reason = 'cancelled', finalized_at = ${now}, lease_token = null,
        payload_path = null, error_message = ${`Cancelled by ${by}`}
      where id = ${id} and status in ${sql(ACTIVE)}
      returning *`,
    { details: { by } },
  );
  return done ?? null;
}
