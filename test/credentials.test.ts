/**
 * First-start credentials never reach the service log: they go to a 0600 file in the data dir, and
 * to stdout only when it is a terminal (here it is a pipe, as under systemd) or via `migrate`.
 */
import { expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freshDatabase } from "./helpers/app";
import { runCli, spawnServer } from "./helpers/cli";

test("serve under a service manager: passwords only in <data dir>/initial-credentials.txt (0600)", async () => {
  const dataDir = mkdtempSync(join(tmpdir(), "photochanger-creds-"));
  try {
    const server = await spawnServer({ DATABASE_URL: await freshDatabase(), PHOTOCHANGER_DATA_DIR: dataDir });
    server.proc.kill("SIGTERM");
    await server.proc.exited;
    const file = join(dataDir, "initial-credentials.txt");
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const text = readFileSync(file, "utf8");
    const passwords = [...text.matchAll(/password:\s+(\S+)/g)].map((m) => m[1]!);
    expect(passwords).toHaveLength(3); // serg, igor, the booth
    const log = server.output();
    for (const p of passwords) expect(log).not.toContain(p);
    expect(log).toContain(file);
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test("migrate prints the first-start passwords once, and writes the same file", async () => {
  const dataDir = mkdtempSync(join(tmpdir(), "photochanger-creds-"));
  try {
    const env = { DATABASE_URL: await freshDatabase(), PHOTOCHANGER_DATA_DIR: dataDir };
    const first = await runCli(["migrate"], env);
    expect(first.code).toBe(0);
    const text = readFileSync(join(dataDir, "initial-credentials.txt"), "utf8");
    const passwords = [...text.matchAll(/password:\s+(\S+)/g)].map((m) => m[1]!);
    expect(passwords).toHaveLength(3);
    for (const p of passwords) expect(first.stdout).toContain(p);
    const again = await runCli(["migrate"], env);
    for (const p of passwords) expect(again.stdout).not.toContain(p);
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});
