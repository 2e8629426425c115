/**
 * The embedded PostgreSQL of `bun run start` without DATABASE_URL, as root from a checkout whose
 * ancestors keep others out (/root, a `mktemp -d`): PostgreSQL runs as the `postgres` user, which
 * is given the traverse bit on the way to its binaries and its data dir, nothing more.
 */
import { describe, expect, test } from "bun:test";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import { describeFailure } from "../src/cli/index";
import { keepPrivate, letOthersTraverse, startEmbeddedPostgres } from "../src/db/embedded";
import { silentLogger } from "../src/lib/log";
import { freePort, runCli, spawnServer } from "./helpers/cli";

const mode = (p: string) => statSync(p).mode & 0o777;

describe("embedded PostgreSQL as root", () => {
  test("letOthersTraverse adds o+x (only) to the ancestors that lack it, once", () => {
    const top = mkdtempSync(join(tmpdir(), "photochanger-traverse-"));
    try {
      const inner = join(top, "checkout");
      mkdirSync(inner, { mode: 0o700 });
      expect(mode(top)).toBe(0o700);
      const changed = letOthersTraverse([join(inner, "data", "postgres")]);
      expect(changed).toContain(top);
      expect(changed).toContain(inner);
      expect(mode(top)).toBe(0o701);
      expect(mode(inner)).toBe(0o701);
      expect(letOthersTraverse([join(inner, "data", "postgres")])).toEqual([]);
    } finally {
      rmSync(top, { recursive: true, force: true });
    }
  });

  test("keepPrivate puts a data dir others can enter back to 0700, and leaves 0700/0750 alone", () => {
    const top = mkdtempSync(join(tmpdir(), "photochanger-private-"));
    try {
      const pgDir = join(top, "postgres");
      expect(keepPrivate(pgDir)).toBeNull();
      mkdirSync(pgDir, { mode: 0o701 });
      expect(keepPrivate(pgDir)).toBe(0o701);
      expect(mode(pgDir)).toBe(0o700);
      chmodSync(pgDir, 0o750);
      expect(keepPrivate(pgDir)).toBeNull();
      expect(mode(pgDir)).toBe(0o750);
    } finally {
      rmSync(top, { recursive: true, force: true });
    }
  });

  test("describeFailure gives one sentence for anything thrown", () => {
    expect(describeFailure(new Error("boom"))).toBe("boom");
    expect(describeFailure("plain")).toBe("plain");
    expect(describeFailure(undefined)).toContain("without saying why");
    expect(describeFailure({ code: 7 })).toBe('{"code":7}');
  });

  test("the server starts, stops and starts again on the same data dir under a 0700 directory", async () => {
    expect(process.getuid?.()).toBe(0);
    const top = mkdtempSync(join(tmpdir(), "photochanger-restart-"));
    const env = { PHOTOCHANGER_DATA_DIR: join(top, "data"), EMBEDDED_PG_PORT: String(await freePort()) };
    try {
      for (const round of [1, 2, 3]) {
        const server = await spawnServer(env, { cwd: top });
        try {
          const ready = await fetch(`${server.url}/readyz`);
          expect(ready.status, `start ${round}: ${server.output()}`).toBe(200);
          expect(mode(join(top, "data", "postgres"))).toBe(0o700);
        } finally {
          server.proc.kill("SIGTERM");
          expect(await server.proc.exited).toBe(0);
        }
        // A box upgraded from the version that opened the data dir to others must still start.
        if (round === 1) chmodSync(join(top, "data", "postgres"), 0o701);
      }
    } finally {
      rmSync(top, { recursive: true, force: true });
    }
  });

  test("a PostgreSQL that refuses to start is named in one sentence, exit 1, no stack trace", async () => {
    const top = mkdtempSync(join(tmpdir(), "photochanger-refused-"));
    try {
      const dataDir = join(top, "data");
      mkdirSync(join(dataDir, "postgres"), { recursive: true, mode: 0o700 });
      // A data dir PostgreSQL cannot use: the server must pass on what PostgreSQL said.
      writeFileSync(join(dataDir, "postgres", "PG_VERSION"), "7\n");
      const result = await runCli(["serve"], {
        PHOTOCHANGER_DATA_DIR: dataDir,
        EMBEDDED_PG_PORT: String(await freePort()),
        PORT: String(await freePort()),
        HOST: "127.0.0.1",
      });
      expect(result.code).toBe(1);
      const lines = result.stderr.trim().split("\n");
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/the embedded PostgreSQL in .+ did not start: \S.+/);
      expect(result.stderr).not.toMatch(/TypeError|\n\s+at /);
    } finally {
      rmSync(top, { recursive: true, force: true });
    }
  });

  test("starts from a data dir under a 0700 directory and answers", async () => {
    expect(process.getuid?.()).toBe(0);
    const top = mkdtempSync(join(tmpdir(), "photochanger-root-checkout-"));
    expect(mode(top)).toBe(0o700);
    const pg = await startEmbeddedPostgres(join(top, "data"), await freePort(), silentLogger);
    const sql = postgres(pg.url, { max: 1, onnotice: () => {} });
    try {
      expect((await sql`select 1 as one`)[0]!.one).toBe(1);
      expect(mode(top) & 0o001).toBe(0o001);
    } finally {
      await sql.end({ timeout: 5 });
      await pg.stop();
      rmSync(top, { recursive: true, force: true });
    }
  });
});
