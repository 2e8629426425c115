/**
 * The scheduled cleaner: once at start, every 15 minutes, never two runs at once, a failing run
 * logged and survived, and stop() waits for a run in progress.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Cron } from "croner";
import { eq } from "drizzle-orm";
import { CLEANUP_SCHEDULE, startCleaner } from "../src/cron/scheduler";
import { cleanupRun } from "../src/db/schema";
import { LogWatch, startTestApp, type TestApp } from "./helpers/app";

let app: TestApp;
const logLines: string[] = [];
const watch = new LogWatch();

beforeAll(async () => {
  app = await startTestApp({ workers: false, logLines, onLogLine: watch.sink });
});
afterAll(() => app.stop());

const runs = (trigger: string) => app.db.select().from(cleanupRun).where(eq(cleanupRun.trigger, trigger));

describe("the cleaner schedule", () => {
  test("runs once at start and then every 15 minutes on the quarter hour", async () => {
    const started = watch.next("cleanup.done", { trigger: "start" });
    const cleaner = startCleaner(app.runtime);
    try {
      await started;
      const [run] = await runs("start");
      expect(run!.finishedAt).not.toBeNull();
      expect(run!.error).toBeNull();
      const next = cleaner.nextRun()!;
      expect(next.getTime()).toBeGreaterThan(Date.now());
      expect(next.getMinutes() % 15).toBe(0);
      expect(next.getSeconds()).toBe(0);
    } finally {
      await cleaner.stop();
    }
    expect(cleaner.nextRun()).toBeNull();
    const [a, b] = new Cron(CLEANUP_SCHEDULE).nextRuns(2, new Date("2026-01-01T10:07:00"));
    expect([a!.getHours(), a!.getMinutes(), b!.getMinutes()]).toEqual([10, 15, 30]);
  });

  test("never runs twice at once", async () => {
    const cleaner = startCleaner(app.runtime, { runAtStart: false });
    try {
      const before = (await runs("manual")).length;
      const [first, second] = await Promise.all([cleaner.runNow("manual"), cleaner.runNow("manual")]);
      expect([first.status, second.status]).toEqual(["done", "skipped"]);
      expect((await runs("manual")).length).toBe(before + 1);
      expect(logLines.some((l) => l.includes('"event":"cleanup.skipped"'))).toBe(true);
      expect((await cleaner.runNow("manual")).status).toBe("done");
    } finally {
      await cleaner.stop();
    }
  });

  test("stop() waits for the run in progress", async () => {
    const cleaner = startCleaner(app.runtime, { runAtStart: false });
    const run = cleaner.runNow("stopping");
    await cleaner.stop();
    const rows = await runs("stopping");
    expect(rows).toHaveLength(1);
    expect(rows[0]!.finishedAt).not.toBeNull();
    expect((await run).status).toBe("done");
  });

  test("a failing run is logged and the cleaner carries on", async () => {
    const cleaner = startCleaner(app.runtime, { runAtStart: false });
    // The cleaner's bookkeeping table is gone (e.g. a half-applied manual change): the run fails.
    await app.sql`alter table cleanup_run rename to cleanup_run_away`;
    try {
      expect((await cleaner.runNow("broken")).status).toBe("failed");
      const failed = logLines.find((l) => l.includes('"event":"cleanup.failed"'));
      expect(failed).toContain('"trigger":"broken"');
    } finally {
      await app.sql`alter table cleanup_run_away rename to cleanup_run`;
    }
    expect((await cleaner.runNow("repaired")).status).toBe("done");
    await cleaner.stop();
  });
});
