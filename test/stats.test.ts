import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { eq } from "drizzle-orm";
import { type FailureReason, type JobStatus, type NewJobRow, slot } from "../src/db/schema";
import { classifyOutcome } from "../src/domain/outcome";
import { ManualClock } from "../src/lib/clock";
import { resetStats } from "../src/modules/slots/service";
import { percentile, withTotals } from "../src/modules/stats/arithmetic";
import type {
  GlobalStatsResponse,
  OverviewResponse,
  SlotStatsResponse,
  StatsBucket,
} from "../src/modules/stats/model";
import { globalStats, slotStats } from "../src/modules/stats/service";
import { ADMIN_PASSWORDS, dslrForm, json, postIngest, startTestApp, type TestApp } from "./helpers/app";
import { makeJpeg } from "./helpers/images";
import { checkedFetch } from "./helpers/openapi";
import { loginToken, type PastJob, seededRandom, seedPastJobs } from "./helpers/past-jobs";

let app: TestApp;
let token: string;
let rows: NewJobRow[];
const now = new Date();
const clock = new ManualClock(now);
const DAY = 86_400_000;

const FINAL = new Set(["succeeded", "failed", "timeout", "cancelled"]);
const PROVIDERS = ["local", "gemini", "turbotext"];

/** A varied history: 45 days, five slots, three providers, every outcome, test runs and live jobs. */
function history(seed: number, n: number): PastJob[] {
  const rnd = seededRandom(seed);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(rnd() * xs.length)]!;
  const out: PastJob[] = [];
  for (let i = 0; i < n; i++) {
    const roll = rnd();
    let status: JobStatus = "succeeded";
    let failureReason: FailureReason | null = null;
    if (roll > 0.95) [status, failureReason] = ["cancelled", "cancelled"];
    else if (roll > 0.87) [status, failureReason] = ["timeout", "timeout"];
    else if (roll > 0.7) {
      status = "failed";
      failureReason = pick([
        "provider_error",
        "provider_blocked",
        "provider_no_image",
        "invalid_config",
        "interrupted",
        "internal_error",
        "timeout",
      ] as const);
    }
    out.push({
      slotId: `slot-00${1 + Math.floor(rnd() * 5)}`,
      source: rnd() < 0.1 ? "test_run" : "ingest",
      status,
      failureReason,
      provider: pick(PROVIDERS),
      createdAt: new Date(now.getTime() - Math.floor(rnd() * 45 * DAY)),
      totalMs: 300 + Math.floor(rnd() * 47_000),
      providerLatencyMs: status === "succeeded" || rnd() < 0.3 ? 100 + Math.floor(rnd() * 40_000) : null,
      errorMessage: failureReason ? `failure ${i}` : null,
    });
  }
  return out;
}

/** What the statistics must say about `rows` in [start, end), computed here from the rows themselves. */
function expectedFor(
  start: Date,
  end: Date,
  filter: (r: NewJobRow) => boolean = () => true,
): Omit<StatsBucket, "period_start" | "period_end"> {
  const sel = rows.filter(
    (r) =>
      r.source === "ingest" &&
      FINAL.has(r.status) &&
      r.createdAt! >= start &&
      r.createdAt! < end &&
      filter(r),
  );
  const c = {
    success: 0,
    timeouts: 0,
    provider_errors: 0,
    provider_no_image: 0,
    invalid_config: 0,
    cancelled: 0,
  };
  for (const r of sel) c[classifyOutcome(r.status, r.failureReason ?? null)!.category]++;
  const total = sel.map((r) => r.finalizedAt!.getTime() - r.createdAt!.getTime());
  const provider = sel.filter((r) => r.providerLatencyMs != null).map((r) => r.providerLatencyMs!);
  const ms = (v: number | null) => (v === null ? null : Math.round(v));
  return {
    ...withTotals(c),
    p50_latency_ms: ms(percentile(total, 0.5)),
    p95_latency_ms: ms(percentile(total, 0.95)),
    p50_provider_latency_ms: ms(percentile(provider, 0.5)),
    p95_provider_latency_ms: ms(percentile(provider, 0.95)),
  };
}

function checkBuckets(buckets: StatsBucket[], filter?: (r: NewJobRow) => boolean) {
  for (const b of buckets) {
    const { period_start, period_end, ...numbers } = b;
    expect(numbers).toEqual(expectedFor(new Date(period_start), new Date(period_end), filter));
    expect(b.errors).toBe(
      b.timeouts + b.provider_errors + b.provider_no_image + b.invalid_config + b.cancelled,
    );
    expect(b.ingest_count).toBe(b.success + b.errors);
  }
  for (let i = 1; i < buckets.length; i++) expect(buckets[i]!.period_start).toBe(buckets[i - 1]!.period_end);
}

function sum(
  buckets: StatsBucket[],
  key:
    | "success"
    | "timeouts"
    | "provider_errors"
    | "provider_no_image"
    | "invalid_config"
    | "cancelled"
    | "ingest_count",
) {
  return buckets.reduce((n, b) => n + b[key], 0);
}

async function get(path: string, bearer = token): Promise<Response> {
  return checkedFetch(app, path, { headers: { authorization: `Bearer ${bearer}` } });
}

beforeAll(async () => {
  app = await startTestApp({ clock });
  token = await loginToken(app, "igor", ADMIN_PASSWORDS.igor); // igor has stats:read too
  rows = await seedPastJobs(app, history(7, 1500));
  // Jobs still running are not counted (a far deadline keeps the sweeper off them).
  const running = [1, 2, 3].map((d) => ({
    slotId: "slot-001",
    status: "processing" as const,
    createdAt: new Date(now.getTime() - d * DAY),
    expiresAt: new Date(now.getTime() + DAY),
  }));
  rows.push(...(await seedPastJobs(app, running)));
});
afterAll(() => app.stop());

describe("GET /api/stats/global", () => {
  const from = new Date(now.getTime() - 30 * DAY);
  const range = `from=${from.toISOString()}&to=${now.toISOString()}`;

  test("daily buckets agree with the jobs table, ascending, with every empty day present", async () => {
    const res = await get(`/api/stats/global?${range}&group_by=day`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as GlobalStatsResponse;
    expect(body.range).toEqual({
      from: from.toISOString(),
      to: now.toISOString(),
      group_by: "day",
      time_zone: "UTC",
    });
    expect(body.meta.total).toBe(body.data.length);
    expect(body.data.length).toBe(31); // 30 days that start and end mid-day touch 31 dates
    expect(body.data[0]!.period_start).toBe(from.toISOString());
    expect(body.data.at(-1)!.period_end).toBe(now.toISOString());
    checkBuckets(body.data);

    const { failure_reasons, success_rate, timeout_rate, fallback_success, ...summary } = body.summary;
    expect(summary).toEqual(expectedFor(from, now));
    expect(fallback_success).toBe(0); // no seeded job went to a fallback
    for (const k of [
      "success",
      "timeouts",
      "provider_errors",
      "provider_no_image",
      "invalid_config",
      "cancelled",
      "ingest_count",
    ] as const) {
      expect(sum(body.data, k)).toBe(body.summary[k]);
    }
    expect(success_rate).toBeCloseTo(body.summary.success / body.summary.ingest_count, 4);
    expect(timeout_rate).toBeCloseTo(body.summary.timeouts / body.summary.ingest_count, 4);
    expect(Object.values(failure_reasons).reduce((a, b) => a + b, 0)).toBe(body.summary.errors);
    expect(failure_reasons.provider_blocked).toBeGreaterThan(0);

    // …and with plain counts on the jobs table.
    const [raw] = await app.sql<{ n: number; ok: number }[]>`
      select count(*)::int as n, count(*) filter (where status = 'succeeded')::int as ok from job
      where source = 'ingest' and status not in ('pending', 'processing')
        and created_at >= ${from} and created_at < ${now}`;
    expect(body.summary.ingest_count).toBe(raw!.n);
    expect(body.summary.success).toBe(raw!.ok);
    expect(body.summary.ingest_count).toBeGreaterThan(500);
  });

  test("an empty stretch is all zeros, not missing buckets", async () => {
    const res = await get("/api/stats/global?from=2020-01-06&to=2020-03-01&group_by=week");
    const body = (await res.json()) as GlobalStatsResponse;
    expect(body.data.length).toBe(8);
    expect(body.data.every((b) => b.ingest_count === 0 && b.p95_latency_ms === null)).toBe(true);
    expect(body.summary.ingest_count).toBe(0);
    expect(body.summary.success_rate).toBe(0);
  });

  test("slot and provider filters, weekly and monthly grouping", async () => {
    const isSlot = (r: NewJobRow) => r.slotId === "slot-003";
    const bySlot = (await (
      await get(`/api/stats/global?${range}&group_by=week&slot_id=slot-003`)
    ).json()) as GlobalStatsResponse;
    expect(bySlot.filters).toEqual({ slot_id: "slot-003", provider: null });
    checkBuckets(bySlot.data, isSlot);

    const isGemini = (r: NewJobRow) => r.provider === "gemini";
    const byProvider = (await (
      await get(`/api/stats/global?${range}&group_by=month&provider=gemini`)
    ).json()) as GlobalStatsResponse;
    checkBuckets(byProvider.data, isGemini);
    expect(byProvider.summary.ingest_count).toBe(expectedFor(from, now, isGemini).ingest_count);
    expect(byProvider.summary.ingest_count).toBeLessThan(bySlot.summary.ingest_count * 5);
  });

  test("buckets are paged; the summary covers the whole range", async () => {
    const all = (await (await get(`/api/stats/global?${range}&group_by=day`)).json()) as GlobalStatsResponse;
    const page = (await (
      await get(`/api/stats/global?${range}&group_by=day&page=2&page_size=7`)
    ).json()) as GlobalStatsResponse;
    expect(page.meta).toEqual({ page: 2, page_size: 7, total: 31 });
    expect(page.data).toEqual(all.data.slice(7, 14));
    expect(page.summary).toEqual(all.summary);
  });

  test("defaults: the last 8 weeks by week", async () => {
    const body = (await (await get("/api/stats/global")).json()) as GlobalStatsResponse;
    expect(body.range.group_by).toBe("week");
    const days = (new Date(body.range.to).getTime() - new Date(body.range.from).getTime()) / DAY;
    expect(days).toBeGreaterThanOrEqual(56);
    expect(days).toBeLessThan(63);
    expect(new Date(body.range.from).getUTCDay()).toBe(1); // a Monday
    checkBuckets(body.data);
  });

  test("day boundaries follow the box's time zone", async () => {
    const tz = "Asia/Vladivostok"; // UTC+10: local midnight is 14:00 UTC
    const body = await globalStats(
      app.runtime,
      { from: new Date(now.getTime() - 20 * DAY).toISOString(), to: now.toISOString(), group_by: "day" },
      now,
      tz,
    );
    expect(body.range.time_zone).toBe(tz);
    for (const b of body.data.slice(1)) expect(b.period_start.slice(11)).toBe("14:00:00.000Z");
    checkBuckets(body.data);
  });
});

describe("GET /api/stats/{slot_id}", () => {
  test("hourly buckets of one slot agree with the jobs table", async () => {
    const from = new Date(now.getTime() - 3 * DAY);
    const res = await get(
      `/api/stats/slot-002?from=${from.toISOString()}&to=${now.toISOString()}&group_by=hour`,
    );
    expect(res.status).toBe(200);
    const body = (await res.json()) as SlotStatsResponse;
    expect(body.slot_id).toBe("slot-002");
    expect(body.data.length).toBeGreaterThanOrEqual(72);
    expect(body.data.length).toBeLessThanOrEqual(73);
    checkBuckets(body.data, (r) => r.slotId === "slot-002");
    expect(body.summary.title).toBe(
      (await app.db.select().from(slot).where(eq(slot.id, "slot-002")))[0]!.name,
    );
  });

  test("the summary covers everything since the last reset; buckets keep the history", async () => {
    // The admin's reset, done with the clock at `at` (the product resets "now").
    const resetStatsAt = async (at: Date) => {
      clock.set(at);
      try {
        await resetStats(app.runtime, "slot-004", "test");
      } finally {
        clock.set(now);
      }
    };
    const isSlot = (r: NewJobRow) => r.slotId === "slot-004";
    const q = `/api/stats/slot-004?from=${new Date(now.getTime() - 30 * DAY).toISOString()}&to=${now.toISOString()}`;
    const before = (await (await get(q)).json()) as SlotStatsResponse;
    expect(before.summary.last_reset_at).toBeNull();
    expect(before.summary.since).toBe(before.range.from);
    expect(before.summary.ingest_count).toBe(
      expectedFor(new Date(before.range.from), now, isSlot).ingest_count,
    );

    const resetAt = new Date(now.getTime() - 10 * DAY);
    await resetStatsAt(resetAt);
    const after = (await (await get(q)).json()) as SlotStatsResponse;
    expect(after.summary.last_reset_at).toBe(resetAt.toISOString());
    expect(after.summary.since).toBe(resetAt.toISOString());
    const {
      title,
      last_reset_at,
      since,
      failure_reasons,
      success_rate,
      timeout_rate,
      fallback_success,
      ...numbers
    } = after.summary;
    expect(numbers).toEqual(expectedFor(resetAt, now, isSlot));
    expect(fallback_success).toBe(0);
    expect(after.summary.ingest_count).toBeLessThan(before.summary.ingest_count);
    expect(after.data).toEqual(before.data);

    // A reset older than the range widens the summary beyond it.
    const longAgo = new Date(now.getTime() - 44 * DAY);
    await resetStatsAt(longAgo);
    const wide = (await (await get(q)).json()) as SlotStatsResponse;
    expect(wide.summary.ingest_count).toBe(expectedFor(longAgo, now, isSlot).ingest_count);
    expect(wide.summary.ingest_count).toBeGreaterThan(before.summary.ingest_count);
  });

  test("a DST switch: the 25-hour local day and the repeated hour count every job once", async () => {
    const tz = "America/New_York"; // DST ended 2020-11-01 02:00 EDT → 01:00 EST
    const base = new Date("2020-10-31T00:00:00Z").getTime();
    const dst: PastJob[] = [];
    for (let i = 0; i < 72 * 4; i++) {
      dst.push({
        slotId: "slot-010",
        status: i % 9 === 0 ? "timeout" : "succeeded",
        failureReason: i % 9 === 0 ? "timeout" : null,
        createdAt: new Date(base + i * 15 * 60_000),
      });
    }
    const inserted = await seedPastJobs(app, dst);
    rows.push(...inserted);
    const isSlot = (r: NewJobRow) => r.slotId === "slot-010";
    const days = await slotStats(
      app.runtime,
      "slot-010",
      { from: "2020-10-31", to: "2020-11-02", group_by: "day" },
      now,
      tz,
    );
    expect(days.data.map((d) => (Date.parse(d.period_end) - Date.parse(d.period_start)) / 3_600_000)).toEqual(
      [24, 25, 24],
    );
    checkBuckets(days.data, isSlot);
    const hours = await slotStats(
      app.runtime,
      "slot-010",
      { from: "2020-11-01", to: "2020-11-01", group_by: "hour" },
      now,
      tz,
    );
    expect(hours.data.length).toBe(24); // 25 real hours, the repeated 01:00 is one bucket
    checkBuckets(hours.data, isSlot);
    expect(sum(hours.data, "ingest_count")).toBe(25 * 4);
  });
});

describe("GET /api/stats/overview", () => {
  test("per-slot window counts, last success and error, recent failures with the booth's status", async () => {
    const res = await get("/api/stats/overview?window_minutes=4320");
    expect(res.status).toBe(200);
    const body = (await res.json()) as OverviewResponse;
    expect(body.window_minutes).toBe(4320);
    expect(body.slots.map((s) => s.slot_id)).toEqual(
      Array.from({ length: 15 }, (_, i) => `slot-${String(i + 1).padStart(3, "0")}`),
    );
    const since = new Date(Date.parse(body.generated_at) - 4320 * 60_000);
    const until = new Date(Date.parse(body.generated_at) + 1);
    for (const s of body.slots) {
      const e = expectedFor(since, until, (r) => r.slotId === s.slot_id);
      expect({
        success: s.success,
        timeouts: s.timeouts,
        provider_errors: s.provider_errors,
        provider_no_image: s.provider_no_image,
        invalid_config: s.invalid_config,
        cancelled: s.cancelled,
        errors: s.errors,
        ingest_count: s.ingest_count,
      }).toEqual(withTotals(e));
      const mine = rows.filter((r) => r.slotId === s.slot_id && r.source === "ingest" && r.finalizedAt);
      const lastOk = mine
        .filter((r) => r.status === "succeeded")
        .sort((a, b) => +b.finalizedAt! - +a.finalizedAt!)[0];
      const lastBad = mine
        .filter((r) => r.status !== "succeeded")
        .sort((a, b) => +b.finalizedAt! - +a.finalizedAt!)[0];
      expect(s.last_success_at).toBe(lastOk?.finalizedAt?.toISOString() ?? null);
      expect(s.last_error_at).toBe(lastBad?.finalizedAt?.toISOString() ?? null);
      expect(s.last_error_reason).toBe(lastBad?.failureReason ?? null);
    }
    expect(body.slots.find((s) => s.slot_id === "slot-001")!.ingest_count).toBeGreaterThan(0);
    expect(body.system.ingest_count).toBe(body.slots.reduce((n, s) => n + s.ingest_count, 0));

    const failures = rows
      .filter(
        (r) => r.source === "ingest" && r.finalizedAt && r.status !== "succeeded" && r.createdAt! >= since,
      )
      .sort((a, b) => +b.finalizedAt! - +a.finalizedAt! || (a.id! < b.id! ? -1 : 1))
      .slice(0, 20);
    expect(body.recent_failures.map((f) => f.job_id)).toEqual(failures.map((f) => f.id!));
    for (const f of body.recent_failures) {
      expect(f.http_status).toBe(classifyOutcome(f.status, f.failure_reason)!.httpStatus);
    }
    expect(new Set(body.recent_failures.map((f) => f.http_status)).size).toBeGreaterThan(1);
    expect(Object.keys(body.system.media_bytes).sort()).toEqual([
      "media",
      "payloads",
      "results",
      "templates",
    ]);
    expect(body.system.disk.total_bytes).toBeGreaterThan(body.system.disk.free_bytes);
  });

  test("a real booth ingest shows up at once", async () => {
    await app.configureSlot("slot-015", { provider: "local", operation: "greyscale", settings: {} });
    const before = (await (await get("/api/stats/overview?window_minutes=5")).json()) as OverviewResponse;
    const res = await postIngest(app, "slot-015", dslrForm(await makeJpeg(64, 48)));
    expect(res.status).toBe(200);
    clock.advance(1000); // the admin looks a second later (the app's clock is the test's)
    const after = (await (await get("/api/stats/overview?window_minutes=5")).json()) as OverviewResponse;
    const b = before.slots.find((s) => s.slot_id === "slot-015")!;
    const a = after.slots.find((s) => s.slot_id === "slot-015")!;
    expect(a.success).toBe(b.success + 1);
    expect(a.success_rate).toBe(1);
    expect(a.last_success_at).not.toBeNull();
    const slotView = (await (await get("/api/stats/slot-015?group_by=hour")).json()) as SlotStatsResponse;
    expect(slotView.summary.success).toBe(1);
    expect(slotView.summary.p50_provider_latency_ms).not.toBeNull();
  });
});

describe("errors", () => {
  test("no token → 401, a bad token → 401", async () => {
    for (const path of ["/api/stats/global", "/api/stats/slot-001", "/api/stats/overview"]) {
      const res = await checkedFetch(app, path);
      expect(res.status).toBe(401);
      expect((await json(res)).error.code).toBe("unauthorized");
    }
    expect((await get("/api/stats/global", "x.y.z")).status).toBe(401);
  });

  test("invalid parameters → 400 in the envelope, naming the field", async () => {
    const cases: [string, string][] = [
      ["/api/stats/global?group_by=hour", "group_by"],
      ["/api/stats/global?group_by=year", "group_by"],
      ["/api/stats/global?from=yesterday", "from"],
      ["/api/stats/global?from=2026-01-01&to=2026-05-01", "to"],
      ["/api/stats/global?from=2026-05-01&to=2026-04-01", "from"],
      ["/api/stats/global?slot_id=slot-016", "slot_id"],
      ["/api/stats/global?provider=dalle", "provider"],
      ["/api/stats/global?page=0", "page"],
      ["/api/stats/global?page_size=501", "page_size"],
      ["/api/stats/slot-001?group_by=month", "group_by"],
      ["/api/stats/slot-001?from=2026-01-01&to=2026-02-02", "to"],
      ["/api/stats/slot-001?to=2026-02-30", "to"],
      ["/api/stats/overview?window_minutes=4", "window_minutes"],
      ["/api/stats/overview?window_minutes=43201", "window_minutes"],
      ["/api/stats/overview?window_minutes=ten", "window_minutes"],
    ];
    for (const [path, field] of cases) {
      const res = await get(path);
      expect(`${path} → ${res.status}`).toBe(`${path} → 400`);
      const body = await json(res);
      expect(body.error.code).toBe("invalid_request");
      const fields = (body.error.details.fields as { field: string }[]).map((f) => f.field);
      expect(fields).toContain(field);
    }
  });

  test("an unknown slot → 404 slot_not_found", async () => {
    for (const id of ["slot-016", "nope"]) {
      const res = await get(`/api/stats/${id}`);
      expect(res.status).toBe(404);
      expect((await json(res)).error).toMatchObject({ code: "slot_not_found", details: { slot_id: id } });
    }
  });
});
