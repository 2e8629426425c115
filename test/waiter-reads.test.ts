/**
 * A held booth costs the database nothing while it waits: its waiter reads the job only when woken
 * (here: by the in-process finalization, which hands over the row — no read at all) or at the
 * deadline; the safety net is one batched read per process, whatever the number of held booths.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { pollWaiting } from "../src/queue/events";
import { dslrForm, postIngest, startTestApp, type TestApp } from "./helpers/app";
import { makeJpeg } from "./helpers/images";

let app: TestApp;
let finishedJob = "";

beforeAll(async () => {
  app = await startTestApp();
  await app.configureSlot("slot-001", {
    provider: "local",
    operation: "passthrough",
    settings: { simulate_delay_ms: 2500 },
  });
});
afterAll(async () => {
  await app.stop();
});

test("six booths held 2.5 s: no per-request job reads, at most one safety-net read for all of them", async () => {
  const queue = app.runtime.queue;
  const jobs = app.runtime.store.jobs;
  const counts = { get: 0, states: 0, statesIds: 0 };
  const get = queue.get.bind(queue);
  const states = jobs.jobStates.bind(jobs);
  queue.get = (id) => {
    counts.get++;
    return get(id);
  };
  jobs.jobStates = (ids) => {
    counts.states++;
    counts.statesIds = Math.max(counts.statesIds, ids.length);
    return states(ids);
  };
  try {
    const photo = await makeJpeg(160, 120);
    const answers = await Promise.all(
      Array.from({ length: 6 }, () => postIngest(app, "slot-001", dslrForm(photo))),
    );
    expect(answers.map((r) => r.status)).toEqual(Array(6).fill(200));
    finishedJob = answers[0]!.headers.get("x-job-id")!;
    // Finalized in this process: every waiter got the row from the finalization itself.
    expect(counts.get).toBe(0);
    // The safety net runs every 5 s for all held requests together: at most once in these 2.5 s,
    // and then for several jobs at once (never 6 × 2.5 per-request re-reads).
    expect(counts.states).toBeLessThanOrEqual(1);
    expect(counts.statesIds === 0 || counts.statesIds > 1).toBe(true);
  } finally {
    queue.get = get;
    jobs.jobStates = states;
  }
});

test("a finalization the waiter was not told of is found by the batched read", async () => {
  const events = app.runtime.events;
  const woke: string[] = [];
  const offUnknown = events.onFinalized("00000000-0000-4000-8000-000000000001", () => woke.push("unknown"));
  const offDone = events.onFinalized(finishedJob, (row) => woke.push(row ? "with a row" : "to read it"));
  try {
    // A job that is final (its NOTIFY "lost"): its waiter is woken to read it; no such job: nobody.
    expect(await pollWaiting(app.runtime.store.jobs, events)).toBe(1);
    expect(woke).toEqual(["to read it"]);
  } finally {
    offUnknown();
    offDone();
  }
});
