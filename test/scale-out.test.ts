/**
 * Outgrowing one box, for real: three server processes (`bun src/main.ts serve`, as the operator
 * runs them) on one PostgreSQL, with their media in an S3 bucket (s3rver on a free port) and no
 * shared disk. A and C take requests but run no jobs (WORKER_COUNT=0); B runs the workers. So a
 * booth held on A can only be answered with what B produced, and C can only serve it from the
 * bucket.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { copyFileSync, existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import { setAdminPassword } from "../src/accounts";
import { loadConfig } from "../src/config";
import { createLogger } from "../src/lib/log";
import { loadOrCreateMasterKey } from "../src/lib/secrets";
import type { SlotUpdate } from "../src/modules/slots/model";
import { updateSlot } from "../src/modules/slots/service";
import { Runtime } from "../src/runtime";
import { ADMIN_PASSWORDS, dslrForm, eventually, freshDatabase, INGEST_PASSWORD } from "./helpers/app";
import { runCli, type ServerProcess, spawnServer } from "./helpers/cli";
import { makeJpeg } from "./helpers/images";
import { startTestBucket, type TestBucket } from "./helpers/s3";

let bucket: TestBucket;
let databaseUrl: string;
let db: postgres.Sql;
const dataDirs: Record<"a" | "b" | "c", string> = { a: "", b: "", c: "" };
const servers: Partial<Record<"a" | "b" | "c" | "b2", ServerProcess>> = {};
let token = "";

const envFor = (dataDir: string, workers: number): Record<string, string> => ({
  DATABASE_URL: databaseUrl,
  PHOTOCHANGER_DATA_DIR: dataDir,
  WORKER_COUNT: String(workers),
  DATABASE_POOL_SIZE: "6",
  ...bucket.env,
});

function logRecords(s: ServerProcess): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const l of s.lines) {
    try {
      out.push(JSON.parse(l) as Record<string, unknown>);
    } catch {
      // not a JSON log line
    }
  }
  return out;
}
const dispatchedBy = (s: ServerProcess | undefined, jobId: string) =>
  !!s && logRecords(s).some((r) => r.event === "job.dispatched" && r.job_id === jobId);

/** Every file under a directory (recursively); [] when it does not exist. */
function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name));
}

async function stopServer(s: ServerProcess | undefined): Promise<void> {
  if (!s || s.proc.exitCode !== null) return;
  s.proc.kill("SIGTERM");
  const timer = setTimeout(() => s.proc.kill("SIGKILL"), 30_000);
  await s.proc.exited;
  clearTimeout(timer);
}

beforeAll(async () => {
  bucket = await startTestBucket("scale-out");
  databaseUrl = await freshDatabase();
  db = postgres(databaseUrl, { max: 2, onnotice: () => {} });
  for (const k of ["a", "b", "c"] as const)
    dataDirs[k] = mkdtempSync(join(tmpdir(), `photochanger-scale-${k}-`));
  // Every instance must hold the same master key (provider keys, session tokens): made once, copied.
  loadOrCreateMasterKey(join(dataDirs.a, "master.key"));
  for (const k of ["b", "c"] as const)
    copyFileSync(join(dataDirs.a, "master.key"), join(dataDirs[k], "master.key"));

  // The operator's first steps, done once against the shared database: accounts, password, slots.
  const runtime = await Runtime.create(loadConfig(envFor(dataDirs.a, 0)), {
    workers: false,
    log: createLogger("error", () => {}),
    announce: () => {},
  });
  try {
    await runtime.bootstrap();
    await runtime.settings.setIngestPassword(INGEST_PASSWORD, "test");
    for (const [user, pw] of Object.entries(ADMIN_PASSWORDS))
      await setAdminPassword({ auth: runtime.store.auth, clock: runtime.clock }, user, pw);
    const slot = (id: string, body: SlotUpdate) =>
      updateSlot(runtime, id, body, { ifMatch: null, by: "test" });
    await slot("slot-001", { provider: "local", operation: "greyscale", settings: {} });
    await slot("slot-002", {
      provider: "local",
      operation: "passthrough",
      settings: { simulate_delay_ms: 4000 },
    });
  } finally {
    await runtime.stop();
  }

  const [a, b, c] = await Promise.all([
    spawnServer(envFor(dataDirs.a, 0)),
    spawnServer(envFor(dataDirs.b, 2)),
    spawnServer(envFor(dataDirs.c, 0)),
  ]);
  Object.assign(servers, { a, b, c });
  const login = await fetch(`${a.url}/api/login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ username: "serg", password: ADMIN_PASSWORDS.serg }),
  });
  expect(login.status).toBe(200);
  token = ((await login.json()) as { access_token: string }).access_token;
});

afterAll(async () => {
  await Promise.all(Object.values(servers).map(stopServer));
  await db?.end({ timeout: 5 });
  await bucket?.stop();
  for (const d of Object.values(dataDirs)) if (d) rmSync(d, { recursive: true, force: true });
});

const admin = (url: string, method = "GET", body?: unknown) =>
  fetch(url, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { "content-type": "application/json" } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });

let jobId = "";
let answer: Uint8Array<ArrayBuffer>;

describe("three instances, one database, one bucket", () => {
  test("a booth held on A is answered with the result B processed", async () => {
    const { a, b, c } = servers;
    const res = await fetch(`${a!.url}/ingest/slot-001`, {
      method: "POST",
      body: dslrForm(await makeJpeg(200, 150)),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("image/jpeg");
    jobId = res.headers.get("x-job-id")!;
    answer = new Uint8Array(await res.arrayBuffer());
    expect(answer.byteLength).toBeGreaterThan(100);
    expect(dispatchedBy(b, jobId)).toBe(true);
    expect(dispatchedBy(a, jobId) || dispatchedBy(c, jobId)).toBe(false);
  });

  test("C serves the result and its thumbnail from the bucket", async () => {
    const c = servers.c!;
    const res = await fetch(`${c.url}/public/results/${jobId}`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("image/jpeg");
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(answer);
    const thumb = await fetch(`${c.url}/public/results/${jobId}/thumb`);
    expect(thumb.status).toBe(200);
    expect(thumb.headers.get("content-type")).toBe("image/webp");
    expect((await thumb.arrayBuffer()).byteLength).toBeGreaterThan(20);
    const keys = await bucket.keys("results/");
    // Result files are named per attempt (results/<job>.a<attempt>.<ext>).
    expect(keys).toContain(`results/${jobId}.a1.jpg`);
    // The payload went to the bucket too, and is deleted once the job is final.
    await eventually(async () => (await bucket.keys("payloads/")).length === 0);
  });

  test("the local media directories stay empty", () => {
    for (const dir of Object.values(dataDirs)) {
      expect(filesUnder(join(dir, "media"))).toEqual([]);
    }
  });

  test("/readyz on each instance checks the bucket", async () => {
    for (const s of [servers.a!, servers.b!, servers.c!]) {
      const res = await fetch(`${s.url}/readyz`);
      expect(res.status).toBe(200);
      const body = (await res.json()) as { checks: { media: { ok: boolean; backend: string } } };
      expect(body.checks.media).toEqual({ ok: true, backend: "s3" });
    }
  });

  test("a settings change made through A applies on C (and A's session works on C)", async () => {
    const { a, c } = servers;
    const before = (await (await admin(`${c!.url}/api/settings`)).json()) as {
      result_retention_hours: number;
    };
    const next = before.result_retention_hours === 100 ? 101 : 100;
    expect((await admin(`${a!.url}/api/settings`, "PUT", { result_retention_hours: next })).status).toBe(200);
    await eventually(async () => {
      const now = (await (await admin(`${c!.url}/api/settings`)).json()) as {
        result_retention_hours: number;
      };
      return now.result_retention_hours === next;
    }, 5_000);
  });

  test("status lists the three instances with version, address, heartbeat and jobs in flight", async () => {
    const r = await runCli(["status", "--json"], envFor(dataDirs.a, 0));
    expect(r.code).toBe(0);
    const status = JSON.parse(r.stdout) as {
      live_instances: number;
      media: { backend: string };
      instances: { address: string; live: boolean; version: string; jobs_in_flight: number }[];
    };
    expect(status.media.backend).toBe("s3");
    expect(status.live_instances).toBe(3);
    const addresses = status.instances.filter((i) => i.live).map((i) => i.address);
    for (const s of [servers.a!, servers.b!, servers.c!]) expect(addresses).toContain(new URL(s.url).host);
    for (const i of status.instances) expect(i.jobs_in_flight).toBeGreaterThanOrEqual(0);
  });

  test("the cleaner removes an expired result exactly once, though all three are asked at once", async () => {
    const since = new Date(Date.now() - 1000);
    await db`update job set result_expires_at = now() - interval '1 minute' where id = ${jobId}`;
    const asked = await Promise.all(
      [servers.a!, servers.b!, servers.c!].map((s) => admin(`${s.url}/api/media/cache/purge`, "POST")),
    );
    expect(asked.map((r) => r.status)).toEqual([202, 202, 202]);
    const runs = await eventually(async () => {
      const rows = await db<{ removed: Record<string, number>; finished_at: Date | null }[]>`
        select removed, finished_at from cleanup_run where trigger = 'api' and started_at >= ${since}`;
      return rows.length === 3 && rows.every((r) => r.finished_at) ? rows : null;
    }, 60_000);
    const removed = runs.reduce((n, r) => n + (r.removed.results ?? 0), 0);
    const thumbs = runs.reduce((n, r) => n + (r.removed.thumbnails ?? 0), 0);
    expect({ removed, thumbs }).toEqual({ removed: 1, thumbs: 1 });
    expect((await bucket.keys("results/")).filter((k) => k.includes(jobId))).toEqual([]);
    expect((await fetch(`${servers.c!.url}/public/results/${jobId}`)).status).toBe(410);
  });

  // With the job lifecycle's re-run (issue 11): a stopped worker hands its job back, another runs it.
  test("stopping B while it runs a job still answers the booth on A with 200", async () => {
    const { a, b } = servers;
    const held = fetch(`${a!.url}/ingest/slot-002`, {
      method: "POST",
      body: dslrForm(await makeJpeg(160, 120)),
    });
    // B (the only instance with workers) says in its log when it has the job running.
    const jobId2 = await eventually(async () => {
      const line = logRecords(b!).find((r) => r.event === "job.dispatched" && r.slot === "slot-002");
      return line ? String(line.job_id) : null;
    }, 20_000);
    // A rolling upgrade: B is stopped mid-job, its replacement B2 comes up with the same env.
    b!.proc.kill("SIGTERM");
    servers.b2 = await spawnServer(envFor(dataDirs.b, 2));
    const res = await held;
    expect(res.status).toBe(200);
    expect(res.headers.get("x-job-id")).toBe(jobId2);
    expect(await b!.proc.exited).toBe(0);
  });
});
