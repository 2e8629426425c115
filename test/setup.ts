/**
 * Preloaded into every test process. The run's PostgreSQL and migrated template come from test/run.ts
 * (`bun run test`) through the environment; a bare `bun test …` has none, and is run again through
 * test/run.ts, so both commands run the same suite the same way. Each file clones the template into
 * databases of its own and drops them when it ends.
 */
import { afterAll } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { scratchServer } from "../src/db/scratch";
import { SUITE_ENV } from "./helpers/suite-pg";

const adminUrl = process.env[SUITE_ENV.url];
const template = process.env[SUITE_ENV.template];
if (!adminUrl || !template) {
  // Linux: a bare `bun test` leaves its arguments only in the process's own command line.
  const commandLine = readFileSync("/proc/self/cmdline", "utf8")
    .split("\0")
    .filter((a) => a !== "");
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

const admin = scratchServer(adminUrl);
const created: string[] = [];
let counter = 0;

/** A fresh, migrated database for one test file (or one test). */
export async function freshDatabase(): Promise<string> {
  const name = `photochanger_test_${process.pid}_${++counter}_${Math.random().toString(36).slice(2, 8)}`;
  const url = await admin.create(name, template);
  created.push(name);
  return url;
}

(globalThis as Record<string, unknown>).__photochangerFreshDatabase = freshDatabase;

afterAll(async () => {
  for (const name of created) await admin.drop(name).catch(() => {});
  await admin.close();
});
