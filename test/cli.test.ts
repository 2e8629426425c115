/**
 * Every `photochanger` command, run as a separate process against a real database: output, effects
 * on the database and media, exit codes (0 ok, 1 failure, 2 bad usage), and that values given with
 * --value are never echoed.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { eq, sql } from "drizzle-orm";
import pkg from "../package.json";
import { loadConfig } from "../src/config";
import { job } from "../src/db/schema";
import { silentLogger } from "../src/lib/log";
import { Runtime } from "../src/runtime";
import { dslrForm, freshDatabase, postIngest, startTestApp, type TestApp } from "./helpers/app";
import { runCli } from "./helpers/cli";
import { makeJpeg } from "./helpers/images";

const COMMANDS = ["serve", "migrate", "rotate-password", "admin", "slot", "purge", "status", "version"];

let databaseUrl: string;
let dataDir: string;
let env: Record<string, string>;
let runtime: Runtime;

beforeAll(async () => {
  databaseUrl = await freshDatabase();
  dataDir = mkdtempSync(join(tmpdir(), "photochanger-cli-"));
  env = { DATABASE_URL: databaseUrl, PHOTOCHANGER_DATA_DIR: dataDir };
  runtime = await Runtime.create(loadConfig(env), { workers: false, log: silentLogger });
});
afterAll(async () => {
  await runtime.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

describe("help and usage", () => {
  test("--help lists every command and exits 0", async () => {
    const r = await runCli(["--help"], {});
    expect(r.code).toBe(0);
    for (const c of COMMANDS) expect(r.stdout).toContain(`  ${c} `);
  });

  test("each command has its own --help (and `help <command>`)", async () => {
    for (const c of COMMANDS) {
      const r = await runCli([c, "--help"], {});
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(`Usage: photochanger ${c === "serve" ? "[serve]" : c}`);
    }
    const viaHelp = await runCli(["help", "purge"], {});
    expect(viaHelp.code).toBe(0);
    expect(viaHelp.stdout).toContain("--dry-run");
  });

  test("bad usage exits 2 with a message", async () => {
    const cases: [string[], string][] = [
      [["frobnicate"], 'unknown command "frobnicate"'],
      [["purge", "--force"], "unknown option --force"],
      [["status", "--json", "yes"], "--json takes no value"],
      [["version", "extra"], 'unexpected argument "extra"'],
      [["admin", "set-password", "bob", "--value", "long-enough-1"], 'unknown admin "bob"'],
      [["admin", "reset"], "expected: admin set-password"],
      [["rotate-password", "--value"], "--value needs a value"],
      [["rotate-password", "--value", "short"], "at least 6 characters"],
      [["slot", "set", "slot-099"], 'there is no slot "slot-099"'],
      [["slot", "set", "slot-002", "--provider", "local", "--operation", "teleport"], "not valid"],
      [["help", "nothing"], 'unknown command "nothing"'],
    ];
    for (const [args, message] of cases) {
      const r = await runCli(args, env);
      expect({ args, code: r.code }).toEqual({ args, code: 2 });
      expect(r.stderr).toContain(message);
    }
  });

  test("a bad environment is a failure (exit 1) naming the variable", async () => {
    const r = await runCli(["migrate"], { ...env, PORT: "eighty" });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("configuration error — PORT");
  });

  test("version prints the package version", async () => {
    for (const args of [["version"], ["--version"]]) {
      const r = await runCli(args, {});
      expect(r.code).toBe(0);
      expect(r.stdout.trim()).toBe(`photochanger ${pkg.version}`);
    }
  });
});

describe("migrate", () => {
  test("creates the admins and the ingest password once, printing them once", async () => {
    const first = await runCli(["migrate"], env);
    expect(first.code).toBe(0);
    expect(first.stdout).toContain("database is up to date");
    const serg = /admin serg\s+password: (\S+)/.exec(first.stdout)?.[1];
    const ingest = /booth ingest password:\s+(\S+)/.exec(first.stdout)?.[1];
    expect(serg).toBeDefined();
    expect(ingest).toBeDefined();
    const row = await runtime.store.auth.user("serg");
    expect(await Bun.password.verify(serg!, row!.passwordHash)).toBe(true);
    expect(await runtime.settings.verifyIngestPassword(ingest!)).toBe(true);

    const second = await runCli(["migrate"], env);
    expect(second.code).toBe(0);
    expect(second.stdout).not.toContain("password");
    expect(second.stdout).toContain("database is up to date");
  });
});

describe("rotate-password", () => {
  test("--value sets the ingest password and prints nothing secret", async () => {
    const value = "booth-value-7781";
    const r = await runCli(["rotate-password", "--value", value], env);
    expect(r.code).toBe(0);
    expect(r.stdout + r.stderr).not.toContain(value);
    expect(r.stdout).toContain("ingest password updated");
    expect(await runtime.settings.verifyIngestPassword(value)).toBe(true);
  });

  test("without --value a new password is generated and shown once", async () => {
    const r = await runCli(["rotate-password"], env);
    expect(r.code).toBe(0);
    const shown = /new ingest password: (\S+)/.exec(r.stdout)?.[1];
    expect(shown).toBeDefined();
    expect(await runtime.settings.verifyIngestPassword(shown!)).toBe(true);
    expect(await runtime.settings.verifyIngestPassword("booth-value-7781")).toBe(false);
  });
});

describe("admin set-password", () => {
  test("--value sets igor's password and prints nothing secret", async () => {
    const value = "igor-new-password-55";
    const r = await runCli(["admin", "set-password", "igor", "--value", value], env);
    expect(r.code).toBe(0);
    expect(r.stdout + r.stderr).not.toContain(value);
    const row = await runtime.store.auth.user("igor");
    expect(await Bun.password.verify(value, row!.passwordHash)).toBe(true);
  });

  test("without --value a password is generated, shown once, and works", async () => {
    const r = await runCli(["admin", "set-password", "serg"], env);
    expect(r.code).toBe(0);
    const shown = /new password for serg: (\S+)/.exec(r.stdout)?.[1];
    const row = await runtime.store.auth.user("serg");
    expect(await Bun.password.verify(shown!, row!.passwordHash)).toBe(true);
  });
});

describe("admin scopes", () => {
  test("both admins start with every scope; --remove/--add change them, audited", async () => {
    const all = "slots:read, slots:write, stats:read, settings:read, settings:write, jobs:write";
    const shown = await runCli(["admin", "scopes", "igor"], env);
    expect(shown.code).toBe(0);
    expect(shown.stdout.trim()).toBe(`igor: ${all}`);

    const removed = await runCli(["admin", "scopes", "igor", "--remove", "settings:write"], env);
    expect(removed.code).toBe(0);
    expect((await runtime.store.auth.user("igor"))!.scopes).not.toContain("settings:write");
    const [audit] = await runtime.store.audit.recent(1);
    expect(audit).toMatchObject({
      actor: "cli",
      action: "admin.scopes_changed",
      details: { username: "igor", to: expect.not.arrayContaining(["settings:write"]) },
    });

    const added = await runCli(["admin", "scopes", "igor", "--add", "settings:write,jobs:write"], env);
    expect(added.code).toBe(0);
    expect(added.stdout.trim()).toBe(`igor: ${all}`);
  });

  test("unknown scopes and admins are refused with a clear message, nothing changes", async () => {
    const bad = await runCli(["admin", "scopes", "igor", "--remove", "settings:wrte"], env);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('unknown scope "settings:wrte"');
    expect(bad.stderr).toContain("settings:write");
    const who = await runCli(["admin", "scopes", "root", "--add", "slots:read"], env);
    expect(who.code).toBe(2);
    expect(who.stderr).toContain('unknown admin "root"');
    expect((await runtime.store.auth.user("igor"))!.scopes).toContain("settings:write");
  });
});

describe("slot", () => {
  test("set changes provider, operation, settings and bumps the version; show prints it", async () => {
    const before = await runtime.store.slots.get("slot-003");
    const r = await runCli(
      [
        "slot",
        "set",
        "slot-003",
        "--provider",
        "local",
        "--operation",
        "greyscale",
        "--setting",
        "simulate_delay_ms=250",
        "--name",
        "Wedding booth",
        "--output-format",
        "png",
      ],
      env,
    );
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("slot-003: local/greyscale saved");
    const after = await runtime.store.slots.get("slot-003");
    expect(after).toMatchObject({
      provider: "local",
      operation: "greyscale",
      name: "Wedding booth",
      outputFormat: "png",
      version: before!.version + 1,
    });
    expect(after!.settings).toMatchObject({ simulate_delay_ms: 250 });
    // The same versioned, audited update as PUT /api/slots/{id}.
    const [audit] = await runtime.store.audit.recent(1);
    expect(audit).toMatchObject({ actor: "cli", action: "slot.updated", details: { slot_id: "slot-003" } });
    expect(after!.updatedBy).toBe("cli");

    const shown = await runCli(["slot", "show", "slot-003"], env);
    expect(shown.code).toBe(0);
    expect(JSON.parse(shown.stdout)).toMatchObject({
      id: "slot-003",
      provider: "local",
      name: "Wedding booth",
    });
  });
});

describe("purge and status, next to a running server", () => {
  let app: TestApp;
  let resultPath: string;
  let resultBytes: number;

  beforeAll(async () => {
    app = await startTestApp({ databaseUrl });
    await app.configureSlot("slot-001", { provider: "local", operation: "passthrough", settings: {} });
    const res = await postIngest(app, "slot-001", dslrForm(await makeJpeg(320, 240)));
    expect(res.status).toBe(200);
    const jobId = res.headers.get("x-job-id")!;
    // Thumbnails are made on first view: the gallery shows this one before it expires.
    expect((await fetch(`${app.url}/public/results/${jobId}/thumb`)).status).toBe(200);
    // The result's retention has run out.
    const [row] = await app.db
      .update(job)
      .set({ resultExpiresAt: sql`now() - interval '1 hour'` })
      .where(eq(job.id, jobId))
      .returning();
    resultPath = join(app.dataDir, "media", row!.resultPath!);
    resultBytes = Bun.file(resultPath).size;
    expect(resultBytes).toBeGreaterThan(0);
  });
  afterAll(() => app.stop());

  const appEnv = () => ({ DATABASE_URL: databaseUrl, PHOTOCHANGER_DATA_DIR: app.dataDir });

  test("purge --dry-run reports the expired result by kind with bytes and deletes nothing", async () => {
    const r = await runCli(["purge", "--dry-run"], appEnv());
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("Would remove (dry run, nothing deleted):");
    expect(r.stdout).toMatch(/results\s+1\s+\S+ (B|KB)/);
    expect(r.stdout).toMatch(/thumbnails\s+1\s/);
    expect(existsSync(resultPath)).toBe(true);

    const asJson = await runCli(["purge", "--dry-run", "--json"], appEnv());
    const report = JSON.parse(asJson.stdout);
    expect(report).toMatchObject({ dryRun: true, results: { count: 1, bytes: resultBytes } });
    expect(existsSync(resultPath)).toBe(true);
  });

  test("purge removes it, says so, and records the run", async () => {
    const r = await runCli(["purge", "--json"], appEnv());
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ dryRun: false, results: { count: 1, bytes: resultBytes } });
    expect(existsSync(resultPath)).toBe(false);
    const last = await runtime.store.cleanupRuns.last();
    expect(last!.trigger).toBe("cli");
    expect(last!.removed).toMatchObject({ results: 1, results_bytes: resultBytes });

    const again = await runCli(["purge"], appEnv());
    expect(again.code).toBe(0);
    expect(again.stdout).toContain("Removed:");
    expect(again.stdout).toMatch(/results\s+0\s+0 B/);
  });

  test("status --json: version, database, queue, live server, last cleanup, disk", async () => {
    const r = await runCli(["status", "--json"], appEnv());
    expect(r.code).toBe(0);
    const s = JSON.parse(r.stdout);
    expect(s.version).toBe(pkg.version);
    expect(s.database.reachable).toBe(true);
    expect(s.database.migrations.applied).toBe(s.database.migrations.built_in);
    expect(s.queue).toEqual({ pending: 0, processing: 0, in_flight: 0, max_in_flight: 16 });
    expect(s.live_instances).toBeGreaterThanOrEqual(1);
    expect(s.last_cleanup.trigger).toBe("cli");
    expect(s.disk.free_bytes).toBeGreaterThan(0);
    expect(s.disk.media_root).toBe(join(app.dataDir, "media"));
  });

  test("status as text", async () => {
    const r = await runCli(["status"], appEnv());
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`photochanger ${pkg.version}`);
    expect(r.stdout).toMatch(/database:\s+reachable/);
    expect(r.stdout).toMatch(/queue:\s+0 pending, 0 processing/);
    expect(r.stdout).toMatch(/last cleanup:\s+\S+ \(cli\)/);
    expect(r.stdout).toMatch(/disk:\s+[\d.]+ [KMGT]?B free of/);
  });
});

test("status exits 1 when the database is unreachable, and does not print its password", async () => {
  const r = await runCli(["status"], {
    DATABASE_URL: "postgres://photochanger:s3cret-pw@127.0.0.1:1/photochanger",
    PHOTOCHANGER_DATA_DIR: dataDir,
  });
  expect(r.code).toBe(1);
  expect(r.stdout).toContain("UNREACHABLE");
  expect(r.stdout).toContain("postgres://photochanger:***@127.0.0.1:1/photochanger");
  expect(r.stdout + r.stderr).not.toContain("s3cret-pw");
});

test("a command that cannot reach the database fails with exit 1 and a message", async () => {
  const r = await runCli(["purge"], {
    DATABASE_URL: "postgres://photochanger:pw@127.0.0.1:1/photochanger",
    PHOTOCHANGER_DATA_DIR: dataDir,
  });
  expect(r.code).toBe(1);
  expect(r.stderr).toMatch(/^photochanger purge: .+/);
});
