/**
 * The queue's SQL, in one place, as small named operations — each a single statement that can be
 * read and EXPLAINed (the graphile-worker habit): insert within the cap, claim, heartbeat, the
 * fenced finalizations, expire, cancel, recover. Times come from the app clock as parameters, so
 * deadline behaviour is testable without sleeping. The `job` and `processing_log` tables are read
 * and written only here and in the other `job-*.ts` files of the store, always with postgres.js.
 */
import { getTableColumns } from "drizzle-orm";
import type { Sql } from "../db/client";
import { type FailureReason, type JobRow, job, type NewJobRow } from "../db/schema";
import { ACTIVE_STATUSES as ACTIVE } from "../domain/outcome";

export const CHANNEL_JOB_DONE = "photochanger_job_done";
export const CHANNEL_JOB_NEW = "photochanger_job_new";

// Raw rows are snake_case with bigint as string; map them to the drizzle row shape.
const columns = Object.entries(getTableColumns(job)).map(([key, col]) => ({
  key,
  name: col.name,
  bigint: col.columnType === "PgBigInt53",
}));

export function toJob(row: Record<string, unknown>): JobRow {
  const out: Record<string, unknown> = {};
  for (const c of columns) {
    const v = row[c.name];
    out[c.key] = c.bigint && v !== null && v !== undefined ? Number(v) : v;
  }
  return out as JobRow;
}

function toColumns(values: NewJobRow): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const c of columns) {
    const v = (values as Record<string, unknown>)[c.key];
    if (v !== undefined) out[c.name] = v;
  }
  return out;
}

export type InsertOutcome = { kind: "inserted"; job: JobRow } | { kind: "busy"; inFlight: number };

/**
 * Inserts a pending job unless the global in-flight cap is reached. The count and insert run under
 * a transaction-scoped advisory lock so concurrent ingests cannot overshoot the cap.
 */
export async function insertJobWithinCap(sql: Sql, values: NewJobRow, cap: number): Promise<InsertOutcome> {
  return sql.begin(async (tx) => {
    await tx`select pg_advisory_xact_lock(hashtext('photochanger.enqueue'))`;
    const [{ n }] = (await tx`
      select count(*)::int as n from job where status in ${tx(ACTIVE)}`) as unknown as [{ n: number }];
    if (n >= cap) return { kind: "busy", inFlight: n } as const;
    const [row] = await tx`insert into job ${tx(toColumns(values))} returning *`;
    await tx`select pg_notify(${CHANNEL_JOB_NEW}, ${values.id as string})`;
    return { kind: "inserted", job: toJob(row as Record<string, unknown>) } as const;
  }) as Promise<InsertOutcome>;
}

/**
 * Claims the oldest pending job that is still before its deadline, in one statement: the inner
 * SELECT … FOR UPDATE SKIP LOCKED reads the partial index `job_pending_idx`, so concurrent loops
 * and processes never get the same row. Providers at their concurrency limit are skipped.
 */
export async function claimNextJob(
  sql: Sql,
  owner: string,
  now: Date,
  skipProviders: string[] = [],
): Promise<JobRow | null> {
  const rows = await sql`
    update job set
      status = 'processing',
      started_at = ${now},
      attempts = attempts + 1,
      lease_owner = ${owner},
      lease_token = gen_random_uuid(),
      heartbeat_at = ${now}
    where id = (
      select id from job
      where status = 'pending' and expires_at > ${now}
        and provider <> all(${sql.array(skipProviders)}::text[])
      order by created_at
      limit 1
      for update skip locked
    )
    returning *`;
  return rows[0] ? toJob(rows[0]) : null;
}

/** Extends the lease; false means the job is no longer ours (finalized, cancelled or reclaimed). */
export async function heartbeat(sql: Sql, id: string, token: string, now: Date): Promise<boolean> {
  const rows = await sql`
    update job set heartbeat_at = ${now}
    where id = ${id} and lease_token = ${token} and status = 'processing'
    returning id`;
  return rows.length === 1;
}

export interface ResultColumns {
  resultPath: string;
  thumbPath: string | null;
  resultMime: string;
  resultSize: number;
  resultSha256: string;
  resultExpiresAt: Date;
  providerLatencyMs: number | null;
}

/**
 * Fenced success: only the current lease holder of a processing job that is not past its deadline
 * may finalize it. Returns null when the fence refuses (the caller discards its result).
 */
export async function finalizeSucceeded(
  sql: Sql,
  id: string,
  token: string,
  now: Date,
  r: ResultColumns,
): Promise<JobRow | null> {
  const rows = await sql`
    with done as (
      update job set
        status = 'succeeded', finalized_at = ${now}, lease_token = null,
        result_path = ${r.resultPath}, thumb_path = ${r.thumbPath}, result_mime = ${r.resultMime},
        result_size = ${r.resultSize}, result_sha256 = ${r.resultSha256},
        result_expires_at = ${r.resultExpiresAt}, provider_latency_ms = ${r.providerLatencyMs}
      where id = ${id} and lease_token = ${token} and status = 'processing' and expires_at > ${now}
      returning *
    )
    select done.*, pg_notify(${CHANNEL_JOB_DONE}, done.id::text) from done`;
  return rows[0] ? toJob(rows[0]) : null;
}

/** Fenced failure by the lease holder (provider error, blocked, invalid config, internal error). */
export async function finalizeFailed(
  sql: Sql,
  id: string,
  token: string,
  now: Date,
  reason: FailureReason,
  message: string,
  providerLatencyMs: number | null,
): Promise<JobRow | null> {
  const rows = await sql`
    with done as (
      update job set
        -- A provider that gives up for lack of time (e.g. Gemini NO_IMAGE retries) ends as timeout.
        status = case when ${reason} = 'timeout' then 'timeout' else 'failed' end,
        failure_reason = ${reason}, error_message = ${message},
        finalized_at = ${now}, lease_token = null, provider_latency_ms = ${providerLatencyMs}
      where id = ${id} and lease_token = ${token} and status = 'processing' and expires_at > ${now}
      returning *
    )
    select done.*, pg_notify(${CHANNEL_JOB_DONE}, done.id::text) from done`;
  return rows[0] ? toJob(rows[0]) : null;
}

/**
 * Finalizes a job as `timeout` once its deadline has passed. Used by the waiter at the deadline, by
 * the worker whose call was cut by the deadline, and by the sweeper. Null if it already ended.
 */
export async function expireJob(sql: Sql, id: string, now: Date): Promise<JobRow | null> {
  const rows = await sql`
    with done as (
      update job set
        status = 'timeout', failure_reason = 'timeout', finalized_at = ${now}, lease_token = null,
        error_message = 'The deadline passed before the provider answered'
      where id = ${id} and status in ${sql(ACTIVE)} and expires_at <= ${now}
      returning *
    )
    select done.*, pg_notify(${CHANNEL_JOB_DONE}, done.id::text) from done`;
  return rows[0] ? toJob(rows[0]) : null;
}

/** An admin's cancel: any pending or processing job ends as `cancelled`. */
export async function cancelJob(sql: Sql, id: string, now: Date, by: string): Promise<JobRow | null> {
  const rows = await sql`
    with done as (
      update job set
        status = 'cancelled', failure_reason = 'cancelled', finalized_at = ${now}, lease_token = null,
        error_message = ${`Cancelled by ${by}`}
      where id = ${id} and status in ${sql(ACTIVE)}
      returning *
    )
    select done.*, pg_notify(${CHANNEL_JOB_DONE}, done.id::text) from done`;
  return rows[0] ? toJob(rows[0]) : null;
}

/**
 * Resolves jobs orphaned by a crash: processing jobs whose lease heartbeat lapsed, pending jobs whose
 * waiting instance is gone, and anything active past its deadline by more than `graceMs`. Past the
 * deadline they end as `timeout`, otherwise as failed/`interrupted`.
 */
export async function recoverOrphans(
  sql: Sql,
  now: Date,
  leaseTtlMs: number,
  graceMs: number,
): Promise<JobRow[]> {
  const lapsed = new Date(now.getTime() - leaseTtlMs);
  const overdue = new Date(now.getTime() - graceMs);
  const rows = await sql`
    with done as (
      update job set
        status = case when expires_at <= ${now} then 'timeout' else 'failed' end,
        failure_reason = case when expires_at <= ${now} then 'timeout' else 'interrupted' end,
        error_message = case when expires_at <= ${now} then 'The deadline passed before the job finished'
          else 'The server stopped while the job was running' end,
        finalized_at = ${now}, lease_token = null
      where status in ${sql(ACTIVE)} and (
        (status = 'processing' and heartbeat_at < ${lapsed})
        or (status = 'pending' and not exists (
          select 1 from instance i
          where i.id = job.instance_id and i.stopped_at is null and i.heartbeat_at >= ${lapsed}))
        or expires_at <= ${overdue}
      )
      returning *
    )
    select done.*, pg_notify(${CHANNEL_JOB_DONE}, done.id::text) from done`;
  return rows.map(toJob);
}

export async function getJob(sql: Sql, id: string): Promise<JobRow | null> {
  const rows = await sql`select * from job where id = ${id}`;
  return rows[0] ? toJob(rows[0]) : null;
}

export async function countActive(sql: Sql): Promise<{ pending: number; processing: number }> {
  const rows = await sql<{ status: string; n: number }[]>`
    select status, count(*)::int as n from job where status in ${sql(ACTIVE)} group by status`;
  const out = { pending: 0, processing: 0 };
  for (const r of rows) out[r.status as "pending" | "processing"] = r.n;
  return out;
}

export async function setProviderRef(sql: Sql, id: string, token: string, ref: string): Promise<void> {
  await sql`update job set provider_job_ref = ${ref} where id = ${id} and lease_token = ${token}`;
}

/** Records a thumbnail made after the fact; false when the result is gone (purged) meanwhile. */
export async function recordThumbnail(sql: Sql, id: string, path: string): Promise<boolean> {
  const rows = await sql`
    update job set thumb_path = ${path}
    where id = ${id} and status = 'succeeded' and result_path is not null and result_deleted_at is null
    returning id`;
  return rows.length === 1;
}

export async function clearPayload(sql: Sql, id: string): Promise<void> {
  await sql`update job set payload_path = null where id = ${id}`;
}

export interface LogEntry {
  jobId: string;
  slotId: string;
  event: string;
  at: Date;
  providerLatencyMs?: number | null;
  message?: string | null;
  details?: Record<string, unknown>;
}

export async function appendLog(sql: Sql, e: LogEntry): Promise<void> {
  await sql`
    insert into processing_log (job_id, slot_id, event, occurred_at, provider_latency_ms, message, details)
    values (${e.jobId}, ${e.slotId}, ${e.event}, ${e.at}, ${e.providerLatencyMs ?? null},
            ${e.message ?? null}, ${sql.json((e.details ?? {}) as never)})`;
}

/**
 * Relays NOTIFY from other processes (and our own) to the handlers: a job finalized, a job queued.
 * After a (re)connect a hint may have been missed, so `onQueued` is called then too.
 */
export async function listenForJobs(
  sql: Sql,
  handlers: { onFinalized(jobId: string): void; onQueued(): void; onConnected?(): void },
): Promise<{ unlisten(): Promise<void> }> {
  const done = await sql.listen(
    CHANNEL_JOB_DONE,
    (payload) => handlers.onFinalized(payload),
    () => handlers.onConnected?.(),
  );
  const queued = await sql.listen(
    CHANNEL_JOB_NEW,
    () => handlers.onQueued(),
    () => handlers.onQueued(),
  );
  return {
    async unlisten() {
      await done.unlisten().catch(() => {});
      await queued.unlisten().catch(() => {});
    },
  };
}
