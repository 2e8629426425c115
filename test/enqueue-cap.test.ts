/**
 * The in-flight cap is exact under concurrency, in both of the enqueue's paths: far below the cap
 * (the lock-free statement) and at it (the locked function of migration 0012, one round trip).
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { randomUUID } from "node:crypto";
import type { NewJobRow } from "../src/db/schema";
import { startTestApp, type TestApp } from "./helpers/app";

let app: TestApp;

beforeAll(async () => {
  app = await startTestApp({ workers: false });
});
afterAll(async () => {
  await app.stop();
});

function values(): NewJobRow {
  const now = new Date();
  return {
    id: randomUUID(),
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
  };
}

test("30 enqueues at once against a cap of 7: exactly 7 are queued, with their log rows; the rest busy", async () => {
  const outcomes = await Promise.all(
    Array.from({ length: 30 }, () => app.runtime.queue.enqueue(values(), 7)),
  );
  const inserted = outcomes.filter((o) => o.kind === "inserted");
  expect(inserted).toHaveLength(7);
  expect(outcomes.filter((o) => o.kind === "busy").every((o) => o.kind === "busy" && o.inFlight >= 7)).toBe(
    true,
  );
  const [row] = await app.sql<{ jobs: number; logs: number }[]>`
    select (select count(*)::int from job) as jobs,
      (select count(*)::int from processing_log where event = 'received') as logs`;
  expect(row).toEqual({ jobs: 7, logs: 7 });
  for (const o of inserted) if (o.kind === "inserted") expect(o.job.status).toBe("pending");
});

test("a cap far above the count takes the lock-free path and is exact too", async () => {
  await app.sql`delete from processing_log`;
  await app.sql`delete from job`;
  const outcomes = await Promise.all(
    Array.from({ length: 20 }, () => app.runtime.queue.enqueue(values(), 200)),
  );
  expect(outcomes.every((o) => o.kind === "inserted")).toBe(true);
  const [row] = await app.sql<{ n: number }[]>`select count(*)::int as n from job`;
  expect(row!.n).toBe(20);
});
