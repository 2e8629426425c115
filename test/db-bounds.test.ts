/**
 * Every database call is bounded: a connection that goes silent without closing (a TCP proxy that
 * stops passing bytes) fails its call within the bound, is dropped, and the next call works on a
 * new connection; a statement PostgreSQL runs too long is cancelled by statement_timeout.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import postgres from "postgres";
import { connectDatabase, type Database, HOT_BOUND } from "../src/db/client";
import { isDatabaseUnavailable } from "../src/lib/http";
import { eventually, freshDatabase } from "./helpers/app";
import { SilentProxy } from "./helpers/silent-proxy";

let proxy: SilentProxy;
let database: Database;
let directUrl: string;

beforeAll(async () => {
  directUrl = await freshDatabase();
  const url = new URL(directUrl);
  proxy = await SilentProxy.start({ host: url.hostname, port: Number(url.port) });
  database = connectDatabase(proxy.through(url.toString()), { max: 4 });
});

afterAll(async () => {
  await database.close();
  await proxy.stop();
});

async function failure(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error("the call did not fail");
}

describe("bounded database calls", () => {
  test("a statement that runs past the bound is cancelled by PostgreSQL and reads as unavailable", async () => {
    const err = await failure(database.sql`select pg_sleep(${(HOT_BOUND.statementMs + 1000) / 1000})`);
    expect((err as { code?: string }).code).toBe("57014");
    expect(isDatabaseUnavailable(err)).toBe(true);
  });

  test("the report pools allow a longer statement", async () => {
    const [row] = await database.reports.sql<{ ok: boolean }[]>`
      select true as ok from pg_sleep(${(HOT_BOUND.statementMs + 500) / 1000})`;
    expect(row!.ok).toBe(true);
  });
  test("a silent connection fails its call within the bound, and the pool recovers", async () => {
    await database.sql`select 1`;
    expect(proxy.silence()).toBeGreaterThan(0);
    const started = performance.now();
    const err = await failure(database.sql`select 1`);
    const waited = performance.now() - started;
    expect((err as { code?: string }).code).toBe("CONNECTION_CLOSED");
    expect(isDatabaseUnavailable(err)).toBe(true);
    expect(waited).toBeLessThan(HOT_BOUND.statementMs + 2_000);
    expect(database.lastStallAt()).toBeGreaterThan(0);
    // A new connection is opened for the next call, and it works.
    const [row] = await database.sql<{ one: number }[]>`select 1 as one`;
    expect(row!.one).toBe(1);
  });

  test("drizzle's pool is watched too", async () => {
    // Its connection may have been silenced by the test above (then this call heals the pool).
    await database.db.execute("select 1").catch(() => database.db.execute("select 1"));
    proxy.silence();
    const err = await failure(database.db.execute("select 1"));
    expect(isDatabaseUnavailable(err)).toBe(true);
    await database.db.execute("select 1");
  });
  test("a connection that goes silent halfway through an answer fails its call within the bound", async () => {
    await database.sql`select 1`;
    expect(proxy.silenceMidAnswer()).toBeGreaterThan(0);
    const started = performance.now();
    // 4 MB: many chunks, so the first one passes and the rest (and the ReadyForQuery) never come.
    const call = failure(database.sql`select repeat('x', 4000000) as big`);
    const err = await Promise.race([
      call,
      Bun.sleep(HOT_BOUND.statementMs + 8_000).then(() => "still waiting"),
    ]);
    const waited = performance.now() - started;
    expect(err).not.toBe("still waiting");
    expect((err as { code?: string }).code).toBe("CONNECTION_CLOSED");
    expect(waited).toBeLessThan(HOT_BOUND.statementMs + 3_000);
    const [row] = await database.sql<{ one: number }[]>`select 1 as one`;
    expect(row!.one).toBe(1);
  });

  test("idle connections that heard just before the silence, the LISTEN one too, are dropped with the stalled call", async () => {
    const direct = postgres(directUrl, { max: 1, onnotice: () => {} });
    const heard: string[] = [];
    const sub = await database.sql.listen("watchdog_test", (x) => heard.push(x));
    try {
      // A call on its way, then — after it was sent — a NOTIFY heard and answers on other
      // connections, then the silence.
      const stalled = failure(database.sql`select pg_sleep(1)`);
      await Bun.sleep(50);
      await direct`select pg_notify('watchdog_test', 'before')`;
      await eventually(async () => heard.includes("before")); // the first NOTIFY
      // (the other pools: this one's single connection is the one waiting)
      await Promise.all([database.db.execute("select 1"), database.reports.sql`select 1`]);
      expect(proxy.silence()).toBeGreaterThan(1);
      expect(isDatabaseUnavailable(await stalled)).toBe(true);
      // Every silenced connection is let go, the LISTEN one included (it would otherwise stay deaf),
      // not only those that last heard before the stalled call was sent …
      await eventually(async () => proxy.silent() === 0);
      // … and it listens again on a new connection.
      await eventually(async () => {
        void direct`select pg_notify('watchdog_test', 'after')`.catch(() => {});
        return heard.includes("after");
      });
    } finally {
      await sub.unlisten().catch(() => {});
      await direct.end({ timeout: 5 });
    }
  });

  test("a refused connection fails fast every time and never wedges the pool", async () => {
    const stopped = await SilentProxy.start({ host: "127.0.0.1", port: 1 }); // upstream refuses
    const url = new URL(stopped.through("postgres://postgres@127.0.0.1:1/postgres"));
    await stopped.stop(); // nothing listens on the port now
    const down = connectDatabase(url.toString(), { max: 2 });
    try {
      // More calls than connections: each must fail, none may wait for ever for a connection.
      for (let i = 0; i < 5; i++) {
        const err = await failure(down.sql`select 1`);
        expect(isDatabaseUnavailable(err)).toBe(true);
      }
    } finally {
      await down.close();
    }
  });
});
