/**
 * Claims: one statement takes jobs for all the idle loops of a process, within each provider's room
 * (and the network providers' shared room), fenced like a single claim; a loop that finished a job
 * asks again only when a hint came; a process's own NOTIFY echo is not a second hint.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { JobRow } from "../src/db/schema";
import { ManualClock } from "../src/lib/clock";
import { dslrForm, eventually, postIngest, startTestApp, type TestApp } from "./helpers/app";
import { makeJpeg } from "./helpers/images";

describe("the claim statement", () => {
  let app: TestApp;
  const clock = new ManualClock(new Date("2026-11-21T10:00:00Z"));
  beforeAll(async () => {
    app = await startTestApp({ workers: false, clock });
  });
  afterAll(() => app.stop());

  let n = 0;
  async function pending(provider: string): Promise<string> {
    const id = `00000000-0000-4000-8000-${String(++n).padStart(12, "0")}`;
    const now = clock.now();
    const outcome = await app.runtime.queue.enqueue(
      {
        id,
        slotId: "slot-001",
        source: "ingest",
        status: "pending",
        provider,
        operation: provider === "local" ? "passthrough" : "image_edit",
        settings: {},
        outputFormat: "jpeg",
        createdAt: new Date(now.getTime() + n), // oldest first, in the order made
        expiresAt: new Date(now.getTime() + 48_000),
        instanceId: app.runtime.instanceId,
      },
      100,
    );
    expect(outcome.kind).toBe("inserted");
    return id;
  }

  const owners = (k: number) => Array.from({ length: k }, (_, i) => `${app.runtime.instanceId}/${i + 1}`);
  const room = (perProvider: Record<string, number>, shared = 100) => ({
    perProvider,
    sharedBy: ["gemini", "openai", "turbotext"],
    shared,
  });

  test("takes the oldest jobs for several loops at once, each leased to its loop, with its dispatched row", async () => {
    const ids = [await pending("local"), await pending("local"), await pending("local")];
    const { jobs, locked } = await app.runtime.queue.claimBatch(owners(5), room({ local: 10 }));
    expect(locked).toBe(3);
    expect(jobs.map((j) => j.id)).toEqual(ids);
    expect(new Set(jobs.map((j) => j.leaseOwner)).size).toBe(3);
    expect(new Set(jobs.map((j) => j.leaseToken)).size).toBe(3);
    for (const j of jobs) expect(j.status).toBe("processing");
    const dispatched = await app.sql<{ n: number }[]>`
      select count(*)::int as n from processing_log where event = 'dispatched' and job_id = any(${ids}::uuid[])`;
    expect(dispatched[0]!.n).toBe(3);
    // Claimed once: a second claim finds nothing.
    expect((await app.runtime.queue.claimBatch(owners(5), room({ local: 10 }))).jobs).toEqual([]);
    for (const j of jobs) await app.runtime.queue.expire(j.id);
  });

  test("no provider gets more than its room, nor the network providers more than their shared room", async () => {
    const local = [await pending("local"), await pending("local"), await pending("local")];
    const gemini = [await pending("gemini"), await pending("gemini"), await pending("gemini")];
    const openai = [await pending("openai")];
    const claimed: JobRow[] = [];
    // local may start 2 more, gemini 2, openai 2; the network providers 2 together.
    const first = await app.runtime.queue.claimBatch(owners(8), room({ local: 2, gemini: 2, openai: 2 }, 2));
    claimed.push(...first.jobs);
    const by = (p: string) => first.jobs.filter((j) => j.provider === p).length;
    expect(by("local")).toBe(2);
    expect(by("gemini") + by("openai")).toBe(2);
    expect(first.jobs.map((j) => j.id)).toEqual([local[0]!, local[1]!, gemini[0]!, gemini[1]!]);
    // A provider with no room is not even looked at: the rest of its queue is left for later.
    const second = await app.runtime.queue.claimBatch(owners(8), room({ local: 0, gemini: 0 }));
    claimed.push(...second.jobs);
    expect(second.jobs.map((j) => j.id)).toEqual([openai[0]!]);
    const rest = await app.runtime.queue.claimBatch(owners(8), room({}));
    claimed.push(...rest.jobs);
    expect(rest.jobs.map((j) => j.id).sort()).toEqual([local[2]!, gemini[2]!].sort());
    for (const j of claimed) await app.runtime.queue.expire(j.id);
  });

  test("two claims at once never take the same job", async () => {
    const ids: string[] = [];
    for (let i = 0; i < 12; i++) ids.push(await pending("local"));
    const [a, b] = await Promise.all([
      app.runtime.queue.claimBatch(owners(8), room({ local: 100 })),
      app.runtime.queue.claimBatch(owners(8), room({ local: 100 })),
    ]);
    const got = [...a.jobs, ...b.jobs].map((j) => j.id);
    expect(new Set(got).size).toBe(got.length);
    expect(got.sort()).toEqual(ids.sort());
    for (const id of got) await app.runtime.queue.expire(id);
  });
});

describe("the worker pool", () => {
  let app: TestApp;
  let photo: Uint8Array;
  beforeAll(async () => {
    app = await startTestApp({ workerCount: 4 });
    await app.configureSlot("slot-001", {
      provider: "local",
      operation: "passthrough",
      settings: { simulate_delay_ms: 100 },
    });
    photo = await makeJpeg(160, 120);
  });
  afterAll(() => app.stop());

  test("sequential booths: each job is inserted leased to an idle loop — no claim statement, no hint", async () => {
    const queue = app.runtime.queue;
    const claimBatch = queue.claimBatch.bind(queue);
    const claims: number[] = [];
    let hints = 0;
    const offQueued = app.runtime.events.onQueued(() => hints++);
    queue.claimBatch = async (...args) => {
      const r = await claimBatch(...args);
      claims.push(r.jobs.length);
      return r;
    };
    try {
      const ids: string[] = [];
      for (let i = 0; i < 6; i++) {
        const res = await postIngest(app, "slot-001", dslrForm(photo));
        expect(res.status).toBe(200);
        ids.push(res.headers.get("x-job-id")!);
      }
      expect(claims.filter((n) => n > 0)).toEqual([]);
      // Only the slow safety look (every 2 s) may run, and comes back empty, in these ~1–2 s.
      expect(claims.length).toBeLessThanOrEqual(1);
      // Nothing was queued for anyone to wake for: no hint, and no NOTIFY echo taken for one.
      expect(hints).toBe(0);
      // Each was leased as a claim leases: one attempt, its `dispatched` row right after `received`.
      for (const id of ids) {
        const events = await app.sql<{ event: string }[]>`
          select event from processing_log where job_id = ${id} order by occurred_at, id`;
        expect(events.slice(0, 2).map((e) => e.event)).toEqual(["received", "dispatched"]);
        const [row] = await app.sql<{ attempts: number; waited: number }[]>`
          select attempts, extract(epoch from started_at - created_at)::float as waited from job where id = ${id}`;
        expect(row).toEqual({ attempts: 1, waited: 0 });
      }
    } finally {
      queue.claimBatch = claimBatch;
      offQueued();
    }
  });

  test("a job queued for want of room is not overtaken by a newer one when room frees without a claim", async () => {
    await app.configureSlot("slot-002", {
      provider: "local",
      operation: "passthrough",
      settings: { simulate_delay_ms: 1500 },
    });
    await app.setSetting("provider_concurrency", { local: 1 });
    const countOf = async (status: string) => {
      const [r] = await app.sql<{ n: number }[]>`
        select count(*)::int as n from job where slot_id = 'slot-002' and status = ${status}`;
      return r!.n;
    };
    try {
      const first = postIngest(app, "slot-002", dslrForm(photo));
      await eventually(async () => (await countOf("processing")) === 1);
      const second = postIngest(app, "slot-002", dslrForm(photo));
      await eventually(async () => (await countOf("pending")) === 1);
      // Room for one more, announced to no loop: the next booth's job must queue behind the second.
      await app.setSetting("provider_concurrency", { local: 2 });
      const third = postIngest(app, "slot-002", dslrForm(photo));
      for (const res of await Promise.all([first, second, third])) expect(res.status).toBe(200);
      const rows = await app.sql<{ started_at: Date }[]>`
        select started_at from job where slot_id = 'slot-002' order by created_at`;
      expect(rows).toHaveLength(3);
      expect(rows[1]!.started_at.getTime()).toBeLessThanOrEqual(rows[2]!.started_at.getTime());
    } finally {
      await app.setSetting("provider_concurrency", { local: 8 });
    }
  });
});
