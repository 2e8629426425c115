/**
 * The server counts its own database work (/metrics' photochanger_db_statements_total and
 * photochanger_db_transactions_total, which the benchmark's rows 9 and 10 read): statements by the
 * Sync messages it sends, transactions by the ReadyForQuery messages that end them, read from the
 * server's frames as they arrive. The transaction count is held against PostgreSQL's own
 * (pg_stat_database, flushed by each backend as it exits; polled until it agrees, or 15 s).
 */
import { expect, test } from "bun:test";
import postgres from "postgres";
import { connectDatabase } from "../src/db/client";
import { databaseWork } from "../src/db/watchdog";
import { freshDatabase } from "./helpers/app";

test("statements and transactions are counted as they happen, as PostgreSQL counts them", async () => {
  const url = await freshDatabase();
  const name = new URL(url).pathname.slice(1);
  const start = databaseWork();
  const database = connectDatabase(url, { max: 4 });
  await database.warm();
  const warmed = databaseWork();

  await database.sql`select 1`;
  await database.sql`select ${"x"}::text as x`;
  await database.sql.begin(async (tx) => {
    await tx`select 1`;
    await tx`select 2`;
  });
  await database.sql`select 1 / 0`.catch(() => {});
  // A result of about 2 MB, which arrives in many chunks, some splitting a message's header.
  const rows = await database.sql`select repeat('x', 99991 + n) as s from generate_series(1, 20) n`;
  expect(rows.length).toBe(20);
  const d = databaseWork();
  // 1 + 1, the block's two and one of its BEGIN/COMMIT (postgres.js sends the other as a simple
  // query, which has no Sync), the failed one, the large read.
  expect(d.statements - warmed.statements).toBe(7);
  // Two single statements, one transaction block, one statement rolled back, the large read.
  expect(d.transactions - warmed.transactions).toBe(5);
  // warm() opened one connection per pool; each backend's startup is a transaction of its own.
  expect(warmed.transactions - start.transactions).toBeGreaterThanOrEqual(4);

  await database.close();
  const ours = d.transactions - start.transactions;
  const admin = postgres(url.replace(`/${name}`, "/postgres"), { max: 1, onnotice: () => {} });
  try {
    let theirs = -1;
    for (const end = Date.now() + 15_000; Date.now() < end; await Bun.sleep(100)) {
      const [row] = await admin<{ n: number }[]>`
        select (xact_commit + xact_rollback)::int as n from pg_stat_database where datname = ${name}`;
      theirs = row?.n ?? -1;
      if (theirs === ours) break;
    }
    expect(theirs).toBe(ours);
  } finally {
    await admin.end({ timeout: 5 });
  }
});
