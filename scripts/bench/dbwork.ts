/**
 * Rows 9 and 10 — the database work of a job. The server counts the statements it sends
 * (`photochanger_db_statements_total` on /metrics, one per protocol Sync); PostgreSQL counts the
 * commits of the server's database (`pg_stat_database.xact_commit`, flushed by each backend within
 * PostgreSQL's 10 s idle interval, hence the settling waits). Each window is followed by an idle
 * window of the same length whose work (heartbeats of the instance registry, sweepers, the
 * /metrics read itself) is subtracted, so what is left is the booths' own work.
 */
import postgres from "postgres";
import { type BenchServer, ingest } from "./env";
import { sleep } from "./lib";

/** PostgreSQL flushes an idle backend's counters within 10 s (PGSTAT_IDLE_INTERVAL). */
const STATS_SETTLE_MS = 11_000;

export interface DbWork {
  jobs: number;
  statuses: Record<string, number>;
  statementsPerJob: number;
  commitsPerJob: number;
  /** The same window's idle work, subtracted above (per second). */
  idleStatementsPerSecond: number;
  idleCommitsPerSecond: number;
}

async function statementsOf(server: BenchServer): Promise<number> {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  const m = /^photochanger_db_statements_total (\d+)/m.exec(text);
  if (!m) throw new Error("/metrics has no photochanger_db_statements_total");
  return Number(m[1]);
}

async function commitsOf(admin: postgres.Sql, database: string): Promise<number> {
  const [row] = await admin<{ n: string }[]>`
    select (xact_commit + xact_rollback)::text as n from pg_stat_database where datname = ${database}`;
  return Number(row?.n ?? Number.NaN);
}

/**
 * Runs `work` (the booths) inside a measured window, then an idle window of the same length, and
 * returns the window's statements and commits less the idle ones.
 */
async function measured(
  server: BenchServer,
  work: () => Promise<void>,
): Promise<{ statements: number; commits: number; idleStatements: number; idleCommits: number; ms: number }> {
  const url = new URL(server.env.DATABASE_URL!);
  const database = url.pathname.slice(1);
  url.pathname = "/postgres";
  const admin = postgres(url.toString(), { max: 1, onnotice: () => {} });
  try {
    await sleep(STATS_SETTLE_MS);
    const s0 = await statementsOf(server);
    const c0 = await commitsOf(admin, database);
    const t0 = performance.now();
    await work();
    await sleep(STATS_SETTLE_MS);
    const s1 = await statementsOf(server);
    const c1 = await commitsOf(admin, database);
    const ms = performance.now() - t0;
    await sleep(ms);
    const s2 = await statementsOf(server);
    const c2 = await commitsOf(admin, database);
    return {
      statements: s1 - s0 - (s2 - s1),
      commits: c1 - c0 - (c2 - c1),
      idleStatements: s2 - s1,
      idleCommits: c2 - c1,
      ms,
    };
  } finally {
    await admin.end({ timeout: 5 });
  }
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

/** Row 10: one booth held while its provider works for `ms`; the statements and commits of that job. */
export async function measureHeldJob(
  server: BenchServer,
  slotId: string,
  photo: Uint8Array,
): Promise<HeldJobWork> {
  let status = 0;
  let holdMs = 0;
  const m = await measured(server, async () => {
    const r = await ingest(server, slotId, photo);
    status = r.status;
    holdMs = r.ms;
  });
  return { status, holdMs, statements: m.statements, commits: m.commits };
}
