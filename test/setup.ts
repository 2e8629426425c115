/**
 * Preloaded once per `bun test` run: a PostgreSQL for the whole suite — TEST_DATABASE_URL if given,
 * else an embedded one in a temp dir (on EMBEDDED_PG_PORT when set, else a free port) — and a
 * migrated template database that each test file clones (CREATE DATABASE … TEMPLATE), so files
 * never see each other's rows. The template's name is this run's own (pid and a random suffix):
 * two runs sharing one PostgreSQL never drop or clone each other's template.
 */
import { afterAll } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startEmbeddedPostgres } from "../src/db/embedded";
import { runMigrations } from "../src/db/migrate";
import { scratchServer } from "../src/db/scratch";
import { silentLogger } from "../src/lib/log";

// The suite's one time bound is package.json's `bun test --timeout …` (`bun run test`): bunfig.toml
// cannot set it in Bun 1.4.5 and setDefaultTimeout here would reach only the first file. A plain
// `bun test …` (without the flag every test would get Bun's 5 s, and real servers fail at random)
// runs itself again with package.json's flag, so both commands run the same suite the same way.
// (Linux: the flag is visible only in the process's own command line.)
const commandLine = (() => {
  try {
    return readFileSync("/proc/self/cmdline", "utf8")
      .split("\0")
      .filter((a) => a !== "");
  } catch {
    return null;
  }
})();
if (commandLine && !commandLine.some((a) => a === "--timeout" || a.startsWith("--timeout="))) {
  const script = JSON.parse(readFileSync(join(import.meta.dir, "../package.json"), "utf8")).scripts
    .test as string;
  const timeout = /--timeout[= ](\d+)/.exec(script)?.[1];
  if (!timeout) throw new Error(`package.json's test script names no --timeout: ${script}`);
  const at = commandLine.indexOf("test");
  const again = Bun.spawnSync(
    [process.execPath, "test", "--timeout", timeout, ...commandLine.slice(at + 1)],
    {
      stdio: ["inherit", "inherit", "inherit"],
      env: process.env,
    },
  );
  process.exit(again.exitCode ?? 1);
}

const TEMPLATE = `photochanger_test_template_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;

async function freePort(): Promise<number> {
  const s = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = s.port;
  s.stop(true);
  return port;
}

async function prepare(): Promise<{ adminUrl: string; stop(): Promise<void> }> {
  const given = process.env.TEST_DATABASE_URL;
  if (given) return { adminUrl: given, stop: async () => {} };
  const dir = mkdtempSync(join(tmpdir(), "photochanger-test-pg-"));
  const { chmodSync } = await import("node:fs");
  chmodSync(dir, 0o755);
  const port = process.env.EMBEDDED_PG_PORT ? Number(process.env.EMBEDDED_PG_PORT) : await freePort();
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new Error(
      `EMBEDDED_PG_PORT must be a port number (1–65535), got "${process.env.EMBEDDED_PG_PORT}"`,
    );
  }
  const pg = await startEmbeddedPostgres(dir, port, silentLogger);
  return {
    adminUrl: pg.url,
    stop: async () => {
      await pg.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const server = await prepare();
const admin = scratchServer(server.adminUrl);
await admin.drop(TEMPLATE);
await runMigrations(await admin.create(TEMPLATE));

let counter = 0;
/** A fresh, migrated database for one test file (or one test). */
export async function freshDatabase(): Promise<string> {
  const name = `photochanger_test_${process.pid}_${++counter}_${Math.random().toString(36).slice(2, 8)}`;
  const url = await admin.create(name, TEMPLATE);
  created.push(name);
  return url;
}
const created: string[] = [];

(globalThis as Record<string, unknown>).__photochangerFreshDatabase = freshDatabase;

afterAll(async () => {
  for (const name of created) await admin.drop(name).catch(() => {});
  await admin.drop(TEMPLATE).catch(() => {});
  await admin.close();
  await server.stop();
});
