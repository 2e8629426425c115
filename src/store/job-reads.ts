/**
 * Reads of `job` and `processing_log` for the admin side: the filtered job list, one job's
 * timeline, a slot's recent results and outcome counts, and what the cleaner looks for. Same
 * style as the queue statements (postgres.js, rows mapped by `toJob`).
 */
import type { Sql } from "../db/client";
import type { JobRow, JobStatus } from "../db/schema";
import { rollupGroups } from "./job-rollup";
import { toJob } from "./queue/rows";

export interface JobListFilter {
  statuses?: readonly JobStatus[];
  slotId?: string;
  source?: "ingest" | "test_run" | "rerun";
  from?: Date;
  to?: Date;
  /** Rows to skip and to return (newest first). */
  offset: number;
  limit: number;
  /** Also count every match (default); a page that shows no total skips it. */
  count?: boolean;
}

export interface TimelineRow {
  event: string;
  occurredAt: Date;
  providerLatencyMs: number | null;
  message: string | null;
  details: Record<string, unknown>;
}

/** A page of jobs, newest first, and how many match in all (-1 when not counted). */
export async function listJobs(
  sql: Sql,
  f: JobListFilter,
  now: Date,
): Promise<{ rows: JobRow[]; total: number }> {
  const where = sql`true
    ${f.statuses?.length ? sql`and status in ${sql(f.statuses as JobStatus[])}` : sql``}
    ${f.slotId ? sql`and slot_id = ${f.slotId}` : sql``}
    ${f.source ? sql`and source = ${f.source}` : sql``}
    ${f.from ? sql`and created_at >= ${f.from}` : sql``}
    ${f.to ? sql`and created_at < ${f.to}` : sql``}`;
  const [rows, total] = await Promise.all([
    sql`select * from job where ${where} order by created_at desc, id desc limit ${f.limit} offset ${f.offset}`,
    f.count === false ? -1 : countJobs(sql, f, now),
  ]);
  return { rows: rows.map(toJob), total };
}

/**
 * How many jobs match, from the statistics' hourly rollup for the closed hours and `job` for the
 * rest: the same number as `count(*)`, without reading every row.
 */
export async function countJobs(
  sql: Sql,
  f: Omit<JobListFilter, "offset" | "limit">,
  now: Date,
): Promise<number> {
  const groups = await rollupGroups(sql, {
    from: f.from ?? null,
    to: f.to ?? null,
    slotId: f.slotId ?? null,
    source: f.source ?? null,
    statuses: f.statuses?.length ? f.statuses : null,
    latencies: false,
    now,
  });
  return groups.reduce((n, g) => n + g.n, 0);
}

/** Each slot's newest job with `status` (one index probe per slot). */
export async function newestPerSlot(sql: Sql, slotIds: string[], status: JobStatus): Promise<JobRow[]> {
  const rows = await sql`
    select j.* from unnest(${sql.array(slotIds)}::text[]) as s(id)
    cross join lateral (
      select * from job where slot_id = s.id and status = ${status}
      order by created_at desc, id desc limit 1
    ) j`;
  return rows.map(toJob);
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

export interface ExportRow {
  id: string;
  source: string;
  status: JobStatus;
  failureReason: string | null;
  createdAt: Date;
  finalizedAt: Date | null;
  provider: string;
  clientMeta: Record<string, string>;
  /** The result file while it is kept (not expired, deleted or cleaned); else null. */
  resultPath: string | null;
  resultMime: string | null;
  resultSha256: string | null;
}

/**
 * A slot's finished jobs created in [from, to), oldest first, for the export: every final status
 * (the index lists failures too), the result's file only while it is kept at `now`. At most `limit`.
 */
export async function exportRows(
  sql: Sql,
  f: { slotId: string; from: Date; to: Date; now: Date; limit: number },
): Promise<ExportRow[]> {
  return sql<ExportRow[]>`
    select id, source, status, failure_reason as "failureReason", created_at as "createdAt",
      finalized_at as "finalizedAt", coalesce(served_provider, provider) as provider,
      client_meta as "clientMeta",
      case when status = 'succeeded' and result_path is not null and result_deleted_at is null
        and deleted_at is null and (result_expires_at is null or result_expires_at > ${f.now})
        then result_path end as "resultPath",
      result_mime as "resultMime", result_sha256 as "resultSha256"
    from job
    where slot_id = ${f.slotId} and created_at >= ${f.from} and created_at < ${f.to}
      and status in ('succeeded', 'failed', 'timeout', 'cancelled')
    order by created_at, id
    limit ${f.limit}`;
}

export interface BoothFieldRow {
  name: string;
  /** The newest value the booth sent for it. */
  latest: string;
  /** In how many of the jobs looked at it was sent. */
  jobs: number;
}

/** The form fields (and query parameters) the booth sent with the slot's newest `limit` booth jobs. */
export async function boothFields(sql: Sql, slotId: string, limit: number): Promise<BoothFieldRow[]> {
  return sql<BoothFieldRow[]>`
    select f.key as name, (array_agg(f.value order by j.created_at desc))[1] as latest,
      count(*)::int as jobs
    from (
      select client_meta, created_at from job
      where slot_id = ${slotId} and source = 'ingest'
      order by created_at desc limit ${limit}
    ) j cross join lateral jsonb_each_text(j.client_meta) f
    group by f.key
    order by f.key`;
}

/**
 * Booth jobs of a slot created since `since` (all when null), counted by status and reason — from
 * the statistics' hourly rollup for the closed hours (the same counts as a scan of `job`).
 */
export async function outcomeCounts(
  sql: Sql,
  slotId: string,
  since: Date | null,
  now: Date,
): Promise<{ status: JobStatus; reason: string | null; n: number }[]> {
  const groups = await rollupGroups(sql, {
    from: since,
    to: null,
    slotId,
    source: "ingest",
    latencies: false,
    now,
  });
  const out = new Map<string, { status: JobStatus; reason: string | null; n: number }>();
  for (const g of groups) {
    const key = JSON.stringify([g.status, g.reason]);
    const row = out.get(key);
    if (row) row.n += g.n;
    else out.set(key, { status: g.status as JobStatus, reason: g.reason, n: g.n });
  }
  return [...out.values()];
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

/** Photo files jobs still keep: those of active jobs, and of failures kept for a re-run. */
export async function keptPayloadPaths(sql: Sql): Promise<string[]> {
  const rows = await sql<{ p: string }[]>`
    select payload_path as p from job
    where payload_path is not null and status in ('pending', 'processing')
    union all
    select payload_path from job
    where payload_path is not null and status in ('failed', 'timeout', 'cancelled')`;
  return rows.map((r) => r.p);
}

/** Photos of jobs that ended without success whose retention ended before `cutoff` (finalized then). */
export async function expiredPayloads(
  sql: Sql,
  cutoff: Date,
): Promise<{ id: string; payloadPath: string }[]> {
  return sql<{ id: string; payloadPath: string }[]>`
    select id, payload_path as "payloadPath" from job
    where payload_path is not null and status in ('failed', 'timeout', 'cancelled')
      and finalized_at <= ${cutoff}`;
}

/**
 * Lets go of the photos of these finished jobs (their retention ended), returning the paths they
 * pointed at for removal after the commit.
 */
export async function releasePayloads(sql: Sql, ids: string[]): Promise<string[]> {
  if (!ids.length) return [];
  const rows = await sql<{ p: string }[]>`
    with done as (
      update job set payload_path = null
      where id in ${sql(ids)} and payload_path is not null and status in ('failed', 'timeout', 'cancelled')
      returning id
    )
    select p.payload_path as p from done join job p on p.id = done.id`;
  return rows.map((r) => r.p);
}

/** Result and thumbnail files that jobs still point at. */
export async function liveResultPaths(sql: Sql): Promise<string[]> {
  const rows = await sql<{ a: string | null; b: string | null }[]>`
    select result_path as a, thumb_path as b from job
    where result_path is not null and result_deleted_at is null`;
  return rows.flatMap((r) => [r.a, r.b].filter((p): p is string => !!p));
}

/**
 * The media keys jobs point at, with the SHA-256 recorded for each (null for thumbnails): active
 * jobs' photos and kept results with their thumbnails. The job's part of `media migrate`'s list.
 */
export async function jobMediaRefs(sql: Sql): Promise<Map<string, string | null>> {
  const rows = await sql<{ p: string; s: string | null }[]>`
    select payload_path as p, payload_sha256 as s from job
    where payload_path is not null and status in ('pending', 'processing')
    union all
    select result_path, result_sha256 from job where result_path is not null and result_deleted_at is null
    union all
    select thumb_path, null from job
    where thumb_path is not null and result_path is not null and result_deleted_at is null`;
  return new Map(rows.map((r) => [r.p, r.s]));
}

/** Results on disk now, and how many of them are past their retention (what a purge would delete). */
export async function storedResultCounts(sql: Sql, now: Date): Promise<{ kept: number; expired: number }> {
  const [row] = await sql<{ kept: number; expired: number }[]>`
    select count(*)::int as kept, count(*) filter (where result_expires_at <= ${now})::int as expired
    from job where result_path is not null and result_deleted_at is null`;
  return { kept: row?.kept ?? 0, expired: row?.expired ?? 0 };
}
