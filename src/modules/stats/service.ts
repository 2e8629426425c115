/**
 * Statistics from the `job` table (no cache, no aggregate tables): booth ingests only
 * (`source = 'ingest'`; test runs are rehearsals), counted once final, in the period they were
 * received (`created_at`), bucketed in the box's time zone. Counting follows `outcomeCategory`;
 * latency is `finalized_at − created_at` (what the booth waited) and the provider's own latency.
 * Every query is one statement served by the partial `job_*_stats_idx` indexes.
 */
import { eq } from "drizzle-orm";
import type { Sql } from "../../db/client";
import { type FailureReason, type JobStatus, slot } from "../../db/schema";
import { AppError } from "../../lib/errors";
import type { Runtime } from "../../runtime";
import {
  type Bucket,
  bucketEdges,
  type Counts,
  failureHttpStatus,
  GLOBAL_RANGE,
  type Grain,
  intParam,
  pageOf,
  rate,
  resolveRange,
  roundMs,
  SLOT_RANGE,
  withTotals,
  ZERO_COUNTS,
} from "./arithmetic";
import type {
  GlobalStatsQuery,
  GlobalStatsResponse,
  OverviewResponse,
  OverviewSlot,
  RecentFailure,
  SlotStatsQuery,
  SlotStatsResponse,
  StatsBucket,
  StatsSummary,
} from "./model";

export const DEFAULT_PAGE_SIZE = 100;
export const MAX_PAGE_SIZE = 500;
// Up to 30 days: the statistics page offers 24 h, 7 d and 30 d periods.
export const WINDOW_MINUTES = { min: 5, max: 43_200 };
export const DEFAULT_WINDOW_MINUTES = 60;
const RECENT_FAILURES = 20;

export interface JobFilter {
  from: Date;
  to: Date;
  slotId?: string | null;
  provider?: string | null;
}

interface AggregateRow {
  bucket: string | null;
  success: number;
  timeouts: number;
  provider_errors: number;
  cancelled: number;
  p50_total: number | null;
  p95_total: number | null;
  p50_provider: number | null;
  p95_provider: number | null;
}

/**
 * Counts and latency percentiles of the finished ingests matching `f`, per local period of `grain`
 * in `tz` (keyed like `wallKey`), or one row for the whole range when `grain` is null.
 */
export async function aggregateJobs(
  sql: Sql,
  f: JobFilter,
  bucketing: { grain: Grain; tz: string } | null,
): Promise<AggregateRow[]> {
  const bucket = bucketing
    ? sql`to_char(date_trunc(${bucketing.grain}, created_at at time zone ${bucketing.tz}), 'YYYY-MM-DD"T"HH24:MI:SS')`
    : sql`null::text`;
  const rows = await sql<AggregateRow[]>`
    select ${bucket} as bucket,
      count(*) filter (where status = 'succeeded')::int as success,
      count(*) filter (where status = 'timeout' or (status = 'failed' and failure_reason = 'timeout'))::int
        as timeouts,
      count(*) filter (where status = 'failed' and failure_reason is distinct from 'timeout')::int
        as provider_errors,
      count(*) filter (where status = 'cancelled')::int as cancelled,
      percentile_cont(0.5) within group (order by extract(epoch from finalized_at - created_at) * 1000)
        as p50_total,
      percentile_cont(0.95) within group (order by extract(epoch from finalized_at - created_at) * 1000)
        as p95_total,
      percentile_cont(0.5) within group (order by provider_latency_ms) as p50_provider,
      percentile_cont(0.95) within group (order by provider_latency_ms) as p95_provider
    from job
    where ${finishedIngests(sql, f)}
    ${bucketing ? sql`group by 1 order by 1` : sql``}`;
  return rows;
}

/** The WHERE clause shared by the statistics queries (literal predicates so the partial indexes apply). */
function finishedIngests(sql: Sql, f: JobFilter) {
  return sql`source = 'ingest' and status in ('succeeded', 'failed', 'timeout', 'cancelled')
    and created_at >= ${f.from} and created_at < ${f.to}
    ${f.slotId ? sql`and slot_id = ${f.slotId}` : sql``}
    ${f.provider ? sql`and provider = ${f.provider}` : sql``}`;
}

/** Finished failures by reason (`timeout` and `cancelled` statuses under their own names). */
export async function failureReasons(sql: Sql, f: JobFilter): Promise<Record<string, number>> {
  const rows = await sql<{ reason: string; n: number }[]>`
    select coalesce(failure_reason, status) as reason, count(*)::int as n
    from job
    where ${finishedIngests(sql, f)} and status <> 'succeeded'
    group by 1 order by 1`;
  return Object.fromEntries(rows.map((r) => [r.reason, r.n]));
}

function counts(row: AggregateRow | undefined): Counts {
  if (!row) return ZERO_COUNTS;
  return {
    success: row.success,
    timeouts: row.timeouts,
    provider_errors: row.provider_errors,
    cancelled: row.cancelled,
  };
}

function latencies(row: AggregateRow | undefined) {
  return {
    p50_latency_ms: roundMs(row?.p50_total),
    p95_latency_ms: roundMs(row?.p95_total),
    p50_provider_latency_ms: roundMs(row?.p50_provider),
    p95_provider_latency_ms: roundMs(row?.p95_provider),
  };
}

async function summarize(rt: Runtime, f: JobFilter): Promise<StatsSummary> {
  const [[row], reasons] = await Promise.all([aggregateJobs(rt.sql, f, null), failureReasons(rt.sql, f)]);
  const c = withTotals(counts(row));
  return {
    ...c,
    ...latencies(row),
    success_rate: rate(c.success, c.ingest_count),
    timeout_rate: rate(c.timeouts, c.ingest_count),
    failure_reasons: reasons,
  };
}

/** Every bucket of the range in order, the empty ones as zeros. */
async function bucketed(rt: Runtime, f: JobFilter, grain: Grain, tz: string): Promise<StatsBucket[]> {
  const edges = bucketEdges(f.from, f.to, grain, tz);
  const rows = await aggregateJobs(rt.sql, f, { grain, tz });
  const byKey = new Map(rows.map((r) => [r.bucket!, r]));
  const known = new Set(edges.map((e) => e.key));
  const stray = rows.filter((r) => !known.has(r.bucket!));
  if (stray.length) {
    // Cannot happen while the SQL and bucketEdges agree; if they ever do not, say so loudly.
    rt.log.error("stats.bucket_mismatch", { grain, tz, keys: stray.map((r) => r.bucket) });
  }
  return edges.map((e) => toBucket(e, byKey.get(e.key)));
}

function toBucket(e: Bucket, row: AggregateRow | undefined): StatsBucket {
  return {
    period_start: e.start.toISOString(),
    period_end: e.end.toISOString(),
    ...withTotals(counts(row)),
    ...latencies(row),
  };
}

function rangeOut(from: Date, to: Date, grain: Grain, tz: string) {
  return { from: from.toISOString(), to: to.toISOString(), group_by: grain, time_zone: tz };
}

/** GET /api/stats/global. */
export async function globalStats(
  rt: Runtime,
  query: GlobalStatsQuery,
  now: Date,
  tz: string,
): Promise<GlobalStatsResponse> {
  const grain = query.group_by ?? "week";
  const page = intParam("page", query.page, 1, 10_000, 1);
  const pageSize = intParam("page_size", query.page_size, 1, MAX_PAGE_SIZE, DEFAULT_PAGE_SIZE);
  const { from, to } = resolveRange(query, grain, now, tz, GLOBAL_RANGE);
  const f: JobFilter = { from, to, slotId: query.slot_id ?? null, provider: query.provider ?? null };
  const [summary, buckets] = await Promise.all([summarize(rt, f), bucketed(rt, f, grain, tz)]);
  return {
    range: rangeOut(from, to, grain, tz),
    filters: { slot_id: f.slotId ?? null, provider: f.provider ?? null },
    summary,
    ...pageOf(buckets, page, pageSize),
  };
}

/**
 * GET /api/stats/{slot_id}: buckets over the requested range (history, unaffected by a reset) and a
 * summary of everything since the slot's last statistics reset — or since `from` if never reset.
 */
export async function slotStats(
  rt: Runtime,
  slotId: string,
  query: SlotStatsQuery,
  now: Date,
  tz: string,
): Promise<SlotStatsResponse> {
  const [row] = await rt.db
    .select({ id: slot.id, name: slot.name, statsResetAt: slot.statsResetAt })
    .from(slot)
    .where(eq(slot.id, slotId));
  if (!row) throw new AppError(404, "slot_not_found", `There is no slot "${slotId}"`, { slot_id: slotId });
  const grain = query.group_by ?? "day";
  const { from, to } = resolveRange(query, grain, now, tz, SLOT_RANGE);
  const since = row.statsResetAt ?? from;
  const [summary, buckets] = await Promise.all([
    summarize(rt, { from: since, to: now, slotId }),
    bucketed(rt, { from, to, slotId }, grain, tz),
  ]);
  return {
    slot_id: slotId,
    range: rangeOut(from, to, grain, tz),
    summary: {
      ...summary,
      title: row.name,
      last_reset_at: row.statsResetAt?.toISOString() ?? null,
      since: since.toISOString(),
    },
    data: buckets,
  };
}

interface SlotLineRow {
  id: string;
  name: string;
  enabled: boolean;
  provider: string;
  operation: string;
  last_success_at: Date | null;
  last_error_at: Date | null;
  last_error_reason: string | null;
}

/** The 15 slots with their last success and last failure of all time (one index probe each). */
export async function slotLines(sql: Sql): Promise<SlotLineRow[]> {
  return sql<SlotLineRow[]>`
    select s.id, s.name, s.enabled, s.provider, s.operation,
      ok.finalized_at as last_success_at,
      bad.finalized_at as last_error_at,
      coalesce(bad.failure_reason, bad.status) as last_error_reason
    from slot s
    left join lateral (
      select finalized_at from job
      where slot_id = s.id and source = 'ingest' and status = 'succeeded'
      order by finalized_at desc limit 1
    ) ok on true
    left join lateral (
      select finalized_at, status, failure_reason from job
      where slot_id = s.id and source = 'ingest' and status in ('failed', 'timeout', 'cancelled')
      order by finalized_at desc limit 1
    ) bad on true
    order by s.id`;
}

interface WindowRow extends Counts {
  slot_id: string;
}

export async function windowCounts(sql: Sql, since: Date): Promise<WindowRow[]> {
  return sql<WindowRow[]>`
    select slot_id,
      count(*) filter (where status = 'succeeded')::int as success,
      count(*) filter (where status = 'timeout' or (status = 'failed' and failure_reason = 'timeout'))::int
        as timeouts,
      count(*) filter (where status = 'failed' and failure_reason is distinct from 'timeout')::int
        as provider_errors,
      count(*) filter (where status = 'cancelled')::int as cancelled
    from job
    where source = 'ingest' and status in ('succeeded', 'failed', 'timeout', 'cancelled')
      and created_at >= ${since}
    group by slot_id`;
}

interface FailureRow {
  id: string;
  slot_id: string;
  status: JobStatus;
  failure_reason: FailureReason | null;
  finalized_at: Date;
  error_message: string | null;
}

/** The latest finished failures among the ingests received since `since`. */
export async function recentFailures(
  sql: Sql,
  since: Date,
  limit = RECENT_FAILURES,
): Promise<RecentFailure[]> {
  const rows = await sql<FailureRow[]>`
    select id, slot_id, status, failure_reason, finalized_at, error_message
    from job
    where source = 'ingest' and status in ('failed', 'timeout', 'cancelled') and created_at >= ${since}
    order by finalized_at desc, id
    limit ${limit}`;
  return rows.map((r) => ({
    job_id: r.id,
    slot_id: r.slot_id,
    finished_at: r.finalized_at.toISOString(),
    status: r.status,
    failure_reason: r.failure_reason ?? r.status,
    http_status: failureHttpStatus(r.status, r.failure_reason),
    message: r.error_message,
  }));
}

/** GET /api/stats/overview: the dashboard's live picture of the last `windowMinutes`. */
export async function overview(
  rt: Runtime,
  query: { window_minutes?: number },
  now: Date,
): Promise<OverviewResponse> {
  const { min, max } = WINDOW_MINUTES;
  const windowMinutes = intParam("window_minutes", query.window_minutes, min, max, DEFAULT_WINDOW_MINUTES);
  const since = new Date(now.getTime() - windowMinutes * 60_000);
  const [lines, windows, failures, queue, mediaBytes, disk] = await Promise.all([
    slotLines(rt.sql),
    windowCounts(rt.sql, since),
    recentFailures(rt.sql, since),
    rt.queue.counts(),
    rt.media.bytesByKind(),
    rt.media.diskUsage(),
  ]);
  const bySlot = new Map(windows.map((w) => [w.slot_id, w]));
  let total: Counts = ZERO_COUNTS;
  const slots: OverviewSlot[] = lines.map((l) => {
    const w = bySlot.get(l.id) ?? ZERO_COUNTS;
    total = {
      success: total.success + w.success,
      timeouts: total.timeouts + w.timeouts,
      provider_errors: total.provider_errors + w.provider_errors,
      cancelled: total.cancelled + w.cancelled,
    };
    const c = withTotals(w);
    return {
      slot_id: l.id,
      name: l.name,
      enabled: l.enabled,
      provider: l.provider,
      operation: l.operation,
      ...c,
      success_rate: rate(c.success, c.ingest_count),
      timeout_rate: rate(c.timeouts, c.ingest_count),
      last_success_at: l.last_success_at?.toISOString() ?? null,
      last_error_at: l.last_error_at?.toISOString() ?? null,
      last_error_reason: l.last_error_reason,
    };
  });
  const all = withTotals(total);
  return {
    window_minutes: windowMinutes,
    generated_at: now.toISOString(),
    system: {
      ...all,
      success_rate: rate(all.success, all.ingest_count),
      timeout_rate: rate(all.timeouts, all.ingest_count),
      queue,
      media_bytes: mediaBytes,
      disk: { free_bytes: disk.free, total_bytes: disk.total },
    },
    slots,
    recent_failures: failures,
  };
}
