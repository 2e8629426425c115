/**
 * The statistics read from the hourly rollup give exactly the numbers of the raw aggregation over
 * `job` (`aggregateJobs` + `failureReasons`), percentiles to the last bit: on random jobs of every
 * status and reason (unknown ones included), random ranges that start and end mid-hour (a stats
 * reset), buckets of every grain in zones whose days do not start on a UTC hour, filters — and again
 * after old jobs are finalized late, inserted, changed and deleted (the triggers drop their hours).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { randomUUID } from "node:crypto";
import postgres from "postgres";
import { bucketEdges, type Grain } from "../src/domain/calendar";
import { FAILURE_REASONS, JOB_STATUSES } from "../src/domain/outcome";
import { kthOfTwo, percentileCont, rollupGroups, rollupLimits } from "../src/store/job-rollup";
import { aggregateJobs, failureReasons, type JobFilter, rollupStats } from "../src/store/job-stats";
import { freshDatabase } from "./helpers/app";

let sql: postgres.Sql;
const HOUR = 3_600_000;
const now = Date.now();
const SLOTS = ["slot-001", "slot-002", "slot-003"];
const PROVIDERS = ["gemini", "local"];

/** A deterministic generator, so a failure can be replayed. */
function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}
const rand = rng(20261130);
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;

function randomJob(createdMs: number) {
  const status = rand() < 0.55 ? "succeeded" : pick(JOB_STATUSES);
  const final = status !== "pending" && status !== "processing";
  const reason =
    status === "failed"
      ? pick([...FAILURE_REASONS, null, "a_reason_from_a_newer_build"])
      : status === "timeout"
        ? "timeout"
        : status === "cancelled"
          ? pick(["cancelled", null])
          : null;
  // microseconds, as PostgreSQL keeps them
  const created = new Date(createdMs);
  const createdUs = Math.floor(rand() * 1000);
  const finalizedOffsetUs = Math.floor(rand() * 30_000_000) + 1;
  return {
    id: randomUUID(),
    slot_id: pick(SLOTS),
    source: rand() < 0.85 ? "ingest" : "test_run",
    status,
    failure_reason: reason,
    provider: pick(PROVIDERS),
    created: `${created.toISOString().slice(0, 23)}${String(createdUs).padStart(3, "0")}Z`,
    finalized_offset_us: final && rand() < 0.97 ? finalizedOffsetUs : null,
    provider_latency_ms: final && rand() < 0.8 ? Math.floor(rand() * 20_000) : null,
  };
}

async function insertJobs(jobs: ReturnType<typeof randomJob>[]) {
  for (let i = 0; i < jobs.length; i += 500) {
    const part = jobs.slice(i, i + 500);
    await sql`
      insert into job (id, slot_id, source, status, failure_reason, provider, operation, settings,
                       output_format, created_at, finalized_at, expires_at, provider_latency_ms)
      select x.id::uuid, x.slot_id, x.source, x.status, x.failure_reason, x.provider, 'op', '{}', 'jpeg',
             x.created::timestamptz,
             x.created::timestamptz + make_interval(secs => x.finalized_offset_us / 1e6),
             x.created::timestamptz + interval '1 minute', x.provider_latency_ms
      from json_to_recordset(${JSON.stringify(part)}::text::json) as x(
        id text, slot_id text, source text, status text, failure_reason text, provider text,
        created text, finalized_offset_us bigint, provider_latency_ms int)`;
  }
}

async function countOf(from: string): Promise<number> {
  const rows = await sql.unsafe(`select count(*)::int as n from ${from}`);
  return Number(rows[0]?.n);
}

async function raw(f: JobFilter, bucketing: { grain: Grain; tz: string } | null) {
  const [[summary], buckets, reasons] = await Promise.all([
    aggregateJobs(sql, f, null),
    bucketing ? aggregateJobs(sql, f, bucketing) : Promise.resolve([]),
    failureReasons(sql, f),
  ]);
  return { summary, buckets, reasons };
}

async function compare(f: JobFilter, bucketing: { grain: Grain; tz: string } | null) {
  const edges = bucketing ? bucketEdges(f.from, f.to, bucketing.grain, bucketing.tz) : null;
  const [expected, got] = await Promise.all([raw(f, bucketing), rollupStats(sql, f, edges, new Date())]);
  expect(got.summary).toEqual(expected.summary!);
  expect(got.reasons).toEqual(expected.reasons);
  if (bucketing) expect(got.buckets).toEqual(expected.buckets);
  return expected.summary!;
}

function randomRange(): { from: Date; to: Date } {
  const a = now - Math.floor(rand() * 9 * 24 * HOUR);
  const b = a + Math.floor(rand() * (now + 3 * HOUR - a)) + 1;
  return { from: new Date(a), to: new Date(b) };
}

const CASES: { grain: Grain; tz: string }[] = [
  { grain: "hour", tz: "UTC" },
  { grain: "hour", tz: "Asia/Kolkata" },
  { grain: "day", tz: "Europe/Moscow" },
  { grain: "day", tz: "Asia/Kathmandu" },
  { grain: "day", tz: "America/New_York" },
  { grain: "week", tz: "Australia/Adelaide" },
  { grain: "month", tz: "UTC" },
];

async function compareMany(rounds: number) {
  let nonEmpty = 0;
  for (let i = 0; i < rounds; i++) {
    const { from, to } = randomRange();
    const c = CASES[i % CASES.length]!;
    const f: JobFilter = {
      from,
      to,
      slotId: rand() < 0.4 ? pick(SLOTS) : null,
      provider: rand() < 0.3 ? pick(PROVIDERS) : null,
    };
    const s = await compare(f, rand() < 0.8 ? c : null);
    if (s.success + s.timeouts > 0) nonEmpty++;
  }
  // a whole-range check with every grain, then a slot's summary since a reset in mid-hour
  for (const c of CASES) {
    await compare({ from: new Date(now - 10 * 24 * HOUR), to: new Date(now) }, c);
  }
  const reset = new Date(now - 5 * 24 * HOUR + 1234567);
  await compare({ from: reset, to: new Date(now), slotId: "slot-002" }, null);
  expect(nonEmpty).toBeGreaterThan(rounds / 2);
}

beforeAll(async () => {
  sql = postgres(await freshDatabase(), { max: 3, onnotice: () => {} });
  const jobs = [];
  for (let i = 0; i < 4000; i++) jobs.push(randomJob(now - Math.floor(rand() * 10 * 24 * HOUR)));
  // and a few in the open hours and the future
  for (let i = 0; i < 200; i++) jobs.push(randomJob(now - Math.floor(rand() * 3 * HOUR) + HOUR / 2));
  await insertJobs(jobs);
});

afterAll(async () => {
  await sql?.end({ timeout: 5 });
});

describe("percentileCont", () => {
  test("is PostgreSQL's percentile_cont, bit for bit", async () => {
    for (const n of [1, 2, 3, 10, 101, 1000]) {
      const values = Array.from({ length: n }, () => Math.floor(rand() * 1e7) / 1000);
      const [pg] = await sql<{ p50: number; p95: number }[]>`
        select percentile_cont(0.5) within group (order by v) as p50,
               percentile_cont(0.95) within group (order by v) as p95
        from unnest(${values}::float8[]) v`;
      expect(percentileCont(Float64Array.from(values), 0.5)).toBe(pg!.p50);
      expect(percentileCont(Float64Array.from(values), 0.95)).toBe(pg!.p95);
    }
    expect(percentileCont(new Float64Array(0), 0.5)).toBeNull();
  });

  test("the k-th of two sorted arrays is the k-th of their union", () => {
    for (let round = 0; round < 300; round++) {
      const a = Float64Array.from({ length: Math.floor(rand() * 20) }, () => Math.floor(rand() * 10)).sort();
      const b = Float64Array.from({ length: Math.floor(rand() * 20) }, () => Math.floor(rand() * 10)).sort();
      const both = Float64Array.from([...a, ...b]).sort();
      for (let k = 0; k < both.length; k++) expect(kthOfTwo(a, b, k)).toBe(both[k]!);
    }
  });
});

describe("the rollup gives the raw aggregation's numbers", () => {
  test("on random jobs, ranges, zones, grains and filters", async () => {
    await compareMany(40);
    // the rollup was filled by the reads above
    const hours = await countOf(`job_stats_hour`);
    expect(hours).toBeGreaterThan(200);
  });

  test("after old jobs are finalized late, inserted, changed and deleted", async () => {
    const before = await countOf(`job_stats_hour`);
    await sql`
      update job set status = 'failed', failure_reason = 'interrupted', finalized_at = created_at + interval '7 s'
      where id in (select id from job where status in ('pending', 'processing') and created_at < now() - interval '3 hours' limit 20)`;
    await sql`update job set provider_latency_ms = 777 where id in (select id from job where status = 'succeeded' limit 15)`;
    await sql`delete from job where id in (select id from job where created_at < now() - interval '3 hours' limit 25)`;
    const more = [];
    for (let i = 0; i < 100; i++) more.push(randomJob(now - Math.floor(rand() * 10 * 24 * HOUR)));
    await insertJobs(more);
    const after = await countOf(`job_stats_hour`);
    expect(after).toBeLessThan(before); // their hours were dropped …
    await compareMany(25); // … and refilled right
  });

  test("with caches too small for a range (a decoded hour dropped mid-read is read from job)", async () => {
    const saved = { ...rollupLimits };
    rollupLimits.cacheHours = 50;
    rollupLimits.sortedValues = 500;
    try {
      await compareMany(12);
    } finally {
      Object.assign(rollupLimits, saved);
    }
  });

  test("counts without latencies match a plain count", async () => {
    const groups = await rollupGroups(sql, {
      from: null,
      to: null,
      latencies: false,
      source: "ingest",
      now: new Date(),
    });
    const n = groups.reduce((s, g) => s + g.n, 0);
    const c = await countOf(`job where source = 'ingest'`);
    expect(n).toBe(c);
  });
});

describe("a range that starts long before the first job", () => {
  const oldestHour = async () => {
    const [r] = await sql<{ t: Date }[]>`select date_trunc('hour', min(created_at)) as t from job`;
    return r!.t.getTime();
  };
  const markedBefore = async (t: number) => {
    const [r] = await sql<
      { n: number }[]
    >`select count(*)::int as n from job_stats_hour where hour < ${new Date(t)}`;
    return r!.n;
  };

  test("marks no hour before the oldest job's, and still counts every job", async () => {
    const since2020 = { from: new Date("2020-01-01T00:00:00Z"), to: new Date(now) };
    const before = await compare(since2020, { grain: "month", tz: "UTC" });
    await compare({ ...since2020, slotId: "slot-003" }, { grain: "month", tz: "Europe/Moscow" });
    expect(await markedBefore(await oldestHour())).toBe(0);
    // an older job imported later moves the start back, and is counted
    const imported = randomJob(now - 40 * 24 * HOUR);
    await insertJobs([{ ...imported, source: "ingest", status: "succeeded", failure_reason: null }]);
    expect(await oldestHour()).toBeLessThan(now - 39 * 24 * HOUR);
    const after = await compare(since2020, { grain: "week", tz: "Australia/Adelaide" });
    expect(after.success).toBe(before.success + 1);
    expect(await markedBefore(await oldestHour())).toBe(0);
    expect(await markedBefore(now - 39 * 24 * HOUR)).toBeGreaterThan(20); // the imported job's day is sealed
  });
});
