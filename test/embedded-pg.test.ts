/**
 * The embedded PostgreSQL of `bun run start` without DATABASE_URL, as root from a checkout whose
 * ancestors keep others out (/root, a `mktemp -d`): PostgreSQL runs as the `postgres` user, which
 * is given the traverse bit on the way to its binaries and its data dir, nothing more.
 */
import { describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import { letOthersTraverse, startEmbeddedPostgres } from "../src/db/embedded";
import { silentLogger } from "../src/lib/log";
import { freePort } from "./helpers/cli";

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
  }, 60_000);
});
