/**
 * Preloaded into every test process. The run's PostgreSQL and migrated template come from test/run.ts
 * (`bun run test`) through the environment. A bare `bun test …` without `--timeout` (where every
 * test would get Bun's 5 s) is run again through test/run.ts, so both commands run the suite the
 * same way; one with `--timeout` (the fault suite's command) runs here, and starts the suite's
 * PostgreSQL itself when a file first asks for a database. Each file clones the template into
 * databases of its own and drops them when it ends.
 */
import { afterAll } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { type ScratchServer, scratchServer } from "../src/db/scratch";
import { SUITE_ENV, type SuitePostgres, startSuitePostgres } from "./helpers/suite-pg";

const handedUrl = process.env[SUITE_ENV.url];
const handedTemplate = process.env[SUITE_ENV.template];
if (!handedUrl || !handedTemplate) {
  // Linux: a bare `bun test` leaves its arguments only in the process's own command line.
  const commandLine = readFileSync("/proc/self/cmdline", "utf8")
    .split("\0")
    .filter((a) => a !== "");
  if (!commandLine.some((a) => a === "--timeout" || a.startsWith("--timeout="))) {
    const again = Bun.spawnSync(
      [
        process.execPath,
        join(import.meta.dir, "run.ts"),
        ...commandLine.slice(commandLine.indexOf("test") + 1),
      ],
      { stdio: ["inherit", "inherit", "inherit"], env: process.env },
    );
    process.exit(again.exitCode ?? 1);
  }
}

let suite: Promise<SuitePostgres> | null = null;
let admin: ScratchServer | null = null;
const created: string[] = [];
let counter = 0;

function suitePostgres(): Promise<SuitePostgres> {
  suite ??=
    handedUrl && handedTemplate
      ? Promise.resolve({ adminUrl: handedUrl, template: handedTemplate, stop: async () => {} })
      : startSuitePostgres();
  return suite;
}

/** A fresh, migrated database for one test file (or one test). */
export async function freshDatabase(): Promise<string> {
  const { adminUrl, template } = await suitePostgres();
  admin ??= scratchServer(adminUrl);
  const name = `photochanger_test_${process.pid}_${++counter}_${Math.random().toString(36).slice(2, 8)}`;
  const url = await admin.create(name, template);
  created.push(name);
  return url;
}

(globalThis as Record<string, unknown>).__photochangerFreshDatabase = freshDatabase;

afterAll(async () => {
  if (!suite) return;
  for (const name of created) await admin?.drop(name).catch(() => {});
  await admin?.close();
  await (await suite).stop();
});
