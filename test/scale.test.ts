/**
 * What lets N instances share one database: a settings change reaches every instance's cache by
 * NOTIFY, one cleaner runs at a time (advisory lock), and instances register with their version,
 * address, heartbeat and jobs in flight.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { eq } from "drizzle-orm";
import { CleanerBusy, runCleanup } from "../src/cron/cleanup";
import { startCleaner } from "../src/cron/scheduler";
import { cleanupRun } from "../src/db/schema";
import { systemClock } from "../src/lib/clock";
import { loadOrCreateMasterKey } from "../src/lib/secrets";
import { formatStatus, instanceRegistry } from "../src/ops";
import { KEYS, listenForSettings, SettingsService } from "../src/settings/service";
import { CLEANER_LOCK } from "../src/store/housekeeping";
import { VERSION } from "../src/version";
import { eventually, startTestApp, type TestApp } from "./helpers/app";
import { seedPastJobs } from "./helpers/past-jobs";

let a: TestApp;
let b: TestApp;
const logLines: string[] = [];

beforeAll(async () => {
  a = await startTestApp({ workers: false, logLines });
  // One data dir (media and master key) for both, as instances on a shared volume would have.
  b = await startTestApp({ workers: true, workerCount: 2, databaseUrl: a.databaseUrl, dataDir: a.dataDir });
});
afterAll(async () => {
  await b?.stop();
  await a?.stop();
});

/** Invalidations a listener hears; `next()` is the first one after it is called (not the connect's). */
function notifications() {
  let waiting: (() => void) | null = null;
  return {
    tell() {
      waiting?.();
      waiting = null;
    },
    next(): Promise<void> {
      return new Promise((resolve) => {
        waiting = resolve;
      });
    },
  };
}

describe("settings across instances", () => {
  test("a change made on one instance reaches another's cache by NOTIFY, not by expiry", async () => {
    // B's view with a cache that would keep stale values for an hour: only the NOTIFY can refresh it.
    const masterKey = loadOrCreateMasterKey(join(b.dataDir, "master.key"));
    const slow = new SettingsService(b.runtime.store, systemClock, b.config, masterKey, 3_600_000);
    const heard = notifications();
    // The listener invalidates `slow` as B's would, and tells the test when the NOTIFY came.
    const sub = await listenForSettings(
      b.runtime.store.settings,
      {
        invalidate: () => {
          slow.invalidate();
          heard.tell();
        },
      },
      b.log,
    );
    try {
      const before = (await slow.current()).resultRetentionHours;
      const next = before === 100 ? 101 : 100;
      const change = heard.next();
      await a.setSetting(KEYS.resultRetentionHours, next);
      await change;
      expect((await slow.current()).resultRetentionHours).toBe(next);
      // And the instances' own services (one-second cache plus NOTIFY) agree.
      expect((await b.runtime.settings.current()).resultRetentionHours).toBe(next);
    } finally {
      await sub.unlisten();
    }
  });

  test("without a listener the same long cache keeps the old value (the NOTIFY is what refreshed it)", async () => {
    const masterKey = loadOrCreateMasterKey(join(b.dataDir, "master.key"));
    const deaf = new SettingsService(b.runtime.store, systemClock, b.config, masterKey, 3_600_000);
    const before = (await deaf.current()).maxInFlightJobs;
    const next = before + 1;
    // A listener after B's own on B's connection: when it hears the NOTIFY, B's cache has been told.
    const heard = notifications();
    const sub = await listenForSettings(b.runtime.store.settings, { invalidate: () => heard.tell() }, b.log);
    try {
      const change = heard.next();
      await a.setSetting(KEYS.maxInFlightJobs, next);
      await change;
      expect((await b.runtime.settings.current()).maxInFlightJobs).toBe(next);
      expect((await deaf.current()).maxInFlightJobs).toBe(before);
    } finally {
      await sub.unlisten();
    }
  });
});

describe("the cleaner across instances", () => {
  const runs = (trigger: string) => a.db.select().from(cleanupRun).where(eq(cleanupRun.trigger, trigger));

  test("a scheduled run skips while another instance holds the lock; a manual run waits for it", async () => {
    const other = await b.sql.reserve();
    try {
      await other`select pg_advisory_lock(${CLEANER_LOCK[0]}, ${CLEANER_LOCK[1]})`;
      const cleaner = startCleaner(a.runtime, { runAtStart: false });
      try {
        expect((await cleaner.runNow("held-elsewhere")).status).toBe("skipped");
      } finally {
        await cleaner.stop();
      }
      expect(await runs("held-elsewhere")).toHaveLength(0);
      expect(logLines.some((l) => l.includes('"event":"cleanup.skipped"') && l.includes("another"))).toBe(
        true,
      );
      await expect(runCleanup(a.runtime, { trigger: "no-wait" })).rejects.toBeInstanceOf(CleanerBusy);

      // As text: a Date would cut the microseconds, and the "no-wait" try just before can fall in
      // the same millisecond (then it passes for the manual run's first try, and never tries again).
      const [now] = await other<{ t0: string }[]>`select clock_timestamp()::text as t0`;
      const t0 = now!.t0;
      const manual = runCleanup(a.runtime, { trigger: "waited", wait: true });
      let settled = false;
      void manual.finally(() => {
        settled = true;
      });
      // While the lock is held elsewhere the manual run has not started (no row, not settled): it is
      // seen trying the lock, and trying it again. Only this file's database: the suite's other files
      // share the PostgreSQL server, and their cleaners try the same lock.
      const tries = () => other<{ pid: number; at: Date }[]>`
        select pid, query_start as at from pg_stat_activity
        where query like '%pg_try_advisory_lock%' and query_start > ${t0}::timestamptz
          and pid <> pg_backend_pid()
          and datname = current_database()`;
      const firstTry = new Map<number, number>();
      await eventually(async () =>
        (await tries()).some((r) => {
          const seen = firstTry.get(r.pid);
          if (seen === undefined) firstTry.set(r.pid, r.at.getTime());
          return seen !== undefined && r.at.getTime() > seen;
        }),
      );
      expect(settled).toBe(false);
      expect(await runs("waited")).toHaveLength(0);
      await other`select pg_advisory_unlock(${CLEANER_LOCK[0]}, ${CLEANER_LOCK[1]})`;
      expect((await manual).dryRun).toBe(false);
      expect(await runs("waited")).toHaveLength(1);
    } finally {
      other.release();
    }
  });

  test("two instances cleaning at once remove each expired result exactly once", async () => {
    const past = new Date(Date.now() - 200 * 3_600_000);
    const rows = await seedPastJobs(
      a,
      Array.from({ length: 20 }, () => ({
        status: "succeeded" as const,
        createdAt: past,
        resultExpiresAt: past,
      })),
    );
    for (const r of rows) await a.runtime.media.writeAtomic(r.resultPath!, new Uint8Array(1000));
    await Promise.all([
      runCleanup(a.runtime, { trigger: "exactly-once", wait: true }),
      runCleanup(b.runtime, { trigger: "exactly-once", wait: true }),
      runCleanup(a.runtime, { trigger: "exactly-once", wait: true }),
    ]);
    const done = await runs("exactly-once");
    expect(done).toHaveLength(3);
    expect(done.reduce((n, r) => n + (r.removed.results ?? 0), 0)).toBe(20);
    expect(done.reduce((n, r) => n + (r.removed.results_bytes ?? 0), 0)).toBe(20 * 1000);
    for (const r of rows) expect(await a.runtime.media.exists(r.resultPath!)).toBe(false);
  });
});

describe("the master key across instances", () => {
  test("an instance with another master.key says so at start; one with the shared key does not", async () => {
    const lines: string[] = [];
    const other = await startTestApp({ workers: false, databaseUrl: a.databaseUrl, logLines: lines });
    await other.stop();
    const mismatch = lines.find((l) => l.includes('"event":"master_key.mismatch"'));
    expect(mismatch).toContain("master.key");
    expect(logLines.some((l) => l.includes("master_key.mismatch"))).toBe(false);
  });
});

describe("the instance registry", () => {
  test("lists both instances with version, heartbeat and jobs in flight; status prints them", async () => {
    const list = await instanceRegistry(a.runtime.store);
    const ids = list.filter((i) => i.live).map((i) => i.id);
    expect(ids).toContain(a.runtime.instanceId);
    expect(ids).toContain(b.runtime.instanceId);
    const mine = list.find((i) => i.id === b.runtime.instanceId)!;
    expect(mine).toMatchObject({ version: VERSION, pid: process.pid, jobs_in_flight: 0, live: true });
    expect(Date.now() - Date.parse(mine.last_heartbeat_at)).toBeLessThan(60_000);
    await b.runtime.setAddress("booth-b.example:8080");
    expect(
      (await instanceRegistry(a.runtime.store)).find((i) => i.id === b.runtime.instanceId)!.address,
    ).toBe("booth-b.example:8080");
  });

  test("a stopped instance stays listed as stopped", async () => {
    const c = await startTestApp({ workers: false, databaseUrl: a.databaseUrl });
    await c.stop();
    const row = (await instanceRegistry(a.runtime.store)).find((i) => i.id === c.runtime.instanceId)!;
    expect(row.live).toBe(false);
    expect(row.stopped_at).not.toBeNull();
    const text = formatStatus({
      version: VERSION,
      database: { reachable: true, url: "postgres://x" },
      queue: null,
      live_instances: 2,
      instances: [row],
      media: { backend: "local", location: "/var/lib/photochanger/media" },
      last_cleanup: null,
      disk: { media_root: "/var/lib/photochanger/media", free_bytes: 1, total_bytes: 2 },
    });
    expect(text).toContain(`stopped ${row.stopped_at}`);
    expect(text).toContain("media:         directory /var/lib/photochanger/media");
  });
});
