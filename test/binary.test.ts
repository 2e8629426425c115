/**
 * The single executable: `bun run build` compiles it, and — run from an unrelated directory
 * against an empty PostgreSQL database — it migrates (migrations are inside it), takes its slot and
 * password from its own CLI, serves a booth upload and shuts down cleanly.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import pkg from "../package.json";
import { sniffImage } from "../src/media/images";
import { dslrFields, dslrForm, freshDatabase } from "./helpers/app";
import { REPO, runCli, spawnServer } from "./helpers/cli";
import { colourfulness, makeJpeg } from "./helpers/images";

const PASSWORD = "booth-binary-9";

let outDir: string;
let binary: string[];
let cwd: string;
let dataDir: string;
let admin: postgres.Sql;
let emptyDb: string;
let env: Record<string, string>;

beforeAll(async () => {
  outDir = mkdtempSync(join(tmpdir(), "photochanger-dist-"));
  const build = Bun.spawnSync([process.execPath, "run", "build", "--native", "--outdir", outDir], {
    cwd: REPO,
    stdout: "pipe",
    stderr: "pipe",
  });
  if (build.exitCode !== 0) throw new Error(`build failed:\n${build.stderr.toString()}`);
  binary = [join(outDir, "photochanger")];
  cwd = mkdtempSync(join(tmpdir(), "photochanger-elsewhere-"));
  dataDir = mkdtempSync(join(tmpdir(), "photochanger-bin-data-"));
  // An empty database (not the suite's migrated template): the binary must bring its migrations.
  const url = new URL(await freshDatabase());
  admin = postgres(url.toString(), { max: 1, onnotice: () => {} });
  const name = `photochanger_binary_${process.pid}_${Date.now()}`;
  await admin.unsafe(`create database ${name}`);
  url.pathname = `/${name}`;
  emptyDb = url.toString();
  env = { DATABASE_URL: emptyDb, PHOTOCHANGER_DATA_DIR: dataDir };
});

afterAll(async () => {
  await admin.unsafe(`drop database if exists ${new URL(emptyDb).pathname.slice(1)} with (force)`);
  await admin.end({ timeout: 5 });
  for (const d of [outDir, cwd, dataDir]) rmSync(d, { recursive: true, force: true });
});

const cli = (args: string[], e: Record<string, string> = env) => runCli(args, e, { command: binary, cwd });

describe("dist/photochanger", () => {
  test("is one executable file", () => {
    const st = statSync(binary[0]!);
    expect(st.isFile()).toBe(true);
    expect(st.mode & 0o111).not.toBe(0);
    expect(existsSync(join(outDir, "node_modules"))).toBe(false);
  });

  test("knows its version and its commands", async () => {
    const v = await cli(["version"], {});
    expect(v).toMatchObject({ code: 0, stdout: `photochanger ${pkg.version}\n` });
    const help = await cli(["--help"], {});
    expect(help.code).toBe(0);
    for (const c of ["serve", "migrate", "rotate-password", "admin", "slot", "purge", "status"]) {
      expect(help.stdout).toContain(`  ${c} `);
    }
  });

  test("without DATABASE_URL it refuses clearly (no embedded PostgreSQL in a binary)", async () => {
    const r = await cli(["migrate"], { PHOTOCHANGER_DATA_DIR: dataDir });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("DATABASE_URL is not set");
    expect(r.stderr).toContain("compiled photochanger binary");
  });

  test("migrates an empty database with the migrations built into it", async () => {
    const r = await cli(["migrate"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/database is up to date \(\d+ migrations applied\)/);
    expect(r.stdout).toMatch(/admin serg\s+password: \S+/);
    const db = postgres(emptyDb, { max: 1, onnotice: () => {} });
    const [row] = await db<{ n: number }[]>`select count(*)::int as n from slot`;
    await db.end();
    expect(row!.n).toBe(15);
  });

  test("configures a slot and the password, then serves a booth upload", async () => {
    expect(
      (await cli(["slot", "set", "slot-001", "--provider", "local", "--operation", "greyscale"])).code,
    ).toBe(0);
    const rotated = await cli(["rotate-password", "--value", PASSWORD]);
    expect(rotated.code).toBe(0);
    expect(rotated.stdout + rotated.stderr).not.toContain(PASSWORD);

    const server = await spawnServer(env, { command: binary, cwd });
    try {
      const ready = await fetch(`${server.url}/readyz`);
      expect(ready.status).toBe(200);
      const photo = await makeJpeg(320, 240);
      const res = await fetch(`${server.url}/ingest/slot-001`, {
        method: "POST",
        body: dslrForm(photo, dslrFields({ password: PASSWORD })),
      });
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toBe("image/jpeg");
      const body = new Uint8Array(await res.arrayBuffer());
      expect(sniffImage(body)).toBe("jpeg");
      expect(await colourfulness(body)).toBeLessThan(3);

      const status = await cli(["status", "--json"]);
      expect(status.code).toBe(0);
      expect(JSON.parse(status.stdout)).toMatchObject({ database: { reachable: true }, live_instances: 1 });
    } finally {
      server.proc.kill("SIGTERM");
    }
    expect(await server.proc.exited).toBe(0);
  });
});
