/**
 * `photochanger serve` as a real process: SIGTERM/SIGINT drain it — a booth request held at that
 * moment still gets its image, new ingests get 503 while /readyz says not ready, the process exits
 * 0 — a provider call still running when the stop grace ends goes back to `pending` (its lease
 * released), and a second signal exits at once.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import { loadConfig } from "../src/config";
import { createLogger } from "../src/lib/log";
import { sniffImage } from "../src/media/images";
import { Runtime } from "../src/runtime";
import { dslrFields, dslrForm, freshDatabase } from "./helpers/app";
import { runCli, spawnServer } from "./helpers/cli";
import { makeJpeg } from "./helpers/images";

const PASSWORD = "booth-shutdown-1";

let env: Record<string, string>;
let dataDir: string;
let db: postgres.Sql;
let photo: Uint8Array;

beforeAll(async () => {
  const databaseUrl = await freshDatabase();
  dataDir = mkdtempSync(join(tmpdir(), "photochanger-shutdown-"));
  env = { DATABASE_URL: databaseUrl, PHOTOCHANGER_DATA_DIR: dataDir };
  db = postgres(databaseUrl, { max: 1, onnotice: () => {} });
  photo = await makeJpeg(320, 240);
  for (const args of [
    ["rotate-password", "--value", PASSWORD],
    ["slot", "set", "slot-004", "--provider", "local", "--operation", "passthrough"],
    ["slot", "set", "slot-004", "--setting", "simulate_delay_ms=1500"],
    ["slot", "set", "slot-005", "--provider", "local", "--operation", "greyscale"],
    ["slot", "set", "slot-005", "--setting", "simulate_delay_ms=30000"],
  ]) {
    const r = await runCli(args, env);
    expect(r.code).toBe(0);
  }
});
afterAll(async () => {
  await db.end({ timeout: 5 });
  rmSync(dataDir, { recursive: true, force: true });
});

function ingest(url: string, slotId: string, signal?: AbortSignal): Promise<Response> {
  return fetch(`${url}/ingest/${slotId}`, {
    method: "POST",
    body: dslrForm(photo, dslrFields({ password: PASSWORD })),
    signal,
  });
}

async function jobStatus(id: string): Promise<{ status: string; failure_reason: string | null }> {
  const [row] = await db<{ status: string; failure_reason: string | null }[]>`
    select status, failure_reason from job where id = ${id}`;
  return row!;
}

describe("graceful shutdown", () => {
  test("SIGTERM: the held booth request gets its image, new ingests get 503 while draining, exit 0", async () => {
    const server = await spawnServer(env);
    const held = ingest(server.url, "slot-004");
    const dispatched = await server.waitForEvent("job.dispatched");

    server.proc.kill("SIGTERM");
    await server.waitForEvent("server.stopping");
    const ready = await fetch(`${server.url}/readyz`);
    expect(ready.status).toBe(503);
    const late = await ingest(server.url, "slot-004");
    expect(late.status).toBe(503);
    expect(late.headers.get("retry-after")).toBe("5");
    expect(((await late.json()) as { error: { code: string } }).error.code).toBe("service_unavailable");

    const res = await held;
    expect(res.status).toBe(200);
    expect(res.headers.get("x-job-id")).toBe(dispatched.job_id as string);
    expect(sniffImage(new Uint8Array(await res.arrayBuffer()))).toBe("jpeg");
    expect(await server.proc.exited).toBe(0);

    expect(await jobStatus(dispatched.job_id as string)).toEqual({
      status: "succeeded",
      failure_reason: null,
    });
    await server.waitForEvent("server.stopped");
    const [instance] = await db<{ stopped_at: Date | null }[]>`
      select stopped_at from instance order by started_at desc limit 1`;
    expect(instance!.stopped_at).not.toBeNull();
  });

  test("SIGINT with a job nobody waits for, past the stop grace: it goes back to pending, no lease left, exit 0", async () => {
    const server = await spawnServer({ ...env, STOP_GRACE_SECONDS: "1" });
    const booth = new AbortController();
    const gone = ingest(server.url, "slot-005", booth.signal).catch(() => null);
    const dispatched = await server.waitForEvent("job.dispatched");
    booth.abort(); // the booth gave up; the job keeps running (30 s of simulated work)
    await gone;
    await server.waitForEvent("ingest.client_gone");

    server.proc.kill("SIGINT");
    expect(await server.proc.exited).toBe(0);
    const [row] = await db<{ status: string; failure_reason: string | null; lease_token: string | null }[]>`
      select status, failure_reason, lease_token from job where id = ${dispatched.job_id as string}`;
    expect(row).toEqual({ status: "pending", failure_reason: null, lease_token: null });
    const released = await server.waitForEvent("job.released");
    expect(released.status).toBe("pending");
    // Nobody else runs it here: resolve it so later tests' in-flight counts are not affected.
    const runtime = await Runtime.create(loadConfig(env), {
      workers: false,
      log: createLogger("error", () => {}),
      announce: () => {},
    });
    try {
      expect((await runtime.queue.cancel(dispatched.job_id as string, "test"))?.status).toBe("cancelled");
    } finally {
      await runtime.stop();
    }
  });

  test("a second signal exits at once, without waiting for the held request", async () => {
    const server = await spawnServer(env);
    const held = ingest(server.url, "slot-005").then(
      (r) => r.status,
      () => "cut",
    );
    const dispatched = await server.waitForEvent("job.dispatched");
    server.proc.kill("SIGTERM");
    await server.waitForEvent("server.stopping");
    server.proc.kill("SIGTERM");
    expect(await server.proc.exited).toBe(1);
    expect(server.output()).toContain('"event":"server.forced_exit"');
    // The job was not waited for: it is still marked as running (the next start re-queues it).
    expect((await jobStatus(dispatched.job_id as string)).status).toBe("processing");
    expect(await held).toBe("cut");
  });
});
