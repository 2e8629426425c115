/**
 * `bun run bench`: what PhotoChanger adds on top of the AI provider, measured end to end.
 *
 * Starts a runtime + HTTP server (cleaner off) against BENCH_DATABASE_URL / DATABASE_URL (a fresh
 * database is created on that server and dropped afterwards) or an embedded PostgreSQL in a temp
 * dir, then over real HTTP with DSLR-shaped multipart uploads:
 *
 *  1. added latency: for the local provider with simulate_delay_ms 0 and 1000, interleaves bare
 *     provider calls (`provider.run` on the same photo) with full ingests; for every ingest,
 *     added = round trip − that job's own provider time (from the job row). p50/p95/p99.
 *  2. wake-ups: enqueue → claim (job.started_at − job.created_at) and finalize → response
 *     (client receipt − job.finalized_at).
 *  3. throughput: passthrough with no delay, BENCH_CONCURRENCY clients for BENCH_SECONDS.
 *
 * Env: BENCH_RUNS (per delay, default 40), BENCH_CONCURRENCY (16), BENCH_SECONDS (10),
 * WORKER_COUNT (4), BENCH_PHOTO_SIDE (long side of the test JPEG, default 1600).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig } from "../src/config";
import { startEmbeddedPostgres } from "../src/db/embedded";
import { scratchServer } from "../src/db/scratch";
import { systemClock } from "../src/lib/clock";
import { silentLogger } from "../src/lib/log";
import { updateSlot } from "../src/modules/slots/service";
import { localProvider } from "../src/providers/local";
import type { ProviderContext } from "../src/providers/types";
import { startServer } from "../src/serve";
import { KEYS } from "../src/settings/service";
import { makeJpeg } from "../test/helpers/images";

const RUNS = Number(process.env.BENCH_RUNS ?? 40);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const PHOTO_SIDE = Number(process.env.BENCH_PHOTO_SIDE ?? 1600);
const PASSWORD = "bench-password-1";

function percentile(values: number[], p: number): number {
  if (!values.length) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const idx = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[idx]!;
}

function row(label: string, values: number[]): string {
  const f = (n: number) => n.toFixed(1).padStart(8);
  return `  ${label.padEnd(34)} p50 ${f(percentile(values, 50))}  p95 ${f(percentile(values, 95))}  p99 ${f(percentile(values, 99))} ms  (n=${values.length})`;
}

async function freePort(): Promise<number> {
  const s = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = s.port;
  s.stop(true);
  return port;
}

// ---- database --------------------------------------------------------------------------------
const scratch = mkdtempSync(join(tmpdir(), "photochanger-bench-"));
let stopEmbedded = async () => {};
let serverUrl = process.env.BENCH_DATABASE_URL ?? process.env.DATABASE_URL ?? "";
if (!serverUrl) {
  const { chmodSync } = await import("node:fs");
  chmodSync(scratch, 0o755);
  const pg = await startEmbeddedPostgres(join(scratch, "pg"), await freePort(), silentLogger);
  serverUrl = pg.url;
  stopEmbedded = pg.stop;
}
const dbName = `photochanger_bench_${Date.now()}`;
const admin = scratchServer(serverUrl);
const benchUrl = await admin.create(dbName);

const config = loadConfig({
  DATABASE_URL: benchUrl,
  PHOTOCHANGER_DATA_DIR: join(scratch, "data"),
  HOST: "127.0.0.1",
  LOG_LEVEL: "error",
  WORKER_COUNT: process.env.WORKER_COUNT ?? "4",
});
config.port = 0;
const server = await startServer(config, { cleaner: false, log: silentLogger, announce: () => {} });
const { rt } = server;

try {
  await rt.settings.setIngestPassword(PASSWORD, "bench");
  await rt.settings.set(KEYS.maxInFlightJobs, 1000, "bench");
  await rt.settings.set(KEYS.providerConcurrency, { gemini: 4, turbotext: 4, openai: 4, local: 64 }, "bench");
  const setSlot = (id: string, delay: number) =>
    updateSlot(
      rt,
      id,
      { provider: "local", operation: "passthrough", settings: { simulate_delay_ms: delay } },
      { ifMatch: null, by: "bench" },
    );
  await setSlot("slot-001", 0);
  await setSlot("slot-002", 1000);

  const photo = await makeJpeg(PHOTO_SIDE, Math.round((PHOTO_SIDE * 2) / 3));
  const form = () => {
    const f = new FormData();
    f.append("password", PASSWORD);
    f.append("time", "1758217512");
    f.append("name", "BENCH");
    f.append("fileToUpload", new File([photo as Uint8Array<ArrayBuffer>], "IMG.JPG", { type: "image/jpeg" }));
    return f;
  };

  async function ingest(slotId: string) {
    const t0 = performance.now();
    const res = await fetch(`${server.url}/ingest/${slotId}`, { method: "POST", body: form() });
    await res.arrayBuffer();
    const receivedAt = Date.now();
    const ms = performance.now() - t0;
    if (res.status !== 200) throw new Error(`ingest answered ${res.status}`);
    return { ms, receivedAt, jobId: res.headers.get("x-job-id")! };
  }

  async function bare(delay: number): Promise<number> {
    const ctx: ProviderContext = {
      jobId: "bench",
      slotId: "slot-bench",
      operation: "passthrough",
      settings: { simulate_delay_ms: delay },
      photo: { bytes: photo, format: "jpeg", mime: "image/jpeg" },
      templates: [],
      signal: new AbortController().signal,
      deadline: new Date(Date.now() + 60_000),
      clock: systemClock,
      log: silentLogger,
      apiKey: null,
      step: async () => {},
      publish: async () => {
        throw new Error("not used");
      },
      setProviderRef: async () => {},
    };
    const t0 = performance.now();
    await localProvider.run(ctx);
    return performance.now() - t0;
  }

  console.log(
    `PhotoChanger bench — Bun ${Bun.version}, ${config.workerCount} workers, photo ${photo.byteLength} bytes ` +
      `(${PHOTO_SIDE}px), PostgreSQL ${process.env.BENCH_DATABASE_URL || process.env.DATABASE_URL ? "given" : "embedded"}`,
  );

  // warm-up
  for (let i = 0; i < 5; i++) await ingest("slot-001");

  const claimWait: number[] = [];
  const responseWake: number[] = [];
  console.log("\n1. Added latency of the ingest path over the bare provider (interleaved, sequential)");
  for (const [slotId, delay] of [
    ["slot-001", 0],
    ["slot-002", 1000],
  ] as const) {
    const runs = delay >= 1000 ? Math.max(10, Math.round(RUNS / 2)) : RUNS;
    const bareMs: number[] = [];
    const totalMs: number[] = [];
    const added: number[] = [];
    for (let i = 0; i < runs; i++) {
      bareMs.push(await bare(delay));
      const r = await ingest(slotId);
      totalMs.push(r.ms);
      const j = await rt.store.jobs.get(r.jobId);
      added.push(r.ms - (j!.providerLatencyMs ?? 0));
      claimWait.push(j!.startedAt!.getTime() - j!.createdAt.getTime());
      responseWake.push(r.receivedAt - j!.finalizedAt!.getTime());
    }
    console.log(`  simulate_delay_ms=${delay}, ${runs} runs`);
    console.log(row("bare provider call", bareMs));
    console.log(row("ingest round trip", totalMs));
    console.log(row("added (round trip − provider time)", added));
    console.log(
      `  ${"median difference".padEnd(34)} ${(percentile(totalMs, 50) - percentile(bareMs, 50)).toFixed(1)} ms`,
    );
  }

  console.log("\n2. Wake-ups (sequential runs above)");
  console.log(row("enqueue → claim (worker wake-up)", claimWait));
  console.log(row("finalize → response received", responseWake));

  console.log(`\n3. Throughput: local passthrough, ${CONCURRENCY} concurrent booths, ${SECONDS} s`);
  const end = performance.now() + SECONDS * 1000;
  let done = 0;
  let failed = 0;
  const lat: number[] = [];
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (performance.now() < end) {
        try {
          const r = await ingest("slot-001");
          lat.push(r.ms);
          done++;
        } catch {
          failed++;
        }
      }
    }),
  );
  console.log(`  ${(done / SECONDS).toFixed(1)} ingests/s (${done} ok, ${failed} failed)`);
  console.log(row("round trip under load", lat));
} finally {
  await server.shutdown("bench done");
  await admin.drop(dbName).catch(() => {});
  await admin.close();
  await stopEmbedded();
  rmSync(scratch, { recursive: true, force: true });
}
