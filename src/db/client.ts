import { drizzle, type PostgresJsDatabase } from "drizzle-orm/postgres-js";
import postgres from "postgres";
import * as schema from "./schema";

export type Db = PostgresJsDatabase<typeof schema>;
export type Sql = postgres.Sql;

export interface Database {
  /** Raw postgres.js for the queue's hand-written statements and LISTEN/NOTIFY. */
  sql: Sql;
  /** drizzle for everything else. */
  db: Db;
  close(): Promise<void>;
  /** When a connection of either pool last closed under us (server stopped, backend terminated, idle); 0 if never. */
  lastLostAt(): number;
}

function client(url: string, max: number, onclose?: () => void): Sql {
  return postgres(url, {
    max,
    connect_timeout: 5,
    onclose,
    idle_timeout: 60,
    onnotice: () => {},
    connection: { application_name: "photochanger" },
  });
}

/**
 * Two small pools on one database. drizzle replaces postgres.js's date (de)serializers on the
 * client it wraps, so the queue's raw SQL — which passes and reads real Date values — keeps its own.
 * `max` is the process's whole budget (DATABASE_POOL_SIZE), shared by the two pools; LISTEN takes
 * one more connection of its own.
 */
export function connectDatabase(url: string, options: { max?: number } = {}): Database {
  const max = options.max ?? 20;
  let lostAt = 0;
  const lost = () => {
    lostAt = Date.now();
  };
  const sql = client(url, Math.max(1, Math.ceil(max / 2)), lost);
  const drizzleClient = client(url, Math.max(1, Math.floor(max / 2)), lost);
  const db = drizzle(drizzleClient, { schema });
  return {
    sql,
    db,
    lastLostAt: () => lostAt,
    close: async () => {
      await Promise.all([sql.end({ timeout: 5 }), drizzleClient.end({ timeout: 5 })]);
    },
  };
}
