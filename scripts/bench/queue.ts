/**
 * Row 4 — the queue. Insert→claim latency comes from the jobs of row 1 (`started_at − created_at`,
 * both written by the server). Claim throughput: P processes × L loops run the server's own claim
 * statement against a table of pending no-op jobs for a fixed time; side by side, the same
 * processes and loops run `select 1`, the cheapest round trip the database allows.
 *
 *   bun scripts/bench/queue.ts --claimer URL LOOPS SECONDS claim|select1   (prints the count)
 */
import { join } from "node:path";
import postgres from "postgres";
import { runMigrations } from "../../src/db/migrate";
import { claimNextJob } from "../../src/store/queue/claim";
import { seedPendingJobs } from "../../src/store/seed";
import { spawnChild, stopChild } from "./lib";

if (import.meta.main && process.argv[2] === "--claimer") {
  const [url, loops, seconds, mode] = process.argv.slice(3) as [string, string, string, string];
  const sql = postgres(url, {
    max: Number(loops),
    onnotice: () => {},
    ...(process.env.BENCH_SYNC_COMMIT === "off" ? { connection: { synchronous_commit: "off" } } : {}),
  });
  await sql`select 1`;
  // Start together: the parent releases every process at the same wall-clock moment.
  const startAt = Number(process.env.BENCH_START_AT ?? Date.now());
  await Bun.sleep(Math.max(0, startAt - Date.now()));
  const end = performance.now() + Number(seconds) * 1000;
  let count = 0;
  let empty = 0;
  await Promise.all(
    Array.from({ length: Number(loops) }, async (_, i) => {
      const owner = `bench-${process.pid}/${i}`;
      while (performance.now() < end) {
        if (mode === "select1") await sql`select 1`;
        else if (!(await claimNextJob(sql, owner, new Date()))) empty++;
        count++;
      }
    }),
  );
  await sql.end({ timeout: 5 });
  console.log(JSON.stringify({ count, empty }));
  process.exit(0);
}

/** Fills a fresh database with `n` pending no-op jobs (local passthrough, far deadline). */
export async function seedPending(url: string, n: number): Promise<void> {
  await runMigrations(url);
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    await seedPendingJobs({ sql }, n);
  } finally {
    await sql.end({ timeout: 5 });
  }
}

export async function claimRate(
  url: string,
  processes: number,
  loops: number,
  seconds: number,
  mode: "claim" | "select1",
  syncCommit = true,
): Promise<{ perSecond: number; empty: number }> {
  const startAt = Date.now() + 1500;
  const procs = Array.from({ length: processes }, () =>
    spawnChild(
      ["bun", join(import.meta.dir, "queue.ts"), "--claimer", url, String(loops), String(seconds), mode],
      {
        env: {
          ...process.env,
          BENCH_START_AT: String(startAt),
          BENCH_SYNC_COMMIT: syncCommit ? "on" : "off",
        },
        stdin: "ignore",
      },
    ),
  );
  try {
    const outs = await Promise.all(
      procs.map(async (p) => {
        const timer = setTimeout(() => p.kill("SIGKILL"), (seconds + 30) * 1000);
        const text = await new Response(p.stdout as ReadableStream).text();
        await p.exited;
        clearTimeout(timer);
        return JSON.parse(text.trim().split("\n").pop() ?? "{}") as { count: number; empty: number };
      }),
    );
    const total = outs.reduce((a, o) => a + o.count, 0);
    return { perSecond: total / seconds, empty: outs.reduce((a, o) => a + o.empty, 0) };
  } finally {
    for (const p of procs) await stopChild(p, 1000);
  }
}
