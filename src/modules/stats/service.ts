/**
 * Statistics from the `job` table (the queries are in src/store/job-stats.ts): booth ingests only,
 * counted once final, in the period they were received, bucketed in the box's time zone.
 * Counting follows `classifyOutcome` (src/domain/outcome.ts); latency is `finalized_at − created_at` (what the booth
 * waited) and the provider's own latency.
 */

import {
  type Bucket,
  bucketEdges,
  type Grain,
  truncate,
  wallClock,
  zonedInstant,
} from "../../domain/calendar";
import { costOf } from "../../domain/cost";
import { classifyOutcome } from "../../domain/outcome";
import { AppError } from "../../lib/errors";
import type { Services } from "../../services";
import type { AggregateRow, JobFilter } from "../../store/index";
import { LIVE_CACHE_MS } from "../../store/job-rollup";
import {
  type Counts,
  GLOBAL_RANGE,
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

function counts(row: AggregateRow | undefined): Counts {
  if (!row) return ZERO_COUNTS;
  return {
    success: row.success,
    timeouts: row.timeouts,
    provider_errors: row.provider_errors,
    provider_no_image: row.provider_no_image,
    invalid_config: row.invalid_config,
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

type StatsDeps = Pick<Services, "store" | "log" | "settings">;

function summaryOf(row: AggregateRow, reasons: Record<string, number>, fallback: number): StatsSummary {
  const c = withTotals(counts(row));
  return {
    ...c,
    fallback_success: fallback,
    ...latencies(row),
    success_rate: rate(c.success, c.ingest_count),
    timeout_rate: rate(c.timeouts, c.ingest_count),
    failure_reasons: reasons,
  };
}

/**
 * The summary of the range and every bucket of it in order (the empty ones as zeros), from the
 * hourly rollup (the same numbers as `aggregate` and `failureReasons` over `job`).
 */
async function rangeStats(
  services: StatsDeps,
  f: JobFilter,
  bucketing: { grain: Grain; tz: string } | null,
): Promise<{ summary: StatsSummary; buckets: StatsBucket[] }> {
  const edges = bucketing ? bucketEdges(f.from, f.to, bucketing.grain, bucketing.tz) : null;
  const [r, fallback] = await Promise.all([
    services.store.jobs.rollupStats(f, edges),
    services.store.jobs.fallbackSuccesses(f),
  ]);
  const byKey = new Map(r.buckets.map((b) => [b.bucket!, b]));
  return {
    summary: summaryOf(r.summary, r.reasons, fallback),
    buckets: (edges ?? []).map((e) => toBucket(e, byKey.get(e.key))),
  };
}

function toBucket(e: Bucket, row: AggregateRow | undefined): StatsBucket {
  return {
    period_start: e.start.toISOString(),
    period_end: e.end.toISOString(),
    ...withTotals(counts(row)),
    ...latencies(row),
  };
}

const recentReads = new WeakMap<object, Map<string, { at: number; value: Promise<unknown> }>>();

/**
 * A read of a range that ends now, reused for LIVE_CACHE_MS like the rollup's open hours (keyed by
 * the end's LIVE_CACHE_MS slice): an evening's dashboards repeat it every few seconds, and a page
 * then shows jobs at most that old. A range that ends elsewhere is read each time.
 */
function recentRead<T>(
  services: StatsDeps,
  key: unknown[],
  to: Date,
  now: Date,
  read: () => Promise<T>,
): Promise<T> {
  if (Math.abs(now.getTime() - to.getTime()) > LIVE_CACHE_MS) return read();
  let reads = recentReads.get(services.store);
  if (!reads) {
    reads = new Map();
    recentReads.set(services.store, reads);
  }
  const k = JSON.stringify([...key, Math.floor(to.getTime() / LIVE_CACHE_MS)]);
  const hit = reads.get(k);
  if (hit && performance.now() - hit.at < LIVE_CACHE_MS) return hit.value as Promise<T>;
  const value = read();
  value.catch(() => reads.delete(k));
  if (reads.size >= 256) reads.clear();
  reads.set(k, { at: performance.now(), value });
  return value;
}

/**
 * The range's cost (billed requests × prices, src/domain/cost.ts) and its booth timeouts with a
 * provider queue id — the parts of the statistics that are not in the hourly rollup.
 */
async function costAndQueue(services: StatsDeps, f: JobFilter, now: Date) {
  const key = [f.from.toISOString(), f.slotId ?? null, f.provider ?? null];
  const [billed, queued, settings] = await Promise.all([
    recentRead(services, ["billed", ...key], f.to, now, () => services.store.jobs.billedAnswers(f)),
    recentRead(services, ["queued", ...key], f.to, now, () => services.store.jobs.timeoutsWithProviderRef(f)),
    services.settings.current(),
  ]);
  const counted = f.provider ? { [f.provider]: billed[f.provider] ?? 0 } : billed;
  const c = costOf(counted, settings.providerPrice);
  return {
    cost: c.total,
    currency: settings.currency,
    cost_detail: {
      by_provider: Object.fromEntries(
        Object.entries(c.byProvider).filter(([p]) => !f.provider || p === f.provider),
      ),
      unpriced_requests: c.unpricedRequests,
    },
    provider_queue: {
      timeouts: queued.timeouts,
      timeouts_with_provider_ref: queued.withRef,
      share: rate(queued.withRef, queued.timeouts),
    },
  };
}

/**
 * Each slot's summary and cost over [from, to): the statistics page's per-slot rows. The summaries
 * come from the (cached) hourly rollup; the fallback successes and the billed answers of all slots
 * are two grouped reads, not two per slot.
 */
export async function slotSummaries(
  services: StatsDeps,
  slotIds: readonly string[],
  from: Date,
  to: Date,
): Promise<{ summary: StatsSummary; cost: number }[]> {
  const key = [from.toISOString()];
  const [stats, fallback, billed, settings] = await Promise.all([
    Promise.all(slotIds.map((slotId) => services.store.jobs.rollupStats({ from, to, slotId }, null))),
    recentRead(services, ["fallback by slot", ...key], to, to, () =>
      services.store.jobs.fallbackSuccessesBySlot({ from, to }),
    ),
    recentRead(services, ["billed by slot", ...key], to, to, () =>
      services.store.jobs.billedAnswersBySlot({ from, to }),
    ),
    services.settings.current(),
  ]);
  return slotIds.map((slotId, i) => ({
    summary: summaryOf(stats[i]!.summary, stats[i]!.reasons, fallback[slotId] ?? 0),
    cost: costOf(billed[slotId] ?? {}, settings.providerPrice).total,
  }));
}

/** Every slot's jobs over [from, to) in hour buckets (the statistics page's 24-hour chart). */
export async function hourBuckets(
  services: StatsDeps,
  from: Date,
  to: Date,
  tz: string,
): Promise<StatsBucket[]> {
  return (await rangeStats(services, { from, to }, { grain: "hour", tz })).buckets;
}

/** Money spent from `from` to `to` (all slots), for the dashboard's "today". */
export async function spend(services: StatsDeps, from: Date, to: Date) {
  const { cost, currency, cost_detail } = await costAndQueue(services, { from, to }, to);
  return { cost, currency, unpricedRequests: cost_detail.unpriced_requests };
}

function rangeOut(from: Date, to: Date, grain: Grain, tz: string) {
  return { from: from.toISOString(), to: to.toISOString(), group_by: grain, time_zone: tz };
}

/** GET /api/stats/global. */
export async function globalStats(
  services: StatsDeps,
  query: GlobalStatsQuery,
  now: Date,
  tz: string,
): Promise<GlobalStatsResponse> {
  const grain = query.group_by ?? "week";
  const page = intParam("page", query.page, 1, 10_000, 1);
  const pageSize = intParam("page_size", query.page_size, 1, MAX_PAGE_SIZE, DEFAULT_PAGE_SIZE);
  const { from, to } = resolveRange(query, grain, now, tz, GLOBAL_RANGE);
  const f: JobFilter = { from, to, slotId: query.slot_id ?? null, provider: query.provider ?? null };
  const [{ summary, buckets }, extra] = await Promise.all([
    rangeStats(services, f, { grain, tz }),
    costAndQueue(services, f, now),
  ]);
  return {
    range: rangeOut(from, to, grain, tz),
    filters: { slot_id: f.slotId ?? null, provider: f.provider ?? null },
    summary,
    ...pageOf(buckets, page, pageSize),
    ...extra,
  };
}

/**
 * GET /api/stats/{slot_id}: buckets over the requested range (history, unaffected by a reset) and a
 * summary of everything since the slot's last statistics reset — or since `from` if never reset.
 */
export async function slotStats(
  services: StatsDeps,
  slotId: string,
  query: SlotStatsQuery,
  now: Date,
  tz: string,
): Promise<SlotStatsResponse> {
  const row = await services.store.slots.get(slotId);
  if (!row) throw new AppError("slot_not_found", `There is no slot "${slotId}"`, { slot_id: slotId });
  const grain = query.group_by ?? "day";
  const { from, to } = resolveRange(query, grain, now, tz, SLOT_RANGE);
  const since = row.statsResetAt ?? from;
  const [{ summary }, { buckets }, extra] = await Promise.all([
    rangeStats(services, { from: since, to: now, slotId }, null),
    rangeStats(services, { from, to, slotId }, { grain, tz }),
    costAndQueue(services, { from, to, slotId }, now),
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
    ...extra,
  };
}

/** The latest finished failures among the ingests received since `since`, with the booth's status. */
export async function recentFailures(
  services: Pick<Services, "store">,
  since: Date,
  limit = RECENT_FAILURES,
): Promise<RecentFailure[]> {
  const rows = await services.store.jobs.recentFailures(since, limit);
  return rows.map((r) => ({
    job_id: r.id,
    slot_id: r.slot_id,
    finished_at: r.finalized_at.toISOString(),
    status: r.status,
    failure_reason: r.failure_reason ?? r.status,
    http_status: classifyOutcome(r.status, r.failure_reason)?.httpStatus ?? 500,
    message: r.error_message,
  }));
}

/** How long the overview reuses the media's sizes (a local media dir is walked file by file). */
const MEDIA_BYTES_MS = 10_000;
const mediaSizes = new WeakMap<object, { at: number; value: Promise<Record<string, number>> }>();

/**
 * The media's bytes by kind for the overview, reused for MEDIA_BYTES_MS: on a box with a night's
 * results the local store stats every file, and the statistics page asks on every load.
 * (/metrics reads them fresh.)
 */
function recentMediaBytes(media: Services["media"]): Promise<Record<string, number>> {
  const hit = mediaSizes.get(media);
  if (hit && performance.now() - hit.at < MEDIA_BYTES_MS) return hit.value;
  const value = media.bytesByKind();
  value.catch(() => mediaSizes.delete(media));
  mediaSizes.set(media, { at: performance.now(), value });
  return value;
}

/** GET /api/stats/overview: the dashboard's live picture of the last `windowMinutes`. */
export async function overview(
  services: Pick<Services, "store" | "queue" | "media">,
  query: { window_minutes?: number },
  now: Date,
): Promise<OverviewResponse> {
  const { min, max } = WINDOW_MINUTES;
  const windowMinutes = intParam("window_minutes", query.window_minutes, min, max, DEFAULT_WINDOW_MINUTES);
  const since = new Date(now.getTime() - windowMinutes * 60_000);
  const slotRows = await services.store.slots.list();
  const [lasts, windows, failures, queue, mediaBytes, disk] = await Promise.all([
    services.store.jobs.lastOutcomes(slotRows.map((r) => r.id)),
    services.store.jobs.windowCounts(since),
    recentFailures(services, since),
    services.queue.counts(),
    recentMediaBytes(services.media),
    services.media.diskUsage(),
  ]);
  const lastBySlot = new Map(lasts.map((l) => [l.slot_id, l]));
  const bySlot = new Map(windows.map((w) => [w.slot_id, w]));
  let total: Counts = ZERO_COUNTS;
  const slots: OverviewSlot[] = slotRows.map((l) => {
    const last = lastBySlot.get(l.id);
    const w = bySlot.get(l.id) ?? ZERO_COUNTS;
    total = {
      success: total.success + w.success,
      timeouts: total.timeouts + w.timeouts,
      provider_errors: total.provider_errors + w.provider_errors,
      provider_no_image: total.provider_no_image + w.provider_no_image,
      invalid_config: total.invalid_config + w.invalid_config,
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
      last_success_at: last?.last_success_at?.toISOString() ?? null,
      last_error_at: last?.last_error_at?.toISOString() ?? null,
      last_error_reason: last?.last_error_reason ?? null,
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

/**
 * The studio's calendar day so far: from its midnight in the box's time zone (the zone the
 * statistics are bucketed in) to `now`.
 */
export function todaySoFar(now: Date, tz: string): { from: Date; to: Date } {
  return { from: zonedInstant(truncate(wallClock(now, tz), "day"), tz), to: now };
}

/** Booth requests refused per slot since `since` (the hourly `ingest_refusal` counters, every reason). */
export async function refusalsBySlot(
  services: Pick<Services, "store">,
  since: Date,
): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const r of await services.store.attention.refusalsSince(since))
    out[r.slot_id] = (out[r.slot_id] ?? 0) + r.count;
  return out;
}
