/**
 * Rows 9 and 10 — the database work of a job, as the server counts it on /metrics: the statements it
 * sends (`photochanger_db_statements_total`, one per protocol Sync) and the transactions it ends
 * (`photochanger_db_transactions_total`, one per ReadyForQuery that says "idle" — what PostgreSQL
 * counts as xact_commit + xact_rollback, which test/db-work.test.ts holds it to). Both are counted
 * as they happen, so a window needs no wait for PostgreSQL's own counters, which an idle backend
 * flushes only within 10 s. Each window is followed by an idle window of the same length whose
 * work (heartbeats of the instance registry, sweepers, the /metrics read itself) is subtracted, so
 * what is left is the booths' own work.
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

/**
 * Runs `work` (the booths) inside a measured window, then an idle window of the same length, and
 * returns the window's statements and commits less the idle ones.
 */
async function measured(
  server: BenchServer,
  work: () => Promise<void>,
): Promise<{ statements: number; commits: number; idleStatements: number; idleCommits: number; ms: number }> {
  const c0 = await countsOf(server);
  const t0 = performance.now();
  await work();
  await sleep(TRAILING_WORK_MS);
  const c1 = await countsOf(server);
  const ms = performance.now() - t0;
  await sleep(ms);
  const c2 = await countsOf(server);
  return {
    statements: c1.statements - c0.statements - (c2.statements - c1.statements),
    commits: c1.commits - c0.commits - (c2.commits - c1.commits),
    idleStatements: c2.statements - c1.statements,
    idleCommits: c2.commits - c1.commits,
    ms,
  };
}

/** Row 9: `n` booths one after the other; statements and commits per job. */
export async function measureDbWork(
  server: BenchServer,
  slotId: string,
  photo: Uint8Array,
  n: number,
): Promise<DbWork> {
  const statuses: Record<string, number> = {};
  const m = await measured(server, async () => {
    for (let i = 0; i < n; i++) {
      const r = await ingest(server, slotId, photo);
      statuses[r.status] = (statuses[r.status] ?? 0) + 1;
    }
  });
  return {
    jobs: n,
    statuses,
    statementsPerJob: m.statements / n,
    commitsPerJob: m.commits / n,
    idleStatementsPerSecond: m.idleStatements / (m.ms / 1000),
    idleCommitsPerSecond: m.idleCommits / (m.ms / 1000),
  };
}

export interface HeldJobWork {
  status: number;
  holdMs: number;
  statements: number;
  commits: number;
}

/**
 * Row 10: one booth held while its provider works; the statements and commits of that job. The
 * window lasts `windowMs` at least, so a job answered at once is measured against the same length of
 * background work as a held one.
 */
export async function measureHeldJob(
  server: BenchServer,
  slotId: string,
  photo: Uint8Array,
  windowMs = 0,
): Promise<HeldJobWork> {
  let status = 0;
  let holdMs = 0;
  const m = await measured(server, async () => {
    const t0 = performance.now();
    const r = await ingest(server, slotId, photo);
    status = r.status;
    holdMs = r.ms;
    await sleep(windowMs - (performance.now() - t0));
  });
  return { status, holdMs, statements: m.statements, commits: m.commits };
}
