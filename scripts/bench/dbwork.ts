/**
 * Rows 9 and 10 — the database work of a job, as the server counts it on /metrics: the statements it
 * sends (`photochanger_db_statements_total`, one per protocol Sync) and the transactions it ends
 * (`photochanger_db_transactions_total`, one per ReadyForQuery that says "idle" — what PostgreSQL
 * counts as xact_commit + xact_rollback, which test/db-work.test.ts holds it to). Both are counted
 * as they happen, so a window needs no wait for PostgreSQL's own counters, which an idle backend
 * flushes only within 10 s. An idle window of the same length is measured too and its work
 * (heartbeats of the instance registry, sweepers, the /metrics read itself) is subtracted, so what
 * is left is the booths' own work.
 */
import { type BenchServer, ingest } from "./env";
import { sleep } from "./lib";

/** A job's work after its booth is answered (its thumbnail, its step log) is done within this. */
const TRAILING_WORK_MS = 1_000;

export interface DbWork {
  jobs: number;
  statuses: Record<string, number>;
  statementsPerJob: number;
  commitsPerJob: number;
  /** The same window's idle work, subtracted above (per second). */
  idleStatementsPerSecond: number;
  idleCommitsPerSecond: number;
}

interface Counts {
  statements: number;
  commits: number;
}

async function countsOf(server: BenchServer): Promise<Counts> {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  const read = (name: string) => {
    const m = new RegExp(`^${name} (\\d+)`, "m").exec(text);
    if (!m) throw new Error(`/metrics has no ${name}`);
    return Number(m[1]);
  };
  return {
    statements: read("photochanger_db_statements_total"),
    commits: read("photochanger_db_transactions_total"),
  };
}

/** The server's statements and commits from just before `work` to its trailing work's end. */
async function window(server: BenchServer, work: () => Promise<void>): Promise<Counts & { ms: number }> {
  const c0 = await countsOf(server);
  const t0 = performance.now();
  await work();
  await sleep(TRAILING_WORK_MS);
  const c1 = await countsOf(server);
  return {
    statements: c1.statements - c0.statements,
    commits: c1.commits - c0.commits,
    ms: performance.now() - t0,
  };
}

/** A window of `ms` with no booth: the background work to subtract. */
function idleWindow(server: BenchServer, ms: number): Promise<Counts & { ms: number }> {
  return window(server, () => sleep(ms - TRAILING_WORK_MS));
}

/** Row 9: `n` booths one after the other; statements and commits per job. */
export async function measureDbWork(
  server: BenchServer,
  slotId: string,
  photo: Uint8Array,
  n: number,
): Promise<DbWork> {
  const statuses: Record<string, number> = {};
  const w = await window(server, async () => {
    for (let i = 0; i < n; i++) {
      const r = await ingest(server, slotId, photo);
      statuses[r.status] = (statuses[r.status] ?? 0) + 1;
    }
  });
  const idle = await idleWindow(server, w.ms);
  return {
    jobs: n,
    statuses,
    statementsPerJob: (w.statements - idle.statements) / n,
    commitsPerJob: (w.commits - idle.commits) / n,
    idleStatementsPerSecond: idle.statements / (idle.ms / 1000),
    idleCommitsPerSecond: idle.commits / (idle.ms / 1000),
  };
}

export interface HeldJobWork {
  status: number;
  holdMs: number;
  statements: number;
  commits: number;
}

/**
 * Row 10: one booth held while its provider works, then one answered at once in a window as long,
 * so both are measured against the same length of background work; one idle window of that length
 * is subtracted from each.
 */
export async function measureHeldJobs(
  server: BenchServer,
  heldSlot: string,
  atOnceSlot: string,
  photo: Uint8Array,
): Promise<{ held: HeldJobWork; atOnce: HeldJobWork }> {
  const booth = async (slotId: string, windowMs: number) => {
    let status = 0;
    let holdMs = 0;
    const w = await window(server, async () => {
      const t0 = performance.now();
      const r = await ingest(server, slotId, photo);
      status = r.status;
      holdMs = r.ms;
      await sleep(Math.max(0, windowMs - (performance.now() - t0)));
    });
    return { status, holdMs, w };
  };
  const held = await booth(heldSlot, 0);
  const atOnce = await booth(atOnceSlot, held.holdMs);
  const idle = await idleWindow(server, held.w.ms);
  const work = (b: typeof held): HeldJobWork => ({
    status: b.status,
    holdMs: b.holdMs,
    statements: b.w.statements - idle.statements,
    commits: b.w.commits - idle.commits,
  });
  return { held: work(held), atOnce: work(atOnce) };
}
