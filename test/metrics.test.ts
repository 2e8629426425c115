import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { eq, sql } from "drizzle-orm";
import { runCleanup } from "../src/cron/cleanup";
import { job } from "../src/db/schema";
import { ManualClock } from "../src/lib/clock";
import { INGEST_DURATION_BUCKETS } from "../src/metrics";
import { dslrFields, dslrForm, postIngest, startTestApp, type TestApp, whenQueued } from "./helpers/app";
import { makeJpeg } from "./helpers/images";
import { type Exposition, parseExposition } from "./helpers/prometheus";

let app: TestApp;
let photo: Uint8Array;
/** The app's clock: the timeout below moves it instead of waiting for T_sync. */
const clock = new ManualClock();

beforeAll(async () => {
  app = await startTestApp({ clock });
  photo = await makeJpeg(160, 120);
  await app.configureSlot("slot-001", { provider: "local", operation: "greyscale", settings: {} });
  await app.configureSlot("slot-002", {
    provider: "local",
    operation: "greyscale",
    settings: { simulate_delay_ms: 60_000 },
  });
  // A provider with no API key: the worker fails the job as invalid_config (502).
  await app.configureSlot("slot-003", {
    provider: "openai",
    operation: "image_edit",
    settings: { prompt: "x" },
  });
  await app.configureSlot("slot-009", { enabled: false });
});
afterAll(() => app.stop());

async function scrape(): Promise<Exposition> {
  const res = await fetch(`${app.url}/metrics`);
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
  return parseExposition(await res.text());
}

describe("/metrics", () => {
  test("is valid Prometheus text with every metric the product documents", async () => {
    const m = await scrape();
    const expected: Record<string, string> = {
      photochanger_ingest_requests_total: "counter",
      photochanger_ingest_duration_seconds: "histogram",
      photochanger_provider_latency_seconds: "histogram",
      photochanger_provider_errors_total: "counter",
      photochanger_jobs_finished_total: "counter",
      photochanger_queue_depth: "gauge",
      photochanger_jobs_in_flight: "gauge",
      photochanger_cleanup_removed_total: "counter",
      photochanger_cleanup_removed_bytes_total: "counter",
      photochanger_cleanup_runs_total: "counter",
      photochanger_cleanup_last_success_timestamp_seconds: "gauge",
      photochanger_media_bytes: "gauge",
      photochanger_disk_free_bytes: "gauge",
      photochanger_disk_total_bytes: "gauge",
      photochanger_sync_response_seconds: "gauge",
      photochanger_build_info: "gauge",
      process_cpu_seconds_total: "counter",
      process_resident_memory_bytes: "gauge",
    };
    for (const [name, type] of Object.entries(expected))
      expect(`${name}: ${m.types.get(name)}`).toBe(`${name}: ${type}`);
    expect(m.value("photochanger_queue_depth", { status: "pending" })).toBe(0);
    expect(m.value("photochanger_queue_depth", { status: "processing" })).toBe(0);
    expect(m.value("photochanger_jobs_in_flight")).toBe(0);
    expect(m.value("photochanger_sync_response_seconds")).toBe(48);
    expect(m.value("photochanger_disk_free_bytes")).toBeGreaterThan(0);
    expect(m.value("photochanger_disk_total_bytes")).toBeGreaterThan(
      m.value("photochanger_disk_free_bytes")!,
    );
    for (const kind of ["payloads", "results", "templates", "media"]) {
      expect(m.value("photochanger_media_bytes", { kind })).toBe(0);
    }
    expect(m.value("photochanger_cleanup_runs_total", { result: "ok" })).toBe(0);
    expect(m.value("photochanger_cleanup_last_success_timestamp_seconds")).toBe(0);
    expect(m.value("process_resident_memory_bytes")).toBeGreaterThan(0);
  });

  test("the parser refuses what Prometheus would refuse", () => {
    expect(() => parseExposition("x 1\n")).toThrow(); // no TYPE
    expect(() => parseExposition("# TYPE x counter\nx{a=b} 1\n")).toThrow(); // unquoted
    expect(() => parseExposition("# TYPE x counter\nx one\n")).toThrow();
    expect(() => parseExposition("# TYPE x counter\nx 1\nx 2\n")).toThrow(); // duplicate
    expect(() =>
      parseExposition('# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 1\n'),
    ).toThrow(); // not cumulative
    expect(parseExposition('# TYPE x counter\nx{a="q\\"\\n"} 1.5e3\n').value("x", { a: 'q"\n' })).toBe(1500);
  });

  test("counters and histograms move as ingests are answered and jobs finish", async () => {
    const before = await scrape();
    const ingests = (labels: Record<string, string>) => m.sum("photochanger_ingest_requests_total", labels);
    let m = before;
    const base = {
      ok: ingests({ slot: "slot-001", provider: "local", outcome: "success" }),
      count: m.sum("photochanger_ingest_duration_seconds_count"),
    };
    expect(base).toEqual({ ok: 0, count: 0 });

    for (let i = 0; i < 3; i++) expect((await postIngest(app, "slot-001", dslrForm(photo))).status).toBe(200);
    expect(
      (await postIngest(app, "slot-001", dslrForm(photo, dslrFields({ password: "wrong" })))).status,
    ).toBe(401);
    expect((await postIngest(app, "slot-099", dslrForm(photo))).status).toBe(404);
    expect((await postIngest(app, "slot-009", dslrForm(photo))).status).toBe(404);
    expect((await postIngest(app, "slot-003", dslrForm(photo))).status).toBe(502);
    // T_sync (48 s) passes on the app's clock; the booth has really waited over half a second.
    const queued = whenQueued(app);
    const slow = postIngest(app, "slot-002", dslrForm(photo));
    await queued;
    await Bun.sleep(600);
    clock.advance(48_000);
    expect((await slow).status).toBe(504);

    // The job was counted when it finalized, before the booth was answered.
    m = await scrape();
    expect(ingests({ slot: "slot-001", provider: "local", outcome: "success" })).toBe(3);
    expect(ingests({ slot: "slot-001", provider: "local", outcome: "invalid_credentials" })).toBe(1);
    expect(ingests({ slot: "unknown", provider: "none", outcome: "slot_not_found" })).toBe(1);
    expect(ingests({ slot: "slot-009", provider: "none", outcome: "slot_disabled" })).toBe(1);
    expect(ingests({ slot: "slot-003", provider: "openai", outcome: "invalid_config" })).toBe(1);
    expect(ingests({ slot: "slot-002", provider: "local", outcome: "sync_timeout" })).toBe(1);

    // Durations of accepted requests only (5), in buckets up to 60 s.
    expect(m.sum("photochanger_ingest_duration_seconds_count")).toBe(5);
    expect(m.value("photochanger_ingest_duration_seconds_count", { outcome: "success" })).toBe(3);
    const les = m.samples
      .filter(
        (s) => s.name === "photochanger_ingest_duration_seconds_bucket" && s.labels.outcome === "success",
      )
      .map((s) => s.labels.le);
    expect(les).toEqual([...INGEST_DURATION_BUCKETS.map(String), "+Inf"]);
    expect(
      m.value("photochanger_ingest_duration_seconds_bucket", { outcome: "sync_timeout", le: "0.5" }),
    ).toBe(0);
    expect(
      m.value("photochanger_ingest_duration_seconds_bucket", { outcome: "sync_timeout", le: "60" }),
    ).toBe(1);

    // The jobs finish in the worker; the timed-out one when its deadline passes.
    const latency = { provider: "local", operation: "greyscale", outcome: "success" };
    expect(m.value("photochanger_provider_latency_seconds_count", latency)).toBe(3);
    const [lat] = await app.db
      .select({ ms: sql<number>`sum(provider_latency_ms)::int` })
      .from(job)
      .where(eq(job.status, "succeeded"));
    expect(m.value("photochanger_provider_latency_seconds_sum", latency)).toBeCloseTo(lat!.ms / 1000, 6);
    // A slot that cannot run as configured never reached the provider: not the provider's error.
    expect(
      m.value("photochanger_provider_errors_total", { provider: "openai", code: "invalid_config" }),
    ).toBeUndefined();
    expect(m.value("photochanger_jobs_finished_total", { source: "ingest", outcome: "invalid_config" })).toBe(
      1,
    );
    expect(m.value("photochanger_provider_errors_total", { provider: "local", code: "timeout" })).toBe(1);
    expect(m.value("photochanger_jobs_finished_total", { source: "ingest", outcome: "success" })).toBe(3);

    // …and agree with the jobs table.
    const [row] = await app.db
      .select({ n: sql<number>`count(*)::int` })
      .from(job)
      .where(eq(job.status, "succeeded"));
    expect(m.sum("photochanger_ingest_requests_total", { outcome: "success" })).toBe(row!.n);
    expect(m.value("photochanger_media_bytes", { kind: "results" })).toBeGreaterThan(0);
  });

  test("the cleaner's removals and last run are exported", async () => {
    // A result kept 24 h (the others, 72 h): the only one expired once a day has passed.
    await app.setSetting("result_retention_hours", 24);
    const res = await postIngest(app, "slot-001", dslrForm(photo));
    await app.setSetting("result_retention_hours", 72);
    const [victim] = await app.db
      .select()
      .from(job)
      .where(eq(job.id, res.headers.get("x-job-id")!));
    // Thumbnails are made on first view: the gallery showed this one.
    expect((await fetch(`${app.url}/public/results/${victim!.id}/thumb`)).status).toBe(200);
    clock.set(new Date(victim!.resultExpiresAt!.getTime() + 1000));
    const before = await scrape();
    const report = await runCleanup(app.runtime, { trigger: "test" });
    expect(report.results.count).toBe(1);
    const after = await scrape();
    const delta = (name: string, labels: Record<string, string>) =>
      after.value(name, labels)! - (before.value(name, labels) ?? 0);
    expect(delta("photochanger_cleanup_runs_total", { result: "ok" })).toBe(1);
    expect(delta("photochanger_cleanup_removed_total", { kind: "results" })).toBe(1);
    expect(delta("photochanger_cleanup_removed_total", { kind: "thumbnails" })).toBe(1);
    expect(delta("photochanger_cleanup_removed_bytes_total", { kind: "results" })).toBe(report.results.bytes);
    expect(report.results.bytes).toBeGreaterThan(0);
    const last = after.value("photochanger_cleanup_last_success_timestamp_seconds")!;
    expect(Math.abs(last - clock.now().getTime() / 1000)).toBeLessThan(1);
    // A dry run changes nothing.
    await runCleanup(app.runtime, { trigger: "test", dryRun: true });
    const dry = await scrape();
    expect(dry.value("photochanger_cleanup_runs_total", { result: "ok" })).toBe(
      after.value("photochanger_cleanup_runs_total", { result: "ok" }),
    );
  });

  test("the shipped alert rules use only metrics that exist", async () => {
    const rules = Bun.YAML.parse(await Bun.file(`${import.meta.dir}/../docs/alerts.yml`).text()) as {
      groups: { rules: { alert: string; expr: string }[] }[];
    };
    const m = await scrape();
    const alerts = rules.groups.flatMap((g) => g.rules);
    expect(alerts.map((r) => r.alert)).toEqual(
      expect.arrayContaining([
        "PhotoChangerHighTimeoutShare",
        "PhotoChangerSlowP95",
        "PhotoChangerDiskAlmostFull",
        "PhotoChangerCleanerSilent",
        "PhotoChangerQueueStuck",
        "PhotoChangerProviderQuotaHigh",
        "PhotoChangerProviderQuotaExhausted",
      ]),
    );
    for (const rule of alerts) {
      for (const name of rule.expr.match(/photochanger_[a-z_]+/g) ?? []) {
        const base = name.replace(/_(bucket|count|sum)$/, "");
        expect(`${rule.alert}: ${name} ${m.types.has(base) || m.types.has(name)}`).toBe(
          `${rule.alert}: ${name} true`,
        );
      }
    }
  });

  test("each app has its own registry (prom-client's global one stays empty)", async () => {
    const { register } = await import("prom-client");
    expect(await register.getMetricsAsJSON()).toEqual([]);
  });
});
