/**
 * The statistics' queries over `job` (and its hourly rollup, `rollupStats`): booth ingests only
 * (`source = 'ingest'`; test runs are rehearsals), counted once final, in the period they were
 * received (`created_at`). Each is one statement served by the `job_ingest_stats_idx`,
 * `job_slot_successes_idx` and `job_slot_failures_idx` partial indexes.
 */
import type { Sql } from "../db/client";
import type { FailureReason, JobStatus } from "../db/schema";
import {
  categoryRule,
  classifyOutcome,
  FINAL_STATUSES,
  noOutcomes,
  OUTCOME_CATEGORIES,
  type OutcomeCategory,
  type OutcomeCounts,
} from "../domain/outcome";
import { groupPercentiles, type RollupGroup, rollupGroups } from "./job-rollup";

export interface JobFilter {
  from: Date;
  to: Date;
  slotId?: string | null;
  provider?: string | null;
}

export type { OutcomeCounts };

export interface AggregateRow extends OutcomeCounts {
  bucket: string | null;
  p50_total: number | null;
  p95_total: number | null;
  p50_provider: number | null;
  p95_provider: number | null;
}

/** The rows `classifyOutcome` puts in `category`, as a SQL condition (built from its own rule). */
function isCategory(sql: Sql, category: OutcomeCategory) {
  const rule = categoryRule(category);
  const parts = [];
  if (rule.statuses.length) parts.push(sql`status in ${sql(rule.statuses)}`);
  if (rule.failedReasons.length) {
    parts.push(sql`(status = 'failed' and failure_reason in ${sql(rule.failedReasons)})`);
  }
  if (rule.failedUnknown) {
    parts.push(
      sql`(status = 'failed' and (failure_reason is null or failure_reason not in ${sql(rule.knownReasons)}))`,
    );
  }
  if (!parts.length) return sql`false`;
  return parts.reduce((all, part) => sql`${all} or ${part}`);
}

/** The outcome counters (one per `OUTCOME_CATEGORIES` entry) as SQL columns. */
function counters(sql: Sql) {
  return OUTCOME_CATEGORIES.map(
    (c) => sql`count(*) filter (where ${isCategory(sql, c)})::int as ${sql(c)}`,
  ).reduce((all, column) => sql`${all}, ${column}`);
}

/**
 * Counts and latency percentiles of the finished ingests matching `f`, per local period of `grain`
 * in `tz` (keyed like `wallKey`), or one row for the whole range when `bucketing` is null.
 */
export async function aggregateJobs(
  sql: Sql,
  f: JobFilter,
  bucketing: { grain: string; tz: string } | null,
): Promise<AggregateRow[]> {
  const bucket = bucketing
    ? sql`to_char(date_trunc(${bucketing.grain}, created_at at time zone ${bucketing.tz}), 'YYYY-MM-DD"T"HH24:MI:SS')`
    : sql`null::text`;
  return sql<AggregateRow[]>`
    select ${bucket} as bucket, ${counters(sql)},
      percentile_cont(0.5) within group (order by extract(epoch from finalized_at - created_at) * 1000)
        as p50_total,
      percentile_cont(0.95) within group (order by extract(epoch from finalized_at - created_at) * 1000)
        as p95_total,
      percentile_cont(0.5) within group (order by provider_latency_ms) as p50_provider,
      percentile_cont(0.95) within group (order by provider_latency_ms) as p95_provider
    from job
    where ${finishedIngests(sql, f)}
    ${bucketing ? sql`group by 1 order by 1` : sql``}`;
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

/**
 * The booth timeouts matching `f`, and how many of them the provider had taken into its own queue
 * (a `provider_job_ref`, e.g. Turbotext's queueid): those timed out while the provider still
 * worked on them, the rest before any provider took them.
 */
export async function timeoutsWithProviderRef(
  sql: Sql,
  f: JobFilter,
): Promise<{ timeouts: number; withRef: number }> {
  const [row] = await sql<{ timeouts: number; with_ref: number }[]>`
    select count(*)::int as timeouts, count(*) filter (where provider_job_ref is not null)::int as with_ref
    from job
    where ${finishedIngests(sql, f)} and (${isCategory(sql, "timeouts")})`;
  return { timeouts: row?.timeouts ?? 0, withRef: row?.with_ref ?? 0 };
}

/** One slot's billed answers of one provider. */
interface Billed {
  slot: string;
  provider: string;
  n: number;
}

const HOUR_MS = 3_600_000;
/** An hour this long closed takes no more log rows (they are written as they happen). */
const BILLED_SEAL_MS = 2 * HOUR_MS;
/** Closed hours kept per database (a year and more of hours). */
const BILLED_CACHE_HOURS = 10_000;
const billedCaches = new WeakMap<Sql, Map<number, Billed[]>>();

/**
 * Provider answers that carried an image (the billed requests, see src/domain/cost.ts) in
 * [from, to) by when they arrived, per slot and provider — of every job source (booth, test run,
 * re-run): the provider bills them all. `provider_responded` rows (success, or an image that could
 * not be stored) and `late_result_discarded` rows (an image after the deadline), which name their
 * provider when it was not the job's primary. The log rows of an hour that closed two hours before
 * `now` never change (they are written as things happen, and jobs are never deleted), so those
 * hours are counted once per process and kept; the edges of the range and the recent hours are
 * counted from `processing_log` each time, through `processing_log_time_idx`.
 */
async function billedRows(sql: Sql, from: Date, to: Date, now: Date): Promise<Billed[]> {
  let cache = billedCaches.get(sql);
  if (!cache) {
    cache = new Map();
    billedCaches.set(sql, cache);
  }
  const firstHour = Math.ceil(from.getTime() / HOUR_MS) * HOUR_MS;
  const sealedEnd = Math.min(
    Math.floor(to.getTime() / HOUR_MS) * HOUR_MS,
    Math.floor((now.getTime() - BILLED_SEAL_MS) / HOUR_MS) * HOUR_MS,
  );
  const out: Billed[] = [];
  const live: [Date, Date][] = [];
  if (firstHour < sealedEnd) {
    let missingFrom = Number.POSITIVE_INFINITY;
    let missingTo = Number.NEGATIVE_INFINITY;
    for (let h = firstHour; h < sealedEnd; h += HOUR_MS) {
      if (!cache.has(h)) {
        missingFrom = Math.min(missingFrom, h);
        missingTo = Math.max(missingTo, h + HOUR_MS);
      }
    }
    if (missingFrom < missingTo) {
      const rows = await sql<(Billed & { hour: string })[]>`
        select (floor(extract(epoch from l.occurred_at) / 3600) * 3600000)::bigint::text as hour, l.slot_id as slot,
          coalesce(l.details->>'provider', j.provider) as provider, count(*)::int as n
        from processing_log l join job j on j.id = l.job_id
        where l.event in ('provider_responded', 'late_result_discarded')
          and l.occurred_at >= ${new Date(missingFrom)} and l.occurred_at < ${new Date(missingTo)}
        group by 1, 2, 3`;
      for (let h = missingFrom; h < missingTo; h += HOUR_MS) cache.set(h, []);
      for (const r of rows) cache.get(Number(r.hour))?.push({ slot: r.slot, provider: r.provider, n: r.n });
      while (cache.size > BILLED_CACHE_HOURS) cache.delete(cache.keys().next().value!);
    }
    for (let h = firstHour; h < sealedEnd; h += HOUR_MS) out.push(...(cache.get(h) ?? []));
    if (from.getTime() < firstHour) live.push([from, new Date(firstHour)]);
    if (sealedEnd < to.getTime()) live.push([new Date(sealedEnd), to]);
  } else {
    live.push([from, to]);
  }
  if (live.length) {
    const within = ([a, b]: [Date, Date]) => sql`(l.occurred_at >= ${a} and l.occurred_at < ${b})`;
    const rows = await sql<Billed[]>`
      select l.slot_id as slot, coalesce(l.details->>'provider', j.provider) as provider, count(*)::int as n
      from processing_log l join job j on j.id = l.job_id
      where l.event in ('provider_responded', 'late_result_discarded')
        and (${within(live[0]!)} ${live[1] ? sql`or ${within(live[1])}` : sql``})
      group by 1, 2`;
    out.push(...rows);
  }
  return out;
}

/** Billed answers in [from, to) per provider, of one slot or all (see billedRows). */
export async function billedAnswers(
  sql: Sql,
  f: { from: Date; to: Date; slotId?: string | null },
  now: Date,
): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const r of await billedRows(sql, f.from, f.to, now)) {
    if (!f.slotId || r.slot === f.slotId) out[r.provider] = (out[r.provider] ?? 0) + r.n;
  }
  return out;
}

/** `billedAnswers` of every slot at once (the statistics page's per-slot rows). */
export async function billedAnswersBySlot(
  sql: Sql,
  f: { from: Date; to: Date },
  now: Date,
): Promise<Record<string, Record<string, number>>> {
  const out: Record<string, Record<string, number>> = {};
  for (const r of await billedRows(sql, f.from, f.to, now)) {
    const slot = out[r.slot] ?? {};
    slot[r.provider] = (slot[r.provider] ?? 0) + r.n;
    out[r.slot] = slot;
  }
  return out;
}

/** `fallbackSuccesses` of every slot at once. */
export async function fallbackSuccessesBySlot(
  sql: Sql,
  f: { from: Date; to: Date },
): Promise<Record<string, number>> {
  const rows = await sql<{ slot_id: string; n: number }[]>`
    select slot_id, count(*)::int as n from job
    where source = 'ingest' and status = 'succeeded' and fallback_used
      and created_at >= ${f.from} and created_at < ${f.to}
    group by 1`;
  return Object.fromEntries(rows.map((r) => [r.slot_id, r.n]));
}

/**
 * Booth jobs matching `f` that the slot's fallback provider served (they count as successes too),
 * from the `job_fallback_success_idx` partial index.
 */
export async function fallbackSuccesses(sql: Sql, f: JobFilter): Promise<number> {
  const [row] = await sql<{ n: number }[]>`
    select count(*)::int as n from job
    where source = 'ingest' and status = 'succeeded' and fallback_used
      and created_at >= ${f.from} and created_at < ${f.to}
      ${f.slotId ? sql`and slot_id = ${f.slotId}` : sql``}
      ${f.provider ? sql`and provider = ${f.provider}` : sql``}`;
  return row?.n ?? 0;
}

export interface LastOutcomeRow {
  slot_id: string;
  last_success_at: Date | null;
  last_error_at: Date | null;
  last_error_reason: string | null;
}

/**
 * The lateral joins giving the slot `s.id` its newest booth success (`ok.finalized_at`) and its
 * newest failure (`bad.finalized_at`, `bad.status`, `bad.failure_reason`, `bad.error_message`),
 * an admin's cancel counted as one or not: one probe each of the partial indexes (literal
 * statuses, so a generic plan still uses them). Shared by the statistics and the attention
 * queries, so both read "last success" and "last failure" the same way.
 */
export function lastOutcomeJoins(sql: Sql, failures: "with-cancels" | "without-cancels") {
  const failed =
    failures === "with-cancels"
      ? sql`status in ('failed', 'timeout', 'cancelled')`
      : sql`status in ('failed', 'timeout')`;
  return sql`
    left join lateral (
      select finalized_at from job
      where slot_id = s.id and source = 'ingest' and status = 'succeeded'
      order by finalized_at desc limit 1
    ) ok on true
    left join lateral (
      select finalized_at, status, failure_reason, error_message from job
      where slot_id = s.id and source = 'ingest' and ${failed}
      order by finalized_at desc limit 1
    ) bad on true`;
}

/** Each slot's last booth success and last failure of all time (one index probe each). */
export async function lastOutcomes(sql: Sql, slotIds: string[]): Promise<LastOutcomeRow[]> {
  return sql<LastOutcomeRow[]>`
    select s.id as slot_id,
      ok.finalized_at as last_success_at,
      bad.finalized_at as last_error_at,
      coalesce(bad.failure_reason, bad.status) as last_error_reason
    from unnest(${sql.array(slotIds)}::text[]) as s(id)
    ${lastOutcomeJoins(sql, "with-cancels")}
    order by s.id`;
}

export interface WindowRow extends OutcomeCounts {
  slot_id: string;
}

/** Per slot, the outcome counters of the finished ingests received since `since`. */
export async function windowCounts(sql: Sql, since: Date): Promise<WindowRow[]> {
  return sql<WindowRow[]>`
    select slot_id, ${counters(sql)}
    from job
    where source = 'ingest' and status in ('succeeded', 'failed', 'timeout', 'cancelled')
      and created_at >= ${since}
    group by slot_id`;
}

export interface FailureRow {
  id: string;
  slot_id: string;
  status: JobStatus;
  failure_reason: FailureReason | null;
  finalized_at: Date;
  error_message: string | null;
}

/** The latest finished failures among the ingests received since `since`. */
export async function recentFailures(sql: Sql, since: Date, limit: number): Promise<FailureRow[]> {
  return sql<FailureRow[]>`
    select id, slot_id, status, failure_reason, finalized_at, error_message
    from job
    where source = 'ingest' and status in ('failed', 'timeout', 'cancelled') and created_at >= ${since}
    order by finalized_at desc, id
    limit ${limit}`;
}

export interface RollupStats {
  /** The whole range, like `aggregateJobs(f, null)` (bucket null). */
  summary: AggregateRow;
  /** One row per bucket that has jobs, keyed like `aggregateJobs(f, bucketing)`, in order. */
  buckets: AggregateRow[];
  /** Like `failureReasons(f)`. */
  reasons: Record<string, number>;
}

/**
 * `aggregateJobs` (whole range and per bucket) and `failureReasons` in one go, from the hourly
 * rollup (src/store/job-rollup.ts): the same numbers, counted by `classifyOutcome` itself.
 * `buckets` are the range's buckets in order, the first starting at `f.from` (see `bucketEdges`).
 */
export async function rollupStats(
  sql: Sql,
  f: JobFilter,
  buckets: readonly { key: string; start: Date }[] | null,
  now: Date,
): Promise<RollupStats> {
  const groups = await rollupGroups(sql, {
    from: f.from,
    to: f.to,
    edges: buckets ? buckets.slice(1).map((b) => b.start) : [],
    slotId: f.slotId ?? null,
    provider: f.provider ?? null,
    source: "ingest",
    statuses: FINAL_STATUSES,
    latencies: true,
    now,
  });
  const empty = () => ({ counts: noOutcomes(), groups: [] as RollupGroup[] });
  const all = empty();
  const per = new Map<number, ReturnType<typeof empty>>();
  const reasons: Record<string, number> = {};
  for (const g of groups) {
    const category = classifyOutcome(g.status, g.reason)?.category;
    if (!category) continue;
    let b = per.get(g.bucket);
    if (!b) {
      b = empty();
      per.set(g.bucket, b);
    }
    for (const acc of [all, b]) {
      acc.counts[category] += g.n;
      acc.groups.push(g);
    }
    if (g.status !== "succeeded") {
      const reason = g.reason ?? g.status;
      reasons[reason] = (reasons[reason] ?? 0) + g.n;
    }
  }
  const scope = JSON.stringify([f.slotId ?? null, f.provider ?? null]);
  const row = (bucket: string | null, acc: ReturnType<typeof empty>): AggregateRow => {
    const [p50Total, p95Total] = groupPercentiles(sql, scope, acc.groups, "totalMs", [0.5, 0.95]);
    const [p50Provider, p95Provider] = groupPercentiles(sql, scope, acc.groups, "providerMs", [0.5, 0.95]);
    return {
      bucket,
      ...acc.counts,
      p50_total: p50Total ?? null,
      p95_total: p95Total ?? null,
      p50_provider: p50Provider ?? null,
      p95_provider: p95Provider ?? null,
    };
  };
  const out: AggregateRow[] = [];
  for (const [i, acc] of [...per.entries()].sort((a, b) => a[0] - b[0])) {
    out.push(row(buckets?.[i]?.key ?? null, acc));
  }
  return {
    summary: row(null, all),
    buckets: out,
    reasons: Object.fromEntries(Object.entries(reasons).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))),
  };
}

export interface SlotHealthRow {
  id: string;
  name: string;
  enabled: boolean;
  last_success_at: Date | null;
  last_failure_at: Date | null;
  last_failure_reason: string | null;
  last_failure_message: string | null;
  failures_since: number;
}

/**
 * Each slot's newest booth success and failure (one index probe each) and the number of booth
 * failures finished since `since`. An admin's cancel is not the slot failing, so it is left out.
 */
export async function slotHealth(sql: Sql, since: Date): Promise<SlotHealthRow[]> {
  return sql<SlotHealthRow[]>`
    select s.id, s.name, s.enabled,
      ok.finalized_at as last_success_at,
      bad.finalized_at as last_failure_at,
      coalesce(bad.failure_reason, bad.status) as last_failure_reason,
      bad.error_message as last_failure_message,
      coalesce(n.c, 0)::int as failures_since
    from slot s
    ${lastOutcomeJoins(sql, "without-cancels")}
    left join lateral (
      select count(*) as c from job
      where slot_id = s.id and source = 'ingest' and status in ('failed', 'timeout')
        and finalized_at >= ${since}
    ) n on true
    order by s.id`;
}
