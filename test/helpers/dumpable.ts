/**
 * A PostgreSQL that this machine's newest pg_dump can dump (pg_dump must be the server's major
 * version or newer). The suite's embedded PostgreSQL (18) is newer than Debian 12's pg_dump (15);
 * then the machine's own PostgreSQL at 127.0.0.1:5432 (every machine of this project's kind runs
 * one) serves, with scratch databases of this run's own names, dropped by the test file.
 */
import { findPgTools } from "../../src/cli/pg-tools";
import { inspectDatabase } from "../../src/db/inspect";
import { type ScratchServer, scratchServer } from "../../src/db/scratch";
import { freshDatabase } from "./app";

const MACHINE_PG = "postgres://postgres@127.0.0.1:5432/postgres";

export const newestPgDump = findPgTools("pg_dump")[0] ?? null;

const major = async (url: string) => Math.floor((await inspectDatabase(url)).serverVersionNum / 10000);

/** The suite's server URL and major version. */
export async function suiteServer(): Promise<{ url: string; major: number }> {
  const url = await freshDatabase();
  return { url, major: await major(url) };
}

/** A server URL pg_dump can dump (any database on it), or why there is none. */
export async function dumpableServer(): Promise<{ url: string } | { skip: string }> {
  if (!newestPgDump) return { skip: "no pg_dump on this machine (apt-get install postgresql-client)" };
  const suite = await suiteServer();
  if (newestPgDump.major >= suite.major) return { url: suite.url };
  try {
    if (newestPgDump.major >= (await major(MACHINE_PG))) return { url: MACHINE_PG };
  } catch {
    // no PostgreSQL there
  }
  return {
    skip: `pg_dump ${newestPgDump.version} is older than the suite's PostgreSQL ${suite.major}, and no PostgreSQL it can dump answers at 127.0.0.1:5432`,
  };
}

export interface EmptyDatabases {
  /** An empty database (no schema), named for this run. */
  create(label: string): Promise<string>;
  /** Drops every database made here and closes the connection (call from the file's afterAll). */
  close(): Promise<void>;
}

/**
 * Empty databases on `server` for one test file. The file closes them itself: a helper module is
 * loaded once per `bun test` run, so state or hooks kept here would outlive the first file.
 */
export function emptyDatabases(server: string): EmptyDatabases {
  const scratch: ScratchServer = scratchServer(server);
  const created: string[] = [];
  return {
    create(label) {
      const name = `photochanger_${label}_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
      created.push(name);
      return scratch.create(name);
    },
    async close() {
      for (const name of created) await scratch.drop(name).catch(() => {});
      await scratch.close();
    },
  };
}
