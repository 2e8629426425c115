/**
 * Reads of `job` and `processing_log` for the admin side: the filtered job list, one job's
 * timeline, a slot's recent results and outcome counts, and what the cleaner looks for. Same
 * style as the queue statements (postgres.js, rows mapped by `toJob`).
 */
import type { Sql } from "../db/client";
import type { JobRow, JobStatus } from "../db/schema";
import { toJob } from "./jobs";

export interface JobListFilter {
  statuses?: readonly JobStatus[];
  slotId?: string;
  source?: "ingest" | "test_run";
  from?: Date;
  to?: Date;
  /** Rows to skip and to return (newest first). */
  offset: number;
  limit: number;
}

export interface TimelineRow {
  event: string;
  occurredAt: Date;
  providerLatencyMs: number | null;
  message: string | null;
  details: Record<string, unknown>;
}

/** A page of jobs, newest first, and how many match in all. */
export async function listJobs(sql: Sql, f: JobListFilter): Promise<{ rows: JobRow[]; total: number }> {
  const where = sql`true
    ${f.statuses?.length ? sql`and status in ${sql(f.statuses as JobStatus[])}` : sql``}
    ${f.slotId ? sql`and slot_id = ${f.slotId}` : sql``}
    ${f.source ? sql`and source = ${f.source}` : sql``}
    ${f.from ? sql`and created_at >= ${f.from}` : sql``}
    ${f.to ? sql`and created_at < ${f.to}` : sql``}`;
  const [rows, [count]] = await Promise.all([
    sql`select * from job where ${where} order by created_at desc, id desc limit ${f.limit} offset ${f.offset}`,
    sql<{ n: number }[]>`select count(*)::int as n from job where ${where}`,
  ]);
  return { rows: rows.map(toJob), total: count?.n ?? 0 };
}

/** A job's processing log in order. */
export async function timeline(sql: Sql, jobId: string): Promise<TimelineRow[]> {
  return sql<TimelineRow[]>`
    select event, occurred_at as "occurredAt", provider_latency_ms as "providerLatencyMs",
      message, details
    from processing_log where job_id = ${jobId}
    order by occurred_at, id`;
}

export interface RecentResultRow {
  id: string;
  source: string;
  finalizedAt: Date;
  resultExpiresAt: Date | null;
}

/** The newest results of a slot that can still be downloaded at `now`. */
export async function recentResults(
  sql: Sql,
  slotId: string,
  now: Date,
  limit: number,
): Promise<RecentResultRow[]> {
  return sql<RecentResultRow[]>`
    select id, source, finalized_at as "finalizedAt", result_expires_at as "resultExpiresAt"
    from job
    where slot_id = ${slotId} and status = 'succeeded' and result_path is not null
      and result_deleted_at is null and (result_expires_at is null or result_expires_at > ${now})
    order by finalized_at desc
    limit ${limit}`;
}

/** Booth jobs of a slot created since `since` (all when null), counted by status and reason. */
export async function outcomeCounts(
  sql: Sql,
  slotId: string,
  since: Date | null,
): Promise<{ status: JobStatus; reason: string | null; n: number }[]> {
  return sql<{ status: JobStatus; reason: string | null; n: number }[]>`
    select status, failure_reason as reason, count(*)::int as n
    from job
    where slot_id = ${slotId} and source = 'ingest' ${since ? sql`and created_at >= ${since}` : sql``}
    group by status, failure_reason`;
}

// ---- for the cleaner ----

export interface StoredResultRow {
  id: string;
  resultPath: string | null;
  thumbPath: string | null;
}

/** Results still on disk whose retention ended by `now`. */
export async function expiredResults(sql: Sql, now: Date): Promise<StoredResultRow[]> {
  return sql<StoredResultRow[]>`
    select id, result_path as "resultPath", thumb_path as "thumbPath" from job
    where result_path is not null and result_deleted_at is null and result_expires_at <= ${now}`;
}

export async function markResultsDeleted(sql: Sql, ids: string[], now: Date): Promise<void> {
  if (ids.length) await sql`update job set result_deleted_at = ${now} where id in ${sql(ids)}`;
}

/** Payload files that active jobs still need. */
export async function activePayloadPaths(sql: Sql): Promise<string[]> {
  const rows = await sql<{ p: string }[]>`
    select payload_path as p from job
    where payload_path is not null and status in ('pending', 'processing')`;
  return rows.map((r) => r.p);
}

/** Result and thumbnail files that jobs still point at. */
export async function liveResultPaths(sql: Sql): Promise<string[]> {
  const rows = await sql<{ a: string | null; b: string | null }[]>`
    select result_path as a, thumb_path as b from job
    where result_path is not null and result_deleted_at is null`;
  return rows.flatMap((r) => [r.a, r.b].filter((p): p is string => !!p));
}

/** Results on disk now, and how many of them are past their retention (what a purge would delete). */
export async function storedResultCounts(sql: Sql, now: Date): Promise<{ kept: number; expired: number }> {
  const [row] = await sql<{ kept: number; expired: number }[]>`
    select count(*)::int as kept, count(*) filter (where result_expires_at <= ${now})::int as expired
    from job where result_path is not null and result_deleted_at is null`;
  return { kept: row?.kept ?? 0, expired: row?.expired ?? 0 };
}
