/**
 * A server whose media bucket fails under it (s3rver in a child process, stopped or frozen):
 * a provider's result the bucket cannot take is kept in the local spool, the booth still gets it,
 * and it reaches the bucket when the bucket is back; a full spool fails the job as storage_full
 * instead of filling the disk; uploads are refused with a fast 503 and /readyz says not ready,
 * also when the bucket hangs.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { localProvider } from "../src/providers/local";
import { GATED_ID, type Gate, gatedProvider } from "./fakes/gated-provider";
import {
  ADMIN_PASSWORDS,
  dslrForm,
  eventually,
  json,
  postIngest,
  startTestApp,
  type TestApp,
} from "./helpers/app";
import { runCli } from "./helpers/cli";
import { makeJpeg } from "./helpers/images";
import { type OwnedBucket, startOwnedBucket } from "./helpers/s3";

let bucket: OwnedBucket;
let gate: Gate;
let app: TestApp;

beforeAll(async () => {
  bucket = await startOwnedBucket("outage-app");
  gate = gatedProvider();
  app = await startTestApp({ env: bucket.env, providers: [localProvider, gate.provider] });
  await app.configureSlot("slot-001", { provider: GATED_ID, operation: "passthrough", settings: {} });
  await app.setSyncSeconds(20);
});
afterAll(async () => {
  gate?.open();
  await app?.stop();
  await bucket?.stop();
});
afterEach(async () => {
  // Every case leaves the bucket up and the gate closed for the next.
  bucket.thaw();
  await bucket.start().catch(() => {});
  gate.close();
});

const sha = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");
const spooled = () => {
  try {
    return readdirSync(join(app.dataDir, "media-spool", "results"));
  } catch {
    return [];
  }
};

/** Posts a photo and waits until its provider call has its inputs (the photo was read from the bucket). */
async function heldBooth(): Promise<{ answer: Promise<Response>; jobId: string }> {
  const started = gate.started();
  const answer = postIngest(app, "slot-001", dslrForm(await makeJpeg(320, 240)));
  return { answer, jobId: await started };
}

async function signIn(): Promise<string> {
  const res = await fetch(`${app.url}/login`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", origin: app.url },
    body: new URLSearchParams({ username: "serg", password: ADMIN_PASSWORDS.serg }),
    redirect: "manual",
  });
  return res.headers.get("set-cookie")!.split(";")[0]!;
}

async function expectUploaded(jobId: string): Promise<void> {
  const row = await eventually(async () => {
    const [r] = await app.sql<{ result_path: string; result_sha256: string }[]>`
      select result_path, result_sha256 from job where id = ${jobId}`;
    return r && !r.result_path.startsWith("spool/") ? r : null;
  }, 30_000);
  expect(row.result_path).toMatch(new RegExp(`^results/${jobId}\\.a1\\.jpg$`));
  expect(sha(await bucket.client.file(row.result_path).bytes())).toBe(row.result_sha256);
  expect(spooled()).toEqual([]);
  const page = await (await fetch(`${app.url}/system`, { headers: { cookie: await signIn() } })).text();
  expect(page).not.toContain('data-banner="bucket"');
  expect(page).toContain('data-bucket="ok"');
  expect(page).toContain('data-spool="0"');
  const served = await fetch(`${app.url}/public/results/${jobId}`);
  expect(served.status).toBe(200);
  expect(sha(new Uint8Array(await served.arrayBuffer()))).toBe(row.result_sha256);
}

describe.each([
  ["refuses connections", () => bucket.halt(), () => bucket.start()],
  ["hangs", async () => bucket.freeze(), async () => bucket.thaw()],
] as const)("the bucket %s while the provider works", (_name, breakIt, mendIt) => {
  test("the result is kept in the spool, the booth gets it, and it reaches the bucket once it is back", async () => {
    const { answer, jobId } = await heldBooth();
    await breakIt();
    gate.open();
    const res = await answer;
    expect(res.status).toBe(200);
    expect(res.headers.get("x-job-id")).toBe(jobId);
    const body = new Uint8Array(await res.arrayBuffer());
    const [row] = await app.sql<{ status: string; result_path: string; result_sha256: string }[]>`
      select status, result_path, result_sha256 from job where id = ${jobId}`;
    expect(row!.status).toBe("succeeded");
    expect(row!.result_path).toBe(`spool/results/${jobId}.a1.jpg`);
    expect(sha(body)).toBe(row!.result_sha256);
    expect(spooled()).toEqual([`${jobId}.a1.jpg`]);
    // The gallery link works from the spool meanwhile.
    const link = await fetch(`${app.url}/public/results/${jobId}`);
    expect(link.status).toBe(200);
    expect(sha(new Uint8Array(await link.arrayBuffer()))).toBe(row!.result_sha256);
    // The operator is told: the banner, the /system card, `photochanger status`.
    const page = await (await fetch(`${app.url}/system`, { headers: { cookie: await signIn() } })).text();
    expect(page).toContain('data-banner="bucket"');
    expect(page).toContain('data-bucket="failing"');
    expect(page).toContain('data-spool="1"');
    const status = await runCli(["status"], {
      DATABASE_URL: app.databaseUrl,
      PHOTOCHANGER_DATA_DIR: app.dataDir,
      ...bucket.env,
    });
    expect(status.stdout).toMatch(/media: +bucket s3:\/\/outage-app at \S+ +UNREACHABLE/);
    expect(status.stdout).toMatch(/media spool: +1 results/);
    await mendIt();
    await expectUploaded(jobId);
  });

  test("a new upload meanwhile is refused with 503 and Retry-After, leaving no job; /readyz says media is not ready", async () => {
    const before = (await app.sql<{ n: number }[]>`select count(*)::int as n from job`)[0]!.n;
    await breakIt();
    const res = await postIngest(app, "slot-001", dslrForm(await makeJpeg()));
    expect(res.status).toBe(503);
    expect(res.headers.get("retry-after")).toBe("5");
    expect((await json(res)).error.code).toBe("service_unavailable");
    expect((await app.sql<{ n: number }[]>`select count(*)::int as n from job`)[0]!.n).toBe(before);
    const ready = await fetch(`${app.url}/readyz`);
    expect(ready.status).toBe(503);
    expect((await json(ready)).error.details.failing).toContain("media");
    await mendIt();
    await eventually(async () => (await fetch(`${app.url}/readyz`)).status === 200, 20_000);
  });
});

test("a full spool fails the job as storage_full (the booth's 507 with its id) instead of filling the disk", async () => {
  // A second instance with a 1 MB spool (the default is 2 GB) on the same database and bucket.
  const small = await startTestApp({
    databaseUrl: app.databaseUrl,
    env: { ...bucket.env, MEDIA_SPOOL_MAX_MB: "1" },
    providers: [localProvider, gate.provider],
    workerCount: 2,
  });
  try {
    app.runtime.workers.drain(); // only the small instance's workers take its booth's job
    mkdirSync(join(small.dataDir, "media-spool", "results"), { recursive: true });
    writeFileSync(join(small.dataDir, "media-spool", "results", "filler.bin"), new Uint8Array(1024 * 1024));
    const started = gate.started();
    const answer = fetch(`${small.url}/ingest/slot-001`, {
      method: "POST",
      body: dslrForm(await makeJpeg(320, 240)),
    });
    const jobId = await started;
    await bucket.halt();
    gate.open();
    const res = await answer;
    expect(res.status).toBe(507);
    const body = await json(res);
    expect([body.error.code, body.error.details.job_id]).toEqual(["insufficient_storage", jobId]);
    const [row] = await app.sql<{ status: string; failure_reason: string; result_path: string | null }[]>`
      select status, failure_reason, result_path from job where id = ${jobId}`;
    expect(row).toEqual({ status: "failed", failure_reason: "storage_full", result_path: null });
    expect(readdirSync(join(small.dataDir, "media-spool", "results"))).toEqual(["filler.bin"]);
  } finally {
    await small.stop();
  }
});
