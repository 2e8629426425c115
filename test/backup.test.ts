/**
 * `photochanger backup` → `photochanger restore` into a fresh database and a fresh data dir, as
 * separate processes: the restored box serves the same result bytes, takes the booth's password,
 * still decrypts the stored provider key (the master key came along) and its schema check passes.
 * A damaged archive, a newer schema and a non-empty database are refused before anything changes.
 *
 * pg_dump must be the server's major version or newer. The suite's embedded PostgreSQL (18) is
 * newer than Debian 12's pg_dump (15), so where no pg_dump fits it, the test uses the machine's
 * own PostgreSQL at 127.0.0.1:5432 (every machine of this project's kind runs one); it skips, with
 * the reason, only when no pg_dump fits either server.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pgDumpAdvice } from "../src/cli/pg-tools";
import { loadConfig } from "../src/config";
import { inspectDatabase } from "../src/db/inspect";
import { silentLogger } from "../src/lib/log";
import { Runtime } from "../src/runtime";
import { dslrFields, dslrForm, postIngest, startTestApp } from "./helpers/app";
import { runCli, spawnServer } from "./helpers/cli";
import {
  dumpableServer,
  type EmptyDatabases,
  emptyDatabases,
  newestPgDump,
  suiteServer,
} from "./helpers/dumpable";
import { makeJpeg } from "./helpers/images";

const BOOTH_PASSWORD = "restored-booth-913";
const GEMINI_KEY = "AIza-restore-test-key-5521";

const suite = await suiteServer();
const chosen = await dumpableServer();
const skip = "skip" in chosen ? chosen.skip : null;
if (skip) console.warn(`backup/restore test skipped: ${skip}`);

const suffix = `${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
let sourceUrl: string;
let targetUrl: string;
const dirs: string[] = [];
const tmp = (label: string) => {
  const d = mkdtempSync(join(tmpdir(), `photochanger-${label}-`));
  dirs.push(d);
  return d;
};
let databases: EmptyDatabases | null = null;
let sourceEnv: Record<string, string>;
let targetEnv: Record<string, string>;
let archive: string;
let resultBytes: Uint8Array;
let jobId: string;

beforeAll(async () => {
  if (skip) return;
  databases = emptyDatabases((chosen as { url: string }).url);
  sourceUrl = await databases.create("bk_source");
  targetUrl = await databases.create("bk_target");
  sourceEnv = { DATABASE_URL: sourceUrl, PHOTOCHANGER_DATA_DIR: tmp("bk-source") };
  targetEnv = { DATABASE_URL: targetUrl, PHOTOCHANGER_DATA_DIR: tmp("bk-target") };

  // The box before the backup: a slot, a booth password, a stored provider key, one result.
  const app = await startTestApp({ databaseUrl: sourceUrl, dataDir: sourceEnv.PHOTOCHANGER_DATA_DIR });
  try {
    await app.configureSlot("slot-002", { provider: "local", operation: "greyscale" });
    await app.runtime.settings.setIngestPassword(BOOTH_PASSWORD, "test");
    await app.runtime.settings.setProviderKey("gemini", GEMINI_KEY, "test");
    const res = await postIngest(
      app,
      "slot-002",
      dslrForm(await makeJpeg(96, 64), dslrFields({ password: BOOTH_PASSWORD })),
    );
    expect(res.status).toBe(200);
    jobId = res.headers.get("x-job-id")!;
    resultBytes = await (await fetch(`${app.url}/public/results/${jobId}`)).bytes();
    expect(resultBytes.length).toBeGreaterThan(0);
  } finally {
    await app.stop();
  }
});

afterAll(async () => {
  await databases?.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe.skipIf(skip !== null)("backup and restore", () => {
  test("backup writes one 0600 archive with a manifest, prints its path, and --keep prunes", async () => {
    const to = tmp("bk-archives");
    const r = await runCli(["backup", "--to", to], sourceEnv);
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: "" });
    archive = r.stdout.trim().split("\n").at(-1)!;
    expect(archive).toStartWith(`${to}/photochanger-backup-`);
    expect(r.stdout).toContain("master key");
    expect(statSync(archive).mode & 0o777).toBe(0o600);
    const list = Bun.spawnSync(["tar", "-tzf", archive]).stdout.toString().split("\n");
    expect(list[0]).toBe("manifest.json");
    expect(list).toContain("database.pgdump");
    expect(list).toContain("master.key");
    expect(list.some((n) => n.startsWith(`media/results/${jobId}`))).toBe(true);

    // two more, keeping two: the oldest goes
    await runCli(["backup", "--to", to], sourceEnv);
    const third = await runCli(["backup", "--to", to, "--keep", "2"], sourceEnv);
    expect(third.code).toBe(0);
    expect(third.stdout).toContain(`removed the older archive ${archive.split("/").at(-1)}`);
    expect(readdirSync(to).filter((n) => n.endsWith(".tar.gz")).length).toBe(2);
    archive = third.stdout.trim().split("\n").at(-1)!;
  });

  test("restore into a fresh database and data dir: same result bytes, booth password, provider key", async () => {
    const r = await runCli(["restore", archive], targetEnv);
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: "" });
    expect(r.stdout).toContain("restored PhotoChanger");
    expect(readFileSync(join(targetEnv.PHOTOCHANGER_DATA_DIR!, "master.key"), "utf8")).toBe(
      readFileSync(join(sourceEnv.PHOTOCHANGER_DATA_DIR!, "master.key"), "utf8"),
    );
    const check = await runCli(["migrate", "--check"], targetEnv);
    expect(check.code).toBe(0);
    expect(check.stdout).toContain("database schema matches this binary");

    const server = await spawnServer(targetEnv);
    try {
      const served = await fetch(`${server.url}/public/results/${jobId}`);
      expect(served.status).toBe(200);
      expect(Buffer.from(await served.bytes()).equals(Buffer.from(resultBytes))).toBe(true);
      const booth = await fetch(`${server.url}/ingest/slot-002`, {
        method: "POST",
        body: dslrForm(await makeJpeg(64, 48), dslrFields({ password: BOOTH_PASSWORD })),
      });
      expect(booth.status).toBe(200);
    } finally {
      server.proc.kill("SIGTERM");
      await server.proc.exited;
    }
    const runtime = await Runtime.create(loadConfig(targetEnv), { workers: false, log: silentLogger });
    try {
      expect(await runtime.settings.providerKey("gemini")).toBe(GEMINI_KEY);
      expect(await runtime.settings.masterKeyMatches()).toBe(true);
    } finally {
      await runtime.stop();
    }
  });

  test("a database that is not empty is refused, and nothing in it changes", async () => {
    const keyFile = join(targetEnv.PHOTOCHANGER_DATA_DIR!, "master.key");
    writeFileSync(keyFile, Buffer.alloc(32, 9).toString("base64"));
    const before = await inspectDatabase(targetUrl);
    const r = await runCli(["restore", archive], targetEnv);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("the database is not empty");
    expect(readFileSync(keyFile, "utf8")).toBe(Buffer.alloc(32, 9).toString("base64"));
    expect(await inspectDatabase(targetUrl)).toEqual(before);
  });

  test("a damaged archive and a newer schema are refused before the database is touched", async () => {
    const empty = await databases!.create("bk_refused");
    const env = { DATABASE_URL: empty, PHOTOCHANGER_DATA_DIR: tmp("bk-refused") };
    {
      const work = tmp("bk-tamper");
      Bun.spawnSync(["tar", "-xzf", archive, "-C", work]);
      const manifest = JSON.parse(readFileSync(join(work, "manifest.json"), "utf8"));
      const repack = (name: string) => {
        const out = join(work, "..", `${name}-${suffix}.tar.gz`);
        dirs.push(out);
        const entries = ["manifest.json", "database.pgdump", "master.key", "media"];
        expect(Bun.spawnSync(["tar", "-czf", out, "-C", work, ...entries]).exitCode).toBe(0);
        return out;
      };

      writeFileSync(join(work, "master.key"), Buffer.alloc(32, 7).toString("base64"));
      const damaged = await runCli(["restore", repack("damaged")], env);
      expect(damaged.code).toBe(1);
      expect(damaged.stderr).toContain("master.key does not match its checksum");

      Bun.spawnSync(["tar", "-xzf", archive, "-C", work, "master.key"]);
      manifest.database.migrations_applied += 1;
      manifest.database.last_migration_when += 1000;
      writeFileSync(join(work, "manifest.json"), JSON.stringify(manifest));
      const newer = await runCli(["restore", repack("newer")], env);
      expect(newer.code).toBe(1);
      expect(newer.stderr).toContain("the archive's schema is newer than this binary knows");

      expect((await inspectDatabase(empty)).migrations.applied).toBe(0);
      const notAnArchive = await runCli(["restore", join(work, "master.key")], env);
      expect(notAnArchive.code).toBe(1);
      expect(notAnArchive.stderr).toContain("is not a readable archive");
    }
  });
});

describe("pg_dump's version", () => {
  test("a pg_dump older than the server names the package to install", () => {
    const old = { path: "/usr/lib/postgresql/15/bin/pg_dump", version: "15.20", major: 15 };
    const message = pgDumpAdvice(18, old, true);
    expect(message).toContain("embedded PostgreSQL (18)");
    expect(message).toContain("15.20");
    expect(message).toContain("apt-get install postgresql-client-18");
    expect(pgDumpAdvice(17, null, false)).toContain("no pg_dump was found");
  });

  test.skipIf(newestPgDump !== null && newestPgDump.major >= suite.major)(
    "backup of a server newer than every pg_dump here fails with that advice",
    async () => {
      const r = await runCli(["backup", "--to", tmp("bk-none")], {
        DATABASE_URL: suite.url,
        PHOTOCHANGER_DATA_DIR: tmp("bk-none-data"),
      });
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`apt-get install postgresql-client-${suite.major}`);
      expect(r.stderr).toContain("older than the database server");
    },
  );
});
