import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { eq, inArray, sql } from "drizzle-orm";
import { job, processingLog } from "../src/db/schema";
import { ManualClock } from "../src/lib/clock";
import { KEYS } from "../src/settings/service";
import { seedJobHistory } from "../src/store/seed";
import {
  dslrForm,
  eventually,
  freshDatabase,
  json,
  LogWatch,
  postIngest,
  startTestApp,
  type TestApp,
  whenFinal,
} from "./helpers/app";
import { makeJpeg } from "./helpers/images";

let photo: Uint8Array;
beforeAll(async () => {
  photo = await makeJpeg(160, 120);
});

async function eventsOf(app: TestApp, jobId: string): Promise<string[]> {
  const rows = await app.db
    .select()
    .from(processingLog)
    .where(eq(processingLog.jobId, jobId))
    .orderBy(processingLog.id);
  return rows.map((r) => r.event);
}

describe("the deadline", () => {
  let app: TestApp;
  /** The app's clock: deadlines pass when the test moves it, not by waiting. */
  const clock = new ManualClock();
  const watch = new LogWatch();
  beforeAll(async () => {
    app = await startTestApp({ clock, onLogLine: watch.sink });
    await app.setSyncSeconds(10);
  });
  afterAll(() => app.stop());

  test("a slow provider → 504 sync_timeout at the deadline; the job ends `timeout` and nothing is served later", async () => {
    await app.configureSlot("slot-004", {
      provider: "local",
      operation: "greyscale",
      settings: { simulate_delay_ms: 20_000 },
    });
    const working = clock.whenTimerSet(20_000);
    const pending = postIngest(app, "slot-004", dslrForm(photo));
    await working;
    clock.advance(10_000); // T_sync passes while the provider works
    const res = await pending;
    expect(res.status).toBe(504);
    const body = await json(res);
    expect(body.error.code).toBe("sync_timeout");
    const jobId = body.error.details.job_id as string;
    expect(res.headers.get("x-job-id")).toBe(jobId);
    expect(typeof body.error.details.expires_at).toBe("string");

    const [row] = await app.db.select().from(job).where(eq(job.id, jobId));
    expect(row!.status).toBe("timeout");
    expect(row!.failureReason).toBe("timeout");
    expect(row!.resultPath).toBeNull();
    // The photo is kept for a re-run until the result retention ends (SPEC §11).
    expect(row!.payloadPath).not.toBeNull();
    expect(await app.runtime.media.exists(row!.payloadPath!)).toBe(true);
    expect(row!.finalizedAt!.getTime()).toBeGreaterThanOrEqual(row!.expiresAt.getTime());

    // Even after the provider would have finished, the job stays timed out and has no result.
    clock.advance(15_000);
    // Whatever the provider's end would set off has run once the worker has let go of the job.
    await eventually(async () => app.runtime.workers.inFlight === 0);
    const [later] = await app.db.select().from(job).where(eq(job.id, jobId));
    expect(later!.status).toBe("timeout");
    expect(later!.resultPath).toBeNull();
    expect((await fetch(`${app.url}/public/results/${jobId}`)).status).toBe(404);
    const events = await eventsOf(app, jobId);
    expect(events.filter((e) => e === "timeout")).toHaveLength(1);
    expect(events).not.toContain("succeeded");
    expect((await app.runtime.media.list("results")).filter((f) => f.path.includes(jobId))).toHaveLength(0);
  });

  test("a T_sync change applies to jobs created after it", async () => {
    await app.configureSlot("slot-005", { provider: "local", operation: "passthrough", settings: {} });
    await app.setSyncSeconds(30);
    const res = await postIngest(app, "slot-005", dslrForm(photo));
    expect(res.status).toBe(200);
    const [row] = await app.db
      .select()
      .from(job)
      .where(eq(job.id, res.headers.get("x-job-id")!));
    expect(row!.expiresAt.getTime() - row!.createdAt.getTime()).toBe(30_000);
    await app.setSyncSeconds(10);
  });

  test("in-flight cap → 429 queue_busy with Retry-After, and no job or file is left", async () => {
    await app.setSetting(KEYS.maxInFlightJobs, 1);
    await app.configureSlot("slot-006", {
      provider: "local",
      operation: "passthrough",
      settings: { simulate_delay_ms: 1500 },
    });
    const working = clock.whenTimerSet(1500);
    const slow = postIngest(app, "slot-006", dslrForm(photo));
    await working;
    const before = (await app.db.select().from(job)).length;
    const busy = await postIngest(app, "slot-006", dslrForm(photo));
    expect(busy.status).toBe(429);
    expect((await json(busy)).error.code).toBe("queue_busy");
    expect(Number(busy.headers.get("retry-after"))).toBeGreaterThan(0);
    expect((await app.db.select().from(job)).length).toBe(before);
    clock.advance(1500); // the slow job's provider answers
    const answered = await slow;
    expect(answered.status).toBe(200);
    // The payload went at finalization, before the answer (a failed job's photo stays for a re-run).
    const slowId = answered.headers.get("x-job-id")!;
    expect((await app.runtime.media.list("payloads")).filter((f) => f.path.includes(slowId))).toEqual([]);
    await app.setSetting(KEYS.maxInFlightJobs, 16);
  });

  test("too many wrong passwords from one address → 429 too_many_attempts, even with the right one", async () => {
    await app.configureSlot("slot-007", { provider: "local", operation: "passthrough", settings: {} });
    for (let i = 0; i < 10; i++) {
      const res = await postIngest(app, "slot-007", dslrForm(photo, { password: `guess-${i}` }));
      expect(res.status).toBe(401);
    }
    const blocked = await postIngest(app, "slot-007", dslrForm(photo));
    expect(blocked.status).toBe(429);
    expect((await json(blocked)).error.code).toBe("too_many_attempts");
    const retryAfter = Number(blocked.headers.get("retry-after"));
    expect(retryAfter).toBeGreaterThan(0);
    // Still blocked a second before Retry-After runs out; let in once it has.
    clock.advance((retryAfter - 1) * 1000);
    expect((await postIngest(app, "slot-007", dslrForm(photo))).status).toBe(429);
    clock.advance(1000);
    expect((await postIngest(app, "slot-007", dslrForm(photo))).status).toBe(200);
  });

  test("a booth that hangs up early: the job still runs to completion and its result is kept", async () => {
    await app.configureSlot("slot-008", {
      provider: "local",
      operation: "greyscale",
      settings: { simulate_delay_ms: 800 },
    });
    const abort = new AbortController();
    const running = watch.next("job.dispatched", { slot: "slot-008" });
    const working = clock.whenTimerSet(800);
    const pending = fetch(`${app.url}/ingest/slot-008`, {
      method: "POST",
      body: dslrForm(photo),
      signal: abort.signal,
    }).catch(() => null);
    const jobId = String((await running).job_id);
    await working;
    abort.abort();
    await pending;
    clock.advance(800); // the provider answers after the booth has gone
    const done = await whenFinal(app, jobId);
    expect(done.status).toBe("succeeded");
    expect((await fetch(`${app.url}/public/results/${jobId}`)).status).toBe(200);
  });
});

describe("fenced finalization (injectable clock)", () => {
  let app: TestApp;
  const clock = new ManualClock(new Date("2026-11-21T10:00:00Z"));
  beforeAll(async () => {
    app = await startTestApp({ workers: false, clock });
  });
  afterAll(() => app.stop());

  /** A job queued the way the booth's request queues it (no worker runs here). */
  async function pendingJob(id: string) {
    const now = clock.now();
    const outcome = await app.runtime.queue.enqueue(
      {
        id,
        slotId: "slot-001",
        source: "ingest",
        status: "pending",
        provider: "local",
        operation: "passthrough",
        settings: {},
        outputFormat: "jpeg",
        createdAt: now,
        expiresAt: new Date(now.getTime() + 48_000),
        instanceId: app.runtime.instanceId,
      },
      16,
    );
    expect(outcome.kind).toBe("inserted");
  }

  test("a result that arrives after the deadline is refused; the waiter's timeout stands", async () => {
    await pendingJob("00000000-0000-4000-8000-000000000001");
    const claimed = await app.runtime.queue.claim("test-worker");
    expect(claimed!.id).toBe("00000000-0000-4000-8000-000000000001");
    expect(claimed!.status).toBe("processing");
    expect(claimed!.leaseToken).toBeTruthy();

    clock.advance(48_001);
    const expired = await app.runtime.queue.expire(claimed!.id);
    expect(expired!.status).toBe("timeout");
    const late = await app.runtime.queue.succeed(
      claimed!,
      {
        resultPath: "results/x.jpg",
        servedProvider: "local",
        thumbPath: null,
        resultMime: "image/jpeg",
        resultSize: 1,
        resultSha256: "0".repeat(64),
        providerLatencyMs: 1,
      },
      72,
    );
    expect(late).toBeNull();
    const row = await app.runtime.queue.get(claimed!.id);
    expect(row!.status).toBe("timeout");
    expect(row!.resultPath).toBeNull();
  });

  test("only the current lease holder finalizes; a job past its deadline cannot succeed even with the lease", async () => {
    await pendingJob("00000000-0000-4000-8000-000000000002");
    const claimed = (await app.runtime.queue.claim("worker-a"))!;
    const stale = { ...claimed, leaseToken: "00000000-0000-4000-8000-0000000000ff" };
    expect(await app.runtime.queue.fail(stale, "provider_error", "x", null)).toBeNull();
    clock.advance(60_000);
    expect(await app.runtime.queue.fail(claimed, "provider_error", "x", null)).toBeNull();
    expect((await app.runtime.queue.expire(claimed.id))!.status).toBe("timeout");
    expect(await app.runtime.queue.expire(claimed.id)).toBeNull();
  });

  test("a job is not claimed once its deadline has passed, and the claim uses the partial index", async () => {
    await pendingJob("00000000-0000-4000-8000-000000000003");
    clock.advance(49_000);
    expect(await app.runtime.queue.claim("worker-a")).toBeNull();
    const plan = await app.sql.begin(async (tx) => {
      await tx`set local enable_seqscan = off`;
      return tx.unsafe(
        `explain update job set status = 'processing' where id = (
           select id from job where status = 'pending' and expires_at > now()
           and provider <> all('{}'::text[]) order by created_at limit 1 for update skip locked)`,
      );
    });
    const text = plan.map((r) => Object.values(r)[0]).join("\n");
    expect(text).toContain("job_pending_idx");
  });
});

describe("crash recovery", () => {
  test("work of a dead worker goes back to pending (fenced, bounded); past the deadline `timeout`; live work untouched", async () => {
    const databaseUrl = await freshDatabase();
    const clock = new ManualClock(new Date("2026-11-21T12:00:00Z"));
    const dead = "11111111-1111-4111-8111-111111111111";
    const stopped = "22222222-2222-4222-8222-222222222222";
    const app = await startTestApp({ databaseUrl, workers: false, clock });
    try {
      const now = clock.now();
      const me = app.runtime.instanceId;
      const base = {
        slotId: "slot-001",
        source: "ingest",
        provider: "local",
        operation: "passthrough",
        settings: {},
        outputFormat: "jpeg",
      } as const;
      const ids = (c: string) => `00000000-0000-4000-8000-00000000000${c}`;
      const lapsed = new Date(now.getTime() - 20_000);
      // Another instance that registered and stopped, as instances do.
      await app.runtime.store.instances.upsert(
        { id: stopped, hostname: "elsewhere", pid: 1, version: "x" },
        now,
      );
      await app.runtime.store.instances.stop(stopped, now);
      const processing = (c: string, extra: Record<string, unknown>) => ({
        ...base,
        id: ids(c),
        status: "processing" as const,
        createdAt: lapsed,
        expiresAt: new Date(now.getTime() + 28_000),
        heartbeatAt: lapsed,
        attempts: 1,
        leaseToken: `00000000-0000-4000-8000-0000000000${c}${c}`,
        leaseOwner: `${dead}/1`,
        ...extra,
      });
      // What crashed workers leave behind: only a crash makes these, so they are seeded.
      await seedJobHistory(app, [
        // a: its worker's lease heartbeat lapsed, deadline still ahead → re-queued
        processing("a", {}),
        // b: pending, its waiting instance is gone, deadline passed → timeout
        {
          ...base,
          id: ids("b"),
          status: "pending",
          createdAt: new Date(now.getTime() - 60_000),
          expiresAt: new Date(now.getTime() - 12_000),
          instanceId: dead,
        },
        // c: pending, waited on by this live instance → untouched
        {
          ...base,
          id: ids("c"),
          status: "pending",
          createdAt: now,
          expiresAt: new Date(now.getTime() + 48_000),
        },
        // d: lapsed, but its attempts are used up → failed/interrupted
        processing("d", { attempts: 5 }),
        // e: its instance is registered as stopped: re-queued at once, though its heartbeat is fresh
        processing("e", { heartbeatAt: now, leaseOwner: `${stopped}/2` }),
        // f: held by this instance's own worker: never taken by lapse
        processing("f", { leaseOwner: `${me}/1` }),
      ]);

      // Leases are not judged by heartbeat when this process could not see the database meanwhile.
      const unjudged = await app.runtime.queue.recover(me, null, 3_000);
      expect(unjudged.map((r) => [r.id, r.status]).sort()).toEqual([
        [ids("b"), "timeout"],
        [ids("e"), "pending"],
      ]);

      const recovered = await app.runtime.queue.recover(me, new Date(now.getTime() - 15_000), 3_000);
      const byId = new Map(recovered.map((r) => [r.id, r]));
      expect([...byId.keys()].sort()).toEqual([ids("a"), ids("d")]);
      const a = byId.get(ids("a"))!;
      expect([a.status, a.leaseToken, a.leaseOwner, a.finalizedAt, a.attempts]).toEqual([
        "pending",
        null,
        null,
        null,
        1,
      ]);
      expect([byId.get(ids("d"))!.status, byId.get(ids("d"))!.failureReason]).toEqual([
        "failed",
        "interrupted",
      ]);
      expect((await app.runtime.queue.get(ids("f")))!.status).toBe("processing");
      expect((await app.runtime.queue.get(ids("c")))!.status).toBe("pending");

      // The old lease holder's late result is refused by the fence.
      const late = await app.runtime.queue.succeed(
        processing("a", {}) as never,
        {
          resultPath: "results/x.jpg",
          servedProvider: "local",
          thumbPath: null,
          resultMime: "image/jpeg",
          resultSize: 1,
          resultSha256: "0",
          providerLatencyMs: 1,
        },
        72,
      );
      expect(late).toBeNull();

      const logs = await app.db
        .select()
        .from(processingLog)
        .where(inArray(processingLog.jobId, [ids("a"), ids("b"), ids("d"), ids("e")]));
      expect(logs.map((l) => `${l.jobId.slice(-1)}:${l.event}`).sort()).toEqual([
        "a:requeued",
        "b:timeout",
        "d:failed",
        "e:requeued",
      ]);
    } finally {
      await app.stop();
    }
  });

  test("a restarted server re-queues its dead predecessor's jobs at start, without waiting for the lease", async () => {
    const databaseUrl = await freshDatabase();
    const first = await startTestApp({ databaseUrl, workers: false });
    await first.configureSlot("slot-001", { provider: "local", operation: "passthrough" });
    // Simulate a crash: an instance on this host whose process is gone, holding a job with a fresh lease.
    const gone = Bun.spawn(["true"]);
    await gone.exited;
    const predecessor = "33333333-3333-4333-8333-333333333333";
    const now = new Date();
    await first.runtime.store.instances.upsert(
      { id: predecessor, hostname: hostname(), pid: gone.pid, version: "x" },
      now,
    );
    // The job it held when it died (only a crash leaves this, so it is seeded).
    await seedJobHistory(first, [
      {
        id: "00000000-0000-4000-8000-0000000000d1",
        slotId: "slot-001",
        source: "ingest",
        status: "processing",
        provider: "local",
        operation: "passthrough",
        settings: {},
        outputFormat: "jpeg",
        createdAt: now,
        expiresAt: new Date(Date.now() + 30_000),
        heartbeatAt: now,
        attempts: 1,
        leaseOwner: `${predecessor}/1`,
        leaseToken: "00000000-0000-4000-8000-0000000000d2",
      },
    ]);
    await first.stop();
    const second = await startTestApp({ databaseUrl, workers: false });
    try {
      const row = await second.runtime.queue.get("00000000-0000-4000-8000-0000000000d1");
      expect([row!.status, row!.leaseToken, row!.failureReason]).toEqual(["pending", null, null]);
    } finally {
      await second.stop();
    }
  });
});

describe("two instances on one database", () => {
  test("many jobs, 2 × 4 worker loops: every job is processed exactly once", async () => {
    const databaseUrl = await freshDatabase();
    const dataDir = mkdtempSync(join(tmpdir(), "photochanger-shared-"));
    const a = await startTestApp({ databaseUrl, dataDir, workerCount: 4 });
    const b = await startTestApp({ databaseUrl, dataDir, workerCount: 4 });
    try {
      await a.setSetting(KEYS.maxInFlightJobs, 200);
      await a.setSetting(KEYS.providerConcurrency, { local: 8 });
      b.runtime.settings.invalidate(); // B read the defaults at start; its 1 s cache would hide the change
      for (let i = 1; i <= 15; i++) {
        await a.configureSlot(`slot-${String(i).padStart(3, "0")}`, {
          provider: "local",
          operation: "greyscale",
          settings: { simulate_delay_ms: 20 },
        });
      }
      const uploads = Array.from({ length: 60 }, (_, i) => {
        const target = i % 2 === 0 ? a : b;
        return postIngest(target, `slot-${String((i % 15) + 1).padStart(3, "0")}`, dslrForm(photo));
      });
      const responses = await Promise.all(uploads);
      expect(responses.map((r) => r.status)).toEqual(Array(60).fill(200));
      const ids = responses.map((r) => r.headers.get("x-job-id")!);
      expect(new Set(ids).size).toBe(60);

      const rows = await a.db.select().from(job).where(inArray(job.id, ids));
      expect(rows.every((r) => r.status === "succeeded" && r.attempts === 1)).toBe(true);
      const owners = new Set(rows.map((r) => r.leaseOwner?.split("/")[0]));
      expect(owners.size).toBe(2);
      const dispatched = await a.db
        .select({ jobId: processingLog.jobId, n: sql<number>`count(*)::int` })
        .from(processingLog)
        .where(sql`${processingLog.event} = 'dispatched' and ${processingLog.jobId} in ${ids}`)
        .groupBy(processingLog.jobId);
      expect(dispatched).toHaveLength(60);
      expect(dispatched.every((d) => d.n === 1)).toBe(true);
    } finally {
      await a.stop();
      await b.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 150_000); // 60 real jobs through two servers: slow on a loaded 2-core machine
});

describe("public results", () => {
  let app: TestApp;
  const clock = new ManualClock();
  beforeAll(async () => {
    app = await startTestApp({ clock });
    await app.configureSlot("slot-001", { provider: "local", operation: "greyscale", settings: {} });
  });
  afterAll(() => app.stop());

  test("200 with cache headers while kept, 404 unknown/unfinished, 410 once expired", async () => {
    const res = await postIngest(app, "slot-001", dslrForm(photo));
    expect(res.status).toBe(200);
    const id = res.headers.get("x-job-id")!;

    const ok = await fetch(`${app.url}/public/results/${id}`);
    expect(ok.status).toBe(200);
    expect(ok.headers.get("content-type")).toBe("image/jpeg");
    expect(ok.headers.get("cache-control")).toMatch(/^private, max-age=\d+$/);
    expect(Number(ok.headers.get("cache-control")!.split("=")[1])).toBeGreaterThan(71 * 3600);
    expect(ok.headers.get("expires")).toBeTruthy();
    const thumb = await fetch(`${app.url}/public/results/${id}/thumb`);
    expect(thumb.status).toBe(200);
    expect(thumb.headers.get("content-type")).toBe("image/webp");

    const unknown = await fetch(`${app.url}/public/results/00000000-0000-4000-8000-000000000999`);
    expect(unknown.status).toBe(404);
    expect((await json(unknown)).error.code).toBe("result_not_found");
    expect((await fetch(`${app.url}/public/results/not-a-uuid`)).status).toBe(404);

    clock.advance(72 * 3600_000 + 1000);
    const gone = await fetch(`${app.url}/public/results/${id}`);
    expect(gone.status).toBe(410);
    const body = await json(gone);
    expect(body.error.code).toBe("result_expired");
    expect(body.error.details.job_id).toBe(id);
    expect((await fetch(`${app.url}/public/results/${id}/thumb`)).status).toBe(410);
  });

  test("a failed job's result link is 404", async () => {
    // Gemini with no API key configured (none in this test's environment) fails the job.
    await app.configureSlot("slot-002", {
      provider: "gemini",
      operation: "image_edit",
      settings: { prompt: "make it blue" },
    });
    const res = await postIngest(app, "slot-002", dslrForm(photo));
    expect(res.status).toBeGreaterThanOrEqual(400);
    const [failed] = await app.db
      .select()
      .from(job)
      .where(eq(job.id, res.headers.get("x-job-id")!));
    expect(failed!.status).toBe("failed");
    const id = res.headers.get("x-job-id")!;
    expect((await fetch(`${app.url}/public/results/${id}`)).status).toBe(404);
  });
});
