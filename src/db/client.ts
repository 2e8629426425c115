import { drizzle, type PostgresJsDatabase } from "drizzle-orm/postgres-js";
import postgres from "postgres";
import * as schema from "./schema";
import { openSocket, watchReplies } from "./watchdog";

export type Db = PostgresJsDatabase<typeof schema>;
export type Sql = postgres.Sql;

/**
 * How long one call may take. A statement runs at most `statementMs` in PostgreSQL (it cancels it
 * then, and a lock wait counts); its answer must arrive `ANSWER_SLACK_MS` after that, or the
 * connection is taken for dead and dropped (see watchdog.ts).
 */
export interface CallBound {
  statementMs: number;
}

/** The booth's path, the waiter, the workers, the sweepers and readiness: a call is over within 3 s. */
export const HOT_BOUND: CallBound = { statementMs: 2_000 };
/** Admin reports and the cleaner's bulk work (statistics over months, exports, purges): 30 s. */
export const REPORT_BOUND: CallBound = { statementMs: 30_000 };
const ANSWER_SLACK_MS = 1_000;
/** The longest pause between reconnect attempts of a pool (seconds). */
const RECONNECT_BACKOFF_MAX_S = 0.5;
/** A transaction left open by a client that stopped talking gives its locks back after this. */
const IDLE_IN_TRANSACTION_MS = 30_000;

export interface Database {
  /** Raw postgres.js for the queue's hand-written statements and LISTEN/NOTIFY. */
  sql: Sql;
  /** drizzle for everything else. */
  db: Db;
  /** The same two for admin reports and bulk housekeeping, whose calls may take longer (REPORT_BOUND). */
  reports: { sql: Sql; db: Db };
  close(): Promise<void>;
  /** When a connection of any pool last closed under us (server stopped, backend terminated, idle); 0 if never. */
  lastLostAt(): number;
  /** When a working connection was last dropped for not answering in time (performance.now()); 0 if never. */
  lastStallAt(): number;
  /**
   * One round trip per pool. postgres.js learns the array types on a pool's first connection: until
   * then a parameter such as `${sql.array(ids)}::text[]` is sent as "a,b" and refused, so a server
   * warms its pools before the product's first statement.
   */
  warm(): Promise<void>;
}

interface PoolEvents {
  onclose(): void;
  /** `established`: a connection that had worked went silent (not one that never got through its handshake). */
  onstall(established: boolean): void;
}

function client(url: string, max: number, bound: CallBound, events: PoolEvents): Sql {
  return postgres(url, {
    max,
    connect_timeout: 5,
    // postgres.js waits longer before each reconnect the more attempts failed (up to 20 s): after
    // a 15 s outage the first calls would sit out seconds of backoff while the server is back.
    // A refused connect costs nothing on a LAN; half a second at most between attempts.
    backoff: (attempts: number) => Math.min(0.05 * 2 ** attempts, RECONNECT_BACKOFF_MAX_S),
    onclose: events.onclose,
    idle_timeout: 60,
    onnotice: () => {},
    connection: {
      application_name: "photochanger",
      statement_timeout: bound.statementMs,
      idle_in_transaction_session_timeout: IDLE_IN_TRANSACTION_MS,
    },
    // postgres.js runs TLS over a socket it connects itself; the watchdog needs the plain one.
    ...(wantsTls(url)
      ? {}
      : {
          socket: (o: { host: string[]; port: number[]; path?: string | false }) =>
            watchReplies(
              openSocket(o.path ? { path: o.path } : { host: o.host[0]!, port: o.port[0]! }),
              bound.statementMs + ANSWER_SLACK_MS,
              events.onstall,
            ),
        }),
  } as postgres.Options<Record<string, never>>);
}

function wantsTls(url: string): boolean {
  const mode = new URL(url).searchParams.get("sslmode") ?? new URL(url).searchParams.get("ssl");
  return mode !== null && mode !== "disable" && mode !== "false";
}

/**
 * Four small pools (two for the hot path, two for reports) on one database. drizzle replaces postgres.js's date (de)serializers on the
 * client it wraps, so the queue's raw SQL — which passes and reads real Date values — keeps its own.
 * `max` is the process's whole budget (DATABASE_POOL_SIZE): the two report pools take 2 each of it (1
 * each below 10), the rest is shared by the queue and drizzle; LISTEN takes one more of its own.
 */
export function connectDatabase(url: string, options: { max?: number } = {}): Database {
  const max = options.max ?? 20;
  let lostAt = 0;
  let stallAt = 0;
  const events: PoolEvents = {
    onclose: () => {
      lostAt = Date.now();
    },
    onstall: (established) => {
      // A connection still in its handshake (a server starting up, a slow connect) is dropped
      // too, but it says nothing about the connections that work: readiness only counts the others.
      if (established) stallAt = performance.now();
    },
  };
  const reportsMax = max >= 10 ? 2 : 1;
  const rest = Math.max(2, max - 2 * reportsMax);
  const sql = client(url, Math.ceil(rest / 2), HOT_BOUND, events);
  const drizzleClient = client(url, Math.floor(rest / 2), HOT_BOUND, events);
  const reportsSql = client(url, reportsMax, REPORT_BOUND, events);
  const reportsDrizzle = client(url, reportsMax, REPORT_BOUND, events);
  return {
    sql,
    db: drizzle(drizzleClient, { schema }),
    reports: { sql: reportsSql, db: drizzle(reportsDrizzle, { schema }) },
    lastLostAt: () => lostAt,
    lastStallAt: () => stallAt,
    warm: async () => {
      await Promise.all([sql, drizzleClient, reportsSql, reportsDrizzle].map((c) => c`select 1`));
    },
    close: async () => {
      await Promise.all([sql, drizzleClient, reportsSql, reportsDrizzle].map((c) => c.end({ timeout: 5 })));
    },
  };
}
