/**
 * The suite's PostgreSQL: TEST_DATABASE_URL if given, else an embedded one in a temp dir (on
 * EMBEDDED_PG_PORT when set, else a free port), with a migrated template database of this run's own
 * name (pid and a random suffix) that each test file clones (CREATE DATABASE … TEMPLATE): files never
 * see each other's rows, and two runs sharing one PostgreSQL never drop or clone each other's template.
 * Started once per run — by test/run.ts for `bun run test`, or by test/setup.ts for a bare `bun test`.
 */
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startEmbeddedPostgres } from "../../src/db/embedded";
import { runMigrations } from "../../src/db/migrate";
import { scratchServer } from "../../src/db/scratch";
import { silentLogger } from "../../src/lib/log";
import { freePort } from "./cli";

/** One bound for every test (Bun's own 5 s would fail real servers at random). */
export const TEST_TIMEOUT_MS = 120_000;

/** How test/run.ts hands the prepared server and template to the test processes it starts. */
export const SUITE_ENV = {
  url: "PHOTOCHANGER_SUITE_PG_URL",
  template: "PHOTOCHANGER_SUITE_TEMPLATE",
} as const;

export interface SuitePostgres {
  adminUrl: string;
  template: string;
  stop(): Promise<void>;
}

async function server(): Promise<{ adminUrl: string; stop(): Promise<void> }> {
  const given = process.env.TEST_DATABASE_URL;
  if (given) return { adminUrl: given, stop: async () => {} };
  const dir = mkdtempSync(join(tmpdir(), "photochanger-test-pg-"));
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

/** The server and this run's migrated template. */
export async function startSuitePostgres(): Promise<SuitePostgres> {
  const { adminUrl, stop } = await server();
  const template = `photochanger_test_template_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
  const admin = scratchServer(adminUrl);
  try {
    await admin.drop(template);
    await runMigrations(await admin.create(template));
  } finally {
    await admin.close();
  }
  return {
    adminUrl,
    template,
    async stop() {
      const last = scratchServer(adminUrl);
      await last.drop(template).catch(() => {});
      await last.close();
      await stop();
    },
  };
}
