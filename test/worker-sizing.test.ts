/**
 * WORKER_COUNT alone sizes what a process runs at once for providers that make no HTTP call: the
 * process's cap on network calls (Bun's fetch limit, BUN_CONFIG_MAX_HTTP_REQUESTS) holds back only
 * network providers' jobs. A server with the fetch limit set to 2 runs 6 local jobs together.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import { dslrForm, freshDatabase, INGEST_PASSWORD } from "./helpers/app";
import { runCli, type ServerProcess, spawnServer } from "./helpers/cli";
import { makeJpeg } from "./helpers/images";

let server: ServerProcess;
let dataDir: string;
let env: Record<string, string>;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), "photochanger-sizing-"));
  env = { DATABASE_URL: await freshDatabase(), PHOTOCHANGER_DATA_DIR: dataDir };
  for (const args of [
    ["rotate-password", "--value", INGEST_PASSWORD],
    ["slot", "set", "slot-001", "--provider", "local", "--operation", "greyscale"],
    ["slot", "set", "slot-001", "--setting", "simulate_delay_ms=1500"],
  ]) {
    expect((await runCli(args, env)).code).toBe(0);
  }
  server = await spawnServer({ ...env, WORKER_COUNT: "8", BUN_CONFIG_MAX_HTTP_REQUESTS: "2" });
});

afterAll(async () => {
  server.proc.kill("SIGTERM");
  await server.proc.exited;
  rmSync(dataDir, { recursive: true, force: true });
});

test("six local jobs run together although the fetch limit is 2", async () => {
  const photo = await makeJpeg(160, 120);
  const answers = await Promise.all(
    Array.from({ length: 6 }, () =>
      fetch(`${server.url}/ingest/slot-001`, {
        method: "POST",
        body: dslrForm(photo),
      }),
    ),
  );
  expect(answers.map((r) => r.status)).toEqual(Array(6).fill(200));
  const sql = postgres(env.DATABASE_URL!, { max: 1, onnotice: () => {} });
  try {
    const rows = await sql<{ started_at: Date; finalized_at: Date }[]>`
      select started_at, finalized_at from job order by started_at`;
    expect(rows).toHaveLength(6);
    // Every job started before the first one finished: they ran at once, not two by two.
    const firstDone = Math.min(...rows.map((r) => r.finalized_at.getTime()));
    expect(rows.every((r) => r.started_at.getTime() < firstDone)).toBe(true);
  } finally {
    await sql.end();
  }
});
