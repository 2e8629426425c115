/**
 * The statistics' hourly rollup of `job` (tables `job_stats_hour` and `job_stats_rollup`, migration
 * 0007): the rows of each closed UTC hour counted per slot, provider, source, status and reason,
 * with the finished ones' latencies packed (float8 ms of `finalized_at − created_at`, int4
 * `provider_latency_ms`). A range is read from the rollup for the whole hours it covers that lie
 * inside one bucket, and from `job` itself for the rest (the open hours, the edges, a stats reset in
 * mid-hour, a bucket edge in mid-hour); the numbers are exactly those of the raw aggregation
 * (test/stats-rollup.test.ts compares them on random data), percentiles included: the latencies are
 * the same float8 values `percentile_cont` orders, interpolated the way it does.
 *
 * An hour is filled lazily, by the first read that needs it, once it ended more than two hours ago;
 * the `job_stats_invalidate` triggers drop it again when a job created more than an hour ago is
 * inserted, changed or deleted (a late finalization, a bulk import), and the next read refills it.
 * Jobs on the hot path are younger than an hour: their triggers' WHEN clauses are false.
 */
import type { Sql } from "../db/client";

const HOUR = 3_600_000;
/** An hour is filled only once it ended this long ago (the triggers watch jobs older than 1 h). */
const SEAL_AFTER_MS = 2 * HOUR;
/** Ranges longer than this (in closed hours, a month) first look up the oldest job (see rollupGroups). */
const CLAMP_ABOVE_HOURS = 31 * 24;
/** The far end of a range without one (within both JavaScript's and PostgreSQL's dates). */
const FOREVER = new Date("9999-01-01T00:00:00Z");

export interface RollupQuery {
  /** Start of the range; null for since the oldest job. */
  from: Date | null;
  /** End of the range (exclusive); null for no end. */
  to: Date | null;
  /** Bucket starts after `from`, ascending, inside the range (none: one bucket). */
  edges?: readonly Date[];
  slotId?: string | null;
  provider?: string | null;
  source?: "ingest" | "test_run" | "rerun" | null;
  statuses?: readonly string[] | null;
  /** Also return the latencies (the statistics); counts only otherwise. */
  latencies: boolean;
  /** The app clock's now: hours that closed SEAL_AFTER_MS before it are read from the rollup. */
  now: Date;
}

/** Decoded rollup rows of one hour, as filled by fill `gen` (a per-process cache per database). */
interface CachedHour {
  gen: string;
  rows: Omit<RollupGroup, "bucket">[];
}
/** What each process keeps (tests shrink them to exercise a full cache). */
export const rollupLimits = {
  /** Hours (per filter) kept decoded; a few months of hours for a few filters. */
  cacheHours: 20_000,
  /** Sorted latencies of closed hours kept for percentiles. */
  sortedValues: 2_000_000,
};
const caches = new WeakMap<Sql, Map<string, CachedHour>>();

function cacheOf(sql: Sql): Map<string, CachedHour> {
  let c = caches.get(sql);
  if (!c) {
    c = new Map();
    caches.set(sql, c);
  }
  return c;
}

/** The complete hours of a range, with the fingerprint (count, sum of txids) they were read at. */
interface MarkerList {
  n: number;
  s: string;
  hours: (readonly [number, string])[];
}
const markerCaches = new WeakMap<Sql, Map<string, MarkerList>>();

function markerCacheOf(sql: Sql): Map<string, MarkerList> {
  let c = markerCaches.get(sql);
  if (!c) {
    c = new Map();
    markerCaches.set(sql, c);
  }
  return c;
}

function levelKey(q: RollupQuery): string {
  return JSON.stringify([
    q.source ?? null,
    q.statuses ?? null,
    q.slotId ?? null,
    q.provider ?? null,
    q.latencies,
  ]);
}

/** Jobs of one bucket with one status and reason. */
export interface RollupGroup {
  bucket: number;
  status: string;
  reason: string | null;
  n: number;
  /** `finalized_at − created_at` in ms (as `percentile_cont` sees it), unordered; shared, do not modify. */
  totalMs: Float64Array;
  /** `provider_latency_ms`, unordered; shared, do not modify. */
  providerMs: Float64Array;
  /** `hour:gen` of the rollup hour it comes from; none for rows read from `job`. */
  sealed?: string;
}

interface DataRow {
  hour: Date | null;
  b: number | null;
  status: string | null;
  reason: string | null;
  n: number | null;
  total: Uint8Array | null;
  provider: Uint8Array | null;
}

const EMPTY = new Float64Array(0);

const iso = (t: number | Date) => new Date(t).toISOString();

function floats(bytes: Uint8Array | null): Float64Array {
  if (!bytes || bytes.byteLength === 0) return EMPTY;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Float64Array(bytes.byteLength / 8);
  for (let i = 0; i < out.length; i++) out[i] = view.getFloat64(i * 8, false);
  return out;
}

function ints(bytes: Uint8Array | null): Float64Array {
  if (!bytes || bytes.byteLength === 0) return EMPTY;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Float64Array(bytes.byteLength / 4);
  for (let i = 0; i < out.length; i++) out[i] = view.getInt32(i * 4, false);
  return out;
}

function filters(sql: Sql, q: RollupQuery, table: "r" | "j") {
  const t = sql(table);
  return sql`
    ${
      // literals, not parameters: the partial indexes (`source = 'ingest'`) must match every plan
      q.source === "ingest"
        ? sql`and ${t}.source = 'ingest'`
        : q.source === "test_run"
          ? sql`and ${t}.source = 'test_run'`
          : q.source === "rerun"
            ? sql`and ${t}.source = 'rerun'`
            : sql``
    }
    ${q.statuses ? sql`and ${t}.status in ${sql(q.statuses as string[])}` : sql``}
    ${q.slotId ? sql`and ${t}.slot_id = ${q.slotId}` : sql``}
    ${q.provider ? sql`and ${t}.provider = ${q.provider}` : sql``}`;
}

/**
 * Each hour is rolled up twice: per slot and provider, and for all of them (slot and provider `*`),
 * so an unfiltered read takes one row per hour, status and reason.
 */
function rollupLevel(sql: Sql, q: RollupQuery) {
  if (q.slotId) return sql``;
  if (q.provider) return sql`and r.slot_id <> '*'`;
  return sql`and r.slot_id = '*'`;
}

/** The hours of [from, to) that may come from the rollup: whole, closed, and inside one bucket. */
function eligibleHours(from: Date, to: Date, starts: number[], sealedBefore: number): number[] {
  const out: number[] = [];
  const end = Math.min(to.getTime(), sealedBefore);
  let e = 1; // index of the first bucket start after the hour's start
  for (let h = Math.ceil(from.getTime() / HOUR) * HOUR; h + HOUR <= end; h += HOUR) {
    while (e < starts.length && starts[e]! <= h) e++;
    if (e < starts.length && starts[e]! < h + HOUR) continue; // a bucket edge inside this hour
    out.push(h);
  }
  return out;
}

/** [start, end) intervals of [from, to) not covered by `hours` (sorted). */
function gaps(from: Date, to: Date, hours: number[]): { s: Date[]; e: Date[] } {
  const s: Date[] = [];
  const e: Date[] = [];
  let at = from.getTime();
  for (const h of hours) {
    if (h > at) {
      s.push(new Date(at));
      e.push(new Date(h));
    }
    at = h + HOUR;
  }
  if (to.getTime() > at) {
    s.push(new Date(at));
    e.push(to);
  }
  return { s, e };
}

/** The bucket (index into `starts`) holding instant `t`. */
function bucketOf(starts: number[], t: number): number {
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid]! <= t) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/**
 * Fills the rollup for `hours` (UTC hour starts, ms) not filled yet, under the exclusive lock the
 * triggers take shared: a job changed while the rollup reads is either seen or drops the hour after.
 */
async function fill(sql: Sql, hours: number[]): Promise<void> {
  await sql.begin(async (tx) => {
    await tx`select pg_advisory_xact_lock(hashtext('photochanger.job_stats'))`;
    const missing = await tx<{ hour: Date }[]>`
      select h.hour from unnest(${sql.array(hours.map(iso))}::timestamptz[]) as h(hour)
      where h.hour + interval '1 hour' <= now() - ${`${SEAL_AFTER_MS} milliseconds`}::interval
        and not exists (select 1 from job_stats_hour m where m.hour = h.hour)`;
    if (!missing.length) return;
    const list = sql.array(missing.map((m) => m.hour.toISOString()));
    await tx`
      insert into job_stats_rollup
        (hour, slot_id, provider, source, status, failure_reason, n, total_ms, provider_ms)
      select h.hour,
        case when grouping(j.slot_id) = 1 then '*' else j.slot_id end,
        case when grouping(j.provider) = 1 then '*' else j.provider end,
        j.source, j.status, j.failure_reason, count(*)::int,
        coalesce(string_agg(float8send((extract(epoch from j.finalized_at - j.created_at) * 1000)::float8), ''::bytea)
          filter (where j.finalized_at is not null), ''::bytea),
        coalesce(string_agg(int4send(j.provider_latency_ms), ''::bytea)
          filter (where j.provider_latency_ms is not null), ''::bytea)
      from unnest(${list}::timestamptz[]) as h(hour)
      join job j on j.created_at >= h.hour and j.created_at < h.hour + interval '1 hour'
      group by grouping sets ((h.hour, j.slot_id, j.provider, j.source, j.status, j.failure_reason),
                              (h.hour, j.source, j.status, j.failure_reason))`;
    await tx`
      insert into job_stats_hour (hour, gen) select unnest(${list}::timestamptz[]), txid_current()
      on conflict do nothing`;
  });
}

/** When the oldest job was created; null when there is none. */
async function oldestJobAt(sql: Sql): Promise<Date | null> {
  const [first] = await sql<{ t: Date | null }[]>`select min(created_at) as t from job`;
  return first?.t ?? null;
}

/**
 * The jobs matching `q`, grouped by bucket, status and reason — the same rows a scan of `job` over
 * the range would group, read from the rollup where it can be.
 */
export async function rollupGroups(sql: Sql, q: RollupQuery): Promise<RollupGroup[]> {
  const from = q.from ?? (await oldestJobAt(sql));
  if (!from) return [];
  const to = q.to ?? FOREVER;
  if (from >= to) return [];
  const starts = [from.getTime(), ...(q.edges ?? []).map((d) => d.getTime())];
  let eligible = eligibleHours(from, to, starts, q.now.getTime() - SEAL_AFTER_MS);
  if (q.from && eligible.length > CLAMP_ABOVE_HOURS) {
    // A range that starts long before the first job ("since 2020") would otherwise mark every empty
    // hour since then complete, tens of thousands of rows, on its first read. No job is older than
    // the oldest one, so the hours before its hour hold nothing; the stretch before it is read from
    // `job` below, one index probe that finds no rows.
    const oldest = await oldestJobAt(sql);
    if (!oldest) return [];
    const oldestHour = Math.floor(oldest.getTime() / HOUR) * HOUR;
    eligible = eligible.filter((h) => h >= oldestHour);
  }
  const groups: RollupGroup[] = [];
  const add = (bucket: number, r: DataRow) => {
    if (r.status === null) return;
    groups.push({
      bucket,
      status: r.status,
      reason: r.reason,
      n: r.n ?? 0,
      totalMs: floats(r.total),
      providerMs: ints(r.provider),
    });
  };

  const filled: number[] = [];
  if (eligible.length) {
    const want = new Set(eligible);
    const lo = new Date(eligible[0]!);
    const hi = new Date(eligible[eligible.length - 1]!);
    const markers = async () => {
      // The hours' count and the sum of their fills' txids tell whether anything changed since the
      // last read of this range (a refill always has a larger txid than any fill it replaces), so
      // the list itself is read once per change, not on every request.
      const [f] = await sql<{ n: number; s: string }[]>`
        select count(*)::int as n, coalesce(sum(gen), 0)::text as s
        from job_stats_hour where hour >= ${lo} and hour <= ${hi}`;
      const known = markerCacheOf(sql);
      const rangeKey = `${lo.getTime()}|${hi.getTime()}`;
      let all = known.get(rangeKey);
      if (!all || all.n !== f!.n || all.s !== f!.s) {
        const rows = await sql<{ hour: Date; gen: string }[]>`
          select hour, gen::text from job_stats_hour where hour >= ${lo} and hour <= ${hi} order by hour`;
        all = { n: f!.n, s: f!.s, hours: rows.map((r) => [r.hour.getTime(), r.gen] as const) };
        if (known.size >= 64) known.clear();
        known.set(rangeKey, all);
      }
      const out = new Map<number, string>();
      for (const [h, gen] of all.hours) if (want.has(h)) out.set(h, gen);
      return out;
    };
    let marked = await markers();
    if (marked.size < want.size) {
      await fill(
        sql,
        eligible.filter((h) => !marked.has(h)),
      );
      marked = await markers();
    }
    const cache = cacheOf(sql);
    const level = levelKey(q);
    const need = [...marked].filter(([h, gen]) => cache.get(`${level}|${h}`)?.gen !== gen).map(([h]) => h);
    if (need.length) {
      // One statement (one snapshot): the hours still marked complete, and their rows. No join, so
      // the plan stays two index scans whatever the planner thinks of a freshly filled table.
      const hours = sql.array(need.map(iso));
      const rows = await sql<(DataRow & { gen: string | null })[]>`
        select hour, gen::text, null::text as status, null::text as reason, null::int as n,
          null::bytea as total, null::bytea as provider
        from job_stats_hour where hour = any(${hours}::timestamptz[])
        union all
        select r.hour, null, r.status, r.failure_reason, r.n,
          ${q.latencies ? sql`r.total_ms, r.provider_ms` : sql`null::bytea, null::bytea`}
        from job_stats_rollup r
        where r.hour = any(${hours}::timestamptz[]) ${rollupLevel(sql, q)} ${filters(sql, q, "r")}`;
      const fresh = new Map<number, CachedHour>();
      for (const r of rows) if (r.gen !== null) fresh.set(r.hour!.getTime(), { gen: r.gen, rows: [] });
      for (const r of rows) {
        if (r.status === null) continue;
        fresh.get(r.hour!.getTime())?.rows.push({
          status: r.status,
          reason: r.reason,
          n: r.n ?? 0,
          totalMs: floats(r.total),
          providerMs: ints(r.provider),
        });
      }
      if (cache.size + fresh.size > rollupLimits.cacheHours) cache.clear();
      for (const h of need) {
        const got = fresh.get(h);
        if (got) {
          cache.set(`${level}|${h}`, got);
          marked.set(h, got.gen);
        } else marked.delete(h); // dropped meanwhile: read from `job` below
      }
    }
    for (const [h, gen] of marked) {
      const hit = cache.get(`${level}|${h}`);
      if (hit?.gen !== gen) continue; // not kept (the cache was full): read from `job` below
      const bucket = bucketOf(starts, h);
      const sealed = `${h}:${gen}`;
      for (const r of hit.rows) groups.push({ bucket, ...r, sealed });
      filled.push(h);
    }
  }

  const live = gaps(
    from,
    to,
    filled.sort((a, b) => a - b),
  );
  if (live.s.length) {
    // The open hours are read from `job`, and on an evening's dashboards that read repeats every
    // few seconds: it is kept LIVE_CACHE_MS, keyed by what the read depends on — the filters, the
    // live intervals (their starts exactly: a statistics reset must count from its instant; their
    // ends by their LIVE_CACHE_MS slice, as a range ending "now" moves every request) and the bucket
    // starts inside them, not the range's own start when that lies in a sealed hour (a range
    // starting "24 h ago" moves every request too) — so a page shows jobs at most that old, and
    // never a finished hour wrong.
    const liveFrom = live.s[0]!.getTime();
    const key = JSON.stringify([
      levelKey(q),
      starts.filter((t) => t <= liveFrom).length,
      starts.filter((t) => t > liveFrom),
      live.s.map((d) => d.getTime()),
      live.e.map((d) => Math.floor(d.getTime() / LIVE_CACHE_MS)),
    ]);
    const liveCache = liveCacheOf(sql);
    const hit = liveCache.get(key);
    if (hit && performance.now() - hit.at < LIVE_CACHE_MS) {
      for (const r of hit.rows) add((r.b ?? 1) - 1, r);
      return groups;
    }
    const rows = await sql<DataRow[]>`
      select width_bucket(j.created_at, ${sql.array(starts.map(iso))}::timestamptz[]) as b,
        j.status, j.failure_reason as reason, count(*)::int as n,
        ${
          q.latencies
            ? sql`string_agg(float8send((extract(epoch from j.finalized_at - j.created_at) * 1000)::float8), ''::bytea)
                filter (where j.finalized_at is not null) as total,
              string_agg(int4send(j.provider_latency_ms), ''::bytea)
                filter (where j.provider_latency_ms is not null) as provider`
            : sql`null::bytea as total, null::bytea as provider`
        }
      from unnest(${sql.array(live.s.map(iso))}::timestamptz[], ${sql.array(live.e.map(iso))}::timestamptz[]) as g(s, e)
      cross join lateral (
        select * from job j where j.created_at >= g.s and j.created_at < g.e ${filters(sql, q, "j")}
        offset 0 -- keeps the subquery a range scan per interval
      ) j
      group by 1, 2, 3`;
    if (liveCache.size >= 64) liveCache.clear();
    liveCache.set(key, { at: performance.now(), rows });
    for (const r of rows) add((r.b ?? 1) - 1, r);
  }
  return groups;
}

/** How long the open hours' counts are reused (see rollupGroups). */
export const LIVE_CACHE_MS = 5_000;
const liveCaches = new WeakMap<Sql, Map<string, { at: number; rows: DataRow[] }>>();

function liveCacheOf(sql: Sql): Map<string, { at: number; rows: DataRow[] }> {
  let c = liveCaches.get(sql);
  if (!c) {
    c = new Map();
    liveCaches.set(sql, c);
  }
  return c;
}

/**
 * Fills every closed hour not in the rollup yet (runs every few minutes, so after a bulk import or
 * an upgrade the first admin page does not pay for the whole history).
 */
export async function warmRollup(sql: Sql, now: Date): Promise<void> {
  await rollupGroups(sql, { from: null, to: null, latencies: false, now });
}

// ---- percentiles, as PostgreSQL's percentile_cont computes them ----

/**
 * `percentile_cont(p)` of the values: PostgreSQL's own steps (rows floor and ceil of p·(n−1), then
 * `lo + (hi − lo) · (p·(n−1) − floor)` in float8), so the result is the same double. Null when empty.
 * Sorts `values` in place (a typed array's native sort beats a quickselect here by far).
 */
export function percentileCont(values: Float64Array, p: number, sorted = false): number | null {
  const n = values.length;
  if (n === 0) return null;
  if (!sorted) values.sort();
  const pos = p * (n - 1);
  const first = Math.floor(pos);
  const second = Math.ceil(pos);
  const lo = values[first]!;
  if (second === first) return lo;
  const hi = values[second]!;
  return lo + (hi - lo) * (pos - first);
}

/** The k-th smallest (0-based) of the union of two sorted arrays. */
export function kthOfTwo(a: Float64Array, b: Float64Array, k: number): number {
  // t = how many of the k+1 smallest come from b: the least t with b[t] ≥ a[k − t]
  let lo = Math.max(0, k + 1 - a.length);
  let hi = Math.min(k + 1, b.length);
  while (lo < hi) {
    const t = (lo + hi) >> 1;
    if (b[t]! < a[k - t]!) lo = t + 1;
    else hi = t;
  }
  const fromB = lo > 0 ? b[lo - 1]! : Number.NEGATIVE_INFINITY;
  const fromA = k - lo >= 0 ? a[k - lo]! : Number.NEGATIVE_INFINITY;
  return Math.max(fromA, fromB);
}

/** `percentileCont` of the union of two sorted arrays. */
function percentileOfTwo(a: Float64Array, b: Float64Array, p: number): number | null {
  const n = a.length + b.length;
  if (n === 0) return null;
  if (b.length === 0) return percentileCont(a, p, true);
  if (a.length === 0) return percentileCont(b, p, true);
  const pos = p * (n - 1);
  const first = Math.floor(pos);
  const second = Math.ceil(pos);
  const lo = kthOfTwo(a, b, first);
  if (second === first) return lo;
  const hi = kthOfTwo(a, b, second);
  return lo + (hi - lo) * (pos - first);
}

/** Sorted latencies of sets of closed hours, by filter and `hour:gen` list (a per-process cache). */
const sortedCaches = new WeakMap<Sql, { values: number; map: Map<string, Float64Array> }>();

/**
 * `percentile_cont` of each `ps` over the groups' `field` values. The closed hours' part is sorted
 * once and kept (keyed by their `hour:gen` tags, so a refilled hour is a new key); only the open
 * part is sorted on each call.
 */
export function groupPercentiles(
  sql: Sql,
  scope: string,
  groups: readonly RollupGroup[],
  field: "totalMs" | "providerMs",
  ps: readonly number[],
): (number | null)[] {
  const tags: string[] = [];
  const sealedParts: Float64Array[] = [];
  const liveParts: Float64Array[] = [];
  for (const g of groups) {
    if (g.sealed) {
      tags.push(g.sealed);
      sealedParts.push(g[field]);
    } else liveParts.push(g[field]);
  }
  let cache = sortedCaches.get(sql);
  if (!cache) {
    cache = { values: 0, map: new Map() };
    sortedCaches.set(sql, cache);
  }
  const key = `${scope}|${field}|${Bun.hash(tags.join(","))}|${tags.length}`;
  let sealed = cache.map.get(key);
  if (!sealed) {
    sealed = concat(sealedParts).sort();
    if (cache.values + sealed.length > rollupLimits.sortedValues) {
      cache.map.clear();
      cache.values = 0;
    }
    cache.map.set(key, sealed);
    cache.values += sealed.length;
  }
  const live = concat(liveParts).sort();
  return ps.map((p) => percentileOfTwo(sealed, live, p));
}

/** The values of several groups in one array. */
export function concat(parts: readonly Float64Array[]): Float64Array {
  return new Float64Array(Bun.concatArrayBuffers([...parts]));
}
