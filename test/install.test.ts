/**
 * install.sh in --root mode: the tree it writes (binary, 0600 env file, data dir, hardened and
 * capped unit, the daily backup timer), that the installed files make a working service (started
 * the way the unit starts it, it takes a booth upload with the password the installer printed),
 * that a re-run upgrades without touching secrets or data, checks the binary's checksum, keeps the
 * previous binary and takes a backup first, that --rollback puts the previous binary back (and
 * names the pre-upgrade backup when the database is newer than it knows), and that --uninstall
 * keeps data unless --purge.
 *
 * The database is one pg_dump can dump (test/helpers/dumpable.ts): an upgrade takes a backup.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import {
  chmodSync,
  cpSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import { knownMigrations } from "../src/db/inspect";
import { dslrFields, dslrForm } from "./helpers/app";
import { baseEnv, freePort, REPO, spawnServer } from "./helpers/cli";
import { dumpableServer, type EmptyDatabases, emptyDatabases, suiteServer } from "./helpers/dumpable";
import { makeJpeg } from "./helpers/images";

const INSTALL = join(REPO, "install.sh");

let outDir: string;
let binary: string;
let root: string;
let databaseUrl: string;
let port: number;
let firstRun: { code: number; stdout: string; stderr: string };
/** Without a server pg_dump can dump, upgrades are run with --no-backup (and the backup checks skip). */
const dumpable = await dumpableServer();
const noBackup = "skip" in dumpable ? ["--no-backup"] : [];
let databases: EmptyDatabases | null = null;
if ("skip" in dumpable) console.warn(`install.sh upgrades run with --no-backup: ${dumpable.skip}`);

function install(args: string[]) {
  const r = Bun.spawnSync(["bash", INSTALL, ...args], {
    cwd: tmpdir(),
    env: baseEnv(),
    stdout: "pipe",
    stderr: "pipe",
  });
  return { code: r.exitCode, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
}

const mode = (p: string) => statSync(join(root, p)).mode & 0o777;
const read = (p: string) => readFileSync(join(root, p), "utf8");

function envFile(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of read("etc/photochanger/photochanger.env").split("\n")) {
    const m = /^([A-Z_]+)=(.*)$/.exec(line);
    if (m) out[m[1]!] = m[2]!;
  }
  return out;
}

beforeAll(async () => {
  outDir = mkdtempSync(join(tmpdir(), "photochanger-install-dist-"));
  const build = Bun.spawnSync([process.execPath, "scripts/build.ts", "--native", "--outdir", outDir], {
    cwd: REPO,
    stdout: "pipe",
    stderr: "pipe",
  });
  if (build.exitCode !== 0) throw new Error(`build failed:\n${build.stderr.toString()}`);
  binary = join(outDir, "photochanger");
  root = mkdtempSync(join(tmpdir(), "photochanger-root-"));
  databases = "skip" in dumpable ? null : emptyDatabases(dumpable.url);
  databaseUrl = databases ? await databases.create("install") : (await suiteServer()).url;
  port = await freePort();
  firstRun = install([
    "--root",
    root,
    "--binary",
    binary,
    "--database-url",
    databaseUrl,
    "--port",
    String(port),
  ]);
});

afterAll(async () => {
  await databases?.close();
  rmSync(outDir, { recursive: true, force: true });
  rmSync(root, { recursive: true, force: true });
});

describe("install.sh --root", () => {
  test("succeeds and prints the passwords once and the ingest URL", () => {
    expect(firstRun.stderr).toBe("");
    expect(firstRun.code).toBe(0);
    expect(firstRun.stdout).toMatch(/admin serg\s+password: \S+/);
    expect(firstRun.stdout).toMatch(/admin igor\s+password: \S+/);
    expect(firstRun.stdout).toMatch(/booth ingest password:\s+\S+/);
    expect(firstRun.stdout).toContain(`Ingest URL:  http://<this box>:${port}/ingest/slot-001`);
  });

  test("installs the binary, 0755, and it runs", () => {
    expect(mode("usr/local/bin/photochanger")).toBe(0o755);
    const v = Bun.spawnSync([join(root, "usr/local/bin/photochanger"), "version"]);
    expect(v.stdout.toString()).toMatch(/^photochanger \d+\.\d+\.\d+/);
  });

  test("writes the env file 0600 with the database, data dir and port", () => {
    expect(mode("etc/photochanger/photochanger.env")).toBe(0o600);
    expect(envFile()).toMatchObject({
      DATABASE_URL: databaseUrl,
      PHOTOCHANGER_DATA_DIR: "/var/lib/photochanger",
      HOST: "0.0.0.0",
      PORT: String(port),
      LOG_LEVEL: "info",
    });
  });

  test("creates the data dir 0750 with the master key 0600", () => {
    expect(mode("var/lib/photochanger")).toBe(0o750);
    expect(mode("var/lib/photochanger/master.key")).toBe(0o600);
  });

  test("writes a hardened systemd unit", () => {
    const unit = read("etc/systemd/system/photochanger.service");
    for (const line of [
      "User=photochanger",
      "EnvironmentFile=/etc/photochanger/photochanger.env",
      "ExecStart=/usr/local/bin/photochanger serve",
      "Restart=on-failure",
      "TimeoutStopSec=90",
      "NoNewPrivileges=yes",
      "ProtectSystem=strict",
      "ProtectHome=yes",
      "PrivateTmp=yes",
      "ReadWritePaths=/var/lib/photochanger",
      "WantedBy=multi-user.target",
    ]) {
      expect(unit.split("\n")).toContain(line);
    }
    expect(mode("etc/systemd/system/photochanger.service")).toBe(0o644);
  });

  test("the unit passes systemd-analyze verify (where systemd-analyze exists)", () => {
    const analyze = Bun.which("systemd-analyze");
    const units = "/usr/lib/systemd/system";
    if (!analyze || !existsSync(units)) {
      console.warn("systemd-analyze is not available here; unit verification skipped");
      return;
    }
    // A scratch copy of the tree with the system's units, so `--root` resolves targets like sysinit.
    const scratch = mkdtempSync(join(tmpdir(), "photochanger-verify-"));
    try {
      cpSync(root, scratch, { recursive: true });
      cpSync(units, join(scratch, units), { recursive: true });
      const r = Bun.spawnSync([analyze, "verify", `--root=${scratch}`, "photochanger.service"], {
        stdout: "pipe",
        stderr: "pipe",
      });
      // Unknown keys and bad values are only warnings (exit 0): any output counts as a failure.
      expect({ code: r.exitCode, stderr: r.stderr.toString() }).toEqual({ code: 0, stderr: "" });
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  });

  test("the installed files run as the service: a booth upload with the printed password", async () => {
    const ingestPassword = /booth ingest password:\s+(\S+)/.exec(firstRun.stdout)![1]!;
    const unit = read("etc/systemd/system/photochanger.service");
    const [exe, ...args] = /^ExecStart=(.+)$/m.exec(unit)![1]!.split(" ");
    expect(args).toEqual(["serve"]);
    // As systemd would run it: the env file's variables, with the tree standing in for "/".
    const serviceEnv = {
      ...envFile(),
      HOST: "127.0.0.1",
      PHOTOCHANGER_DATA_DIR: join(root, envFile().PHOTOCHANGER_DATA_DIR!),
    };
    const cwd = join(root, /^WorkingDirectory=(.+)$/m.exec(unit)![1]!);
    const server = await spawnServer(serviceEnv, { command: [join(root, exe!)], cwd, port });
    try {
      const slotSet = Bun.spawnSync(
        [join(root, exe!), "slot", "set", "slot-002", "--provider", "local", "--operation", "passthrough"],
        { env: baseEnv(serviceEnv), stdout: "pipe", stderr: "pipe" },
      );
      expect(slotSet.exitCode).toBe(0);
      expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
      const res = await fetch(`${server.url}/ingest/slot-002`, {
        method: "POST",
        body: dslrForm(await makeJpeg(160, 120), dslrFields({ password: ingestPassword })),
      });
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toBe("image/jpeg");
    } finally {
      server.proc.kill("SIGTERM");
    }
    expect(await server.proc.exited).toBe(0);
  });

  test("a re-run upgrades the binary and keeps secrets and data", () => {
    const envBefore = read("etc/photochanger/photochanger.env");
    const keyBefore = read("var/lib/photochanger/master.key");
    const binBefore = statSync(join(root, "usr/local/bin/photochanger")).ino;
    const again = install(["--root", root, "--binary", binary, "--port", "9999", ...noBackup]);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain("upgrading to photochanger");
    expect(again.stdout).not.toMatch(/password: \S+/);
    expect(again.stdout).toContain("keeping PORT=");
    expect(read("etc/photochanger/photochanger.env")).toBe(envBefore);
    expect(read("var/lib/photochanger/master.key")).toBe(keyBefore);
    expect(statSync(join(root, "usr/local/bin/photochanger")).ino).not.toBe(binBefore);
    expect(mode("usr/local/bin/photochanger")).toBe(0o755);
  });

  test("every further re-run succeeds too, with the first run's arguments, and keeps everything", () => {
    const envBefore = read("etc/photochanger/photochanger.env");
    const keyBefore = read("var/lib/photochanger/master.key");
    for (let i = 0; i < 2; i++) {
      const again = install([
        "--root",
        root,
        "--binary",
        binary,
        "--database-url",
        databaseUrl,
        "--port",
        String(port),
        ...noBackup,
      ]);
      expect({ code: again.code, stderr: again.stderr }).toEqual({ code: 0, stderr: "" });
      expect(again.stdout).toContain("running migrations");
      expect(again.stdout).not.toMatch(/password: \S+/);
    }
    expect(read("etc/photochanger/photochanger.env")).toBe(envBefore);
    expect(read("var/lib/photochanger/master.key")).toBe(keyBefore);
  });

  test("without --database-url a re-run succeeds and keeps the generated env file", () => {
    // The first run generates a DATABASE_URL for a local role that --root never creates; a re-run
    // must not try to migrate as that role (it used to, and failed).
    const bare = mkdtempSync(join(tmpdir(), "photochanger-root-bare-"));
    try {
      const first = install(["--root", bare, "--binary", binary]);
      expect({ code: first.code, stderr: first.stderr }).toEqual({ code: 0, stderr: "" });
      expect(first.stdout).toContain("migrations run when the service first starts");
      const envPath = join(bare, "etc/photochanger/photochanger.env");
      const env = readFileSync(envPath, "utf8");
      expect(env).toMatch(
        /^DATABASE_URL=postgres:\/\/photochanger:[0-9a-f]+@127\.0\.0\.1:\d+\/photochanger$/m,
      );
      for (let i = 0; i < 2; i++) {
        const again = install(["--root", bare, "--binary", binary]);
        expect({ code: again.code, stderr: again.stderr }).toEqual({ code: 0, stderr: "" });
        expect(again.stdout).toContain("upgrading to photochanger");
        expect(again.stdout).toContain("migrations run when the service first starts");
        expect(readFileSync(envPath, "utf8")).toBe(env);
        expect(statSync(envPath).mode & 0o777).toBe(0o600);
        expect(statSync(join(bare, "usr/local/bin/photochanger")).mode & 0o777).toBe(0o755);
        expect(existsSync(join(bare, "etc/systemd/system/photochanger.service"))).toBe(true);
      }
    } finally {
      rmSync(bare, { recursive: true, force: true });
    }
  });

  test("the unit is capped and hardened, and pulls in the local PostgreSQL", () => {
    const unit = read("etc/systemd/system/photochanger.service").split("\n");
    for (const line of [
      "Wants=postgresql.service",
      "After=network-online.target postgresql.service",
      "SystemCallFilter=@system-service",
      "SystemCallArchitectures=native",
      "ProtectProc=invisible",
      "ProcSubset=pid",
      "RemoveIPC=yes",
      "MemoryHigh=1536M",
      "MemoryMax=2G",
      "TasksMax=512",
      "UMask=0077",
      "CapabilityBoundingSet=",
      "PrivateDevices=yes",
      "ProtectKernelTunables=yes",
      "RestrictNamespaces=yes",
      "LockPersonality=yes",
      "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6",
    ]) {
      expect(unit).toContain(line);
    }
    // Bun's JIT needs writable+executable memory; port 8080 needs no capability.
    expect(unit.some((l) => l.startsWith("MemoryDenyWriteExecute="))).toBe(false);
    expect(unit).not.toContain("AmbientCapabilities=CAP_NET_BIND_SERVICE");
  });

  test("systemd-analyze security scores the unit 2.0 or below (where systemd-analyze exists)", () => {
    const analyze = Bun.which("systemd-analyze");
    if (!analyze) {
      console.warn("systemd-analyze is not available here; the security score is not measured");
      return;
    }
    const r = Bun.spawnSync(
      [analyze, "security", "--offline=true", join(root, "etc/systemd/system/photochanger.service")],
      { stdout: "pipe", stderr: "pipe" },
    );
    const score = /Overall exposure level for photochanger\.service: ([\d.]+)/.exec(r.stdout.toString());
    expect(score).not.toBeNull();
    expect(Number(score![1])).toBeLessThanOrEqual(2.0);
  });

  test("a port below 1024 gets CAP_NET_BIND_SERVICE and nothing more; a remote database no Wants=", () => {
    const low = mkdtempSync(join(tmpdir(), "photochanger-root-low-"));
    try {
      const r = install([
        "--root",
        low,
        "--binary",
        binary,
        "--port",
        "443",
        "--database-url",
        "postgres://pc:secret@db.example.net:5432/photochanger",
      ]);
      // the database does not exist: only the files written before the migration are checked
      expect(r.stdout).toContain("wrote /etc/systemd/system/photochanger.service");
      const unit = readFileSync(join(low, "etc/systemd/system/photochanger.service"), "utf8").split("\n");
      expect(unit).toContain("AmbientCapabilities=CAP_NET_BIND_SERVICE");
      expect(unit).toContain("CapabilityBoundingSet=CAP_NET_BIND_SERVICE");
      expect(unit).not.toContain("Wants=postgresql.service");
      expect(unit).toContain("After=network-online.target");
    } finally {
      rmSync(low, { recursive: true, force: true });
    }
  });

  test("writes the daily backup service and timer (7 archives kept in /var/backups/photochanger)", () => {
    const service = read("etc/systemd/system/photochanger-backup.service").split("\n");
    expect(service).toContain("Type=oneshot");
    expect(service).toContain("User=photochanger");
    expect(service).toContain(
      "ExecStart=/usr/local/bin/photochanger backup --to /var/backups/photochanger --keep 7",
    );
    expect(service).toContain("ReadWritePaths=/var/lib/photochanger /var/backups/photochanger");
    const timer = read("etc/systemd/system/photochanger-backup.timer").split("\n");
    expect(timer).toContain("OnCalendar=*-*-* 03:30:00");
    expect(timer).toContain("Persistent=true");
    expect(timer).toContain("WantedBy=timers.target");
    expect(mode("var/backups/photochanger")).toBe(0o700);
  });

  test("a binary that does not match its .sha256 is refused; one that does is checked", () => {
    const dir = mkdtempSync(join(tmpdir(), "photochanger-sum-"));
    try {
      const copy = join(dir, "photochanger");
      cpSync(binary, copy);
      chmodSync(copy, 0o755);
      writeFileSync(`${copy}.sha256`, `${"0".repeat(64)}  photochanger\n`);
      const before = statSync(join(root, "usr/local/bin/photochanger")).ino;
      const bad = install(["--root", root, "--binary", copy, ...noBackup]);
      expect(bad.code).toBe(1);
      expect(bad.stderr).toContain(`refusing to install ${copy}: its SHA-256 is`);
      expect(statSync(join(root, "usr/local/bin/photochanger")).ino).toBe(before);
      // the build writes the right one (sha256sum's format)
      expect(readFileSync(`${binary}.sha256`, "utf8")).toBe(
        `${createHash("sha256").update(readFileSync(binary)).digest("hex")}  photochanger\n`,
      );
      cpSync(`${binary}.sha256`, `${copy}.sha256`);
      const good = install(["--root", root, "--binary", copy, ...noBackup]);
      expect({ code: good.code, stderr: good.stderr }).toEqual({ code: 0, stderr: "" });
      expect(good.stdout).toContain("checked photochanger against photochanger.sha256");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("an upgrade keeps the previous binary and takes a backup first; --rollback puts it back", async () => {
    // A "new version": a different executable (a wrapper around the same build).
    const dir = mkdtempSync(join(tmpdir(), "photochanger-next-"));
    const sum = (p: string) => createHash("sha256").update(readFileSync(p)).digest("hex");
    const installed = join(root, "usr/local/bin/photochanger");
    const previous = `${installed}.previous`;
    try {
      const next = join(dir, "photochanger");
      writeFileSync(next, `#!/bin/sh\nexec ${binary} "$@"\n`, { mode: 0o755 });
      const up = install(["--root", root, "--binary", next, ...noBackup]);
      expect({ code: up.code, stderr: up.stderr }).toEqual({ code: 0, stderr: "" });
      expect(up.stdout).toContain("kept the replaced binary (photochanger");
      expect(sum(installed)).toBe(sum(next));
      expect(sum(previous)).toBe(sum(binary));
      const preUpgrade = join(root, "var/backups/photochanger/pre-upgrade");
      if (!noBackup.length) {
        expect(up.stdout).toMatch(/backup: \S+\/pre-upgrade\/photochanger-backup-\S+\.tar\.gz/);
        expect(readdirSync(preUpgrade).some((n) => n.endsWith(".tar.gz"))).toBe(true);
      }

      const back = install(["--root", root, "--rollback"]);
      expect({ code: back.code, stderr: back.stderr }).toEqual({ code: 0, stderr: "" });
      expect(back.stdout).toContain("the database's schema is one photochanger");
      expect(back.stdout).toContain("rolled back to photochanger");
      expect(sum(installed)).toBe(sum(binary));
      expect(sum(previous)).toBe(sum(next));

      // A database a later version migrated further: the rollback names the pre-upgrade backup.
      const sql = postgres(databaseUrl, { max: 1, onnotice: () => {} });
      const later = knownMigrations().at(-1)!.when + 60_000;
      try {
        await sql`insert into drizzle.__drizzle_migrations (hash, created_at) values ('later-version', ${later})`;
        const forward = install(["--root", root, "--rollback"]);
        expect(forward.code).toBe(0);
        expect(forward.stderr).toContain("database schema is newer than this binary knows");
        expect(forward.stderr).toContain("migrated the database beyond what photochanger");
        if (!noBackup.length) {
          expect(forward.stderr).toMatch(
            /restore \/var\/backups\/photochanger\/pre-upgrade\/photochanger-backup-\S+/,
          );
        }
        expect(sum(installed)).toBe(sum(next));
      } finally {
        await sql`delete from drizzle.__drizzle_migrations where hash = 'later-version'`;
        await sql.end();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("--rollback without a previous binary is a failure with a message", () => {
    const bare = mkdtempSync(join(tmpdir(), "photochanger-root-norb-"));
    try {
      const r = install(["--root", bare, "--rollback"]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain("there is no previous binary");
    } finally {
      rmSync(bare, { recursive: true, force: true });
    }
  });

  test("bad usage exits 2", () => {
    expect(install(["--bogus"]).code).toBe(2);
    expect(install(["--root", root, "--port", "http"]).code).toBe(2);
    expect(install(["--root", root, "--purge"]).code).toBe(2);
  });

  test("a missing binary is a failure with a message", () => {
    const r = install(["--root", root, "--binary", join(root, "nope")]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("is not an executable file");
  });

  test("--uninstall removes the service and binary but keeps data; --purge removes the rest", () => {
    const un = install(["--root", root, "--uninstall"]);
    expect(un.code).toBe(0);
    expect(existsSync(join(root, "usr/local/bin/photochanger"))).toBe(false);
    expect(existsSync(join(root, "etc/systemd/system/photochanger.service"))).toBe(false);
    expect(existsSync(join(root, "etc/photochanger/photochanger.env"))).toBe(true);
    expect(existsSync(join(root, "var/lib/photochanger/master.key"))).toBe(true);

    const purge = install(["--root", root, "--uninstall", "--purge"]);
    expect(purge.code).toBe(0);
    expect(existsSync(join(root, "etc/photochanger"))).toBe(false);
    expect(existsSync(join(root, "var/lib/photochanger"))).toBe(false);
  });
});
