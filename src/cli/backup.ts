/**
 * `photochanger backup` and `photochanger restore`: one archive (tar + gzip, written by the system's
 * `tar`) holding what a box cannot be rebuilt without —
 *
 *   manifest.json     product version, the last applied migration, the SHA-256 and size of every
 *                     other member
 *   database.pgdump   pg_dump's custom format (no owners, no privileges: restorable under any role)
 *   master.key        the key the stored provider keys and notification secrets are sealed with
 *   media/<key>       the media (local; from the bucket only with --with-media)
 *
 * The media are hard-linked into a staging directory first (a copy only across filesystems), so
 * the archive is a consistent set of files even while the server writes and the cleaner removes.
 * A restore checks every checksum and the schema before it changes anything, fills only an empty
 * database, and restores the database last, in one transaction: a failed restore can be re-run.
 */
import { createHash, randomBytes } from "node:crypto";
import {
  chmodSync,
  chownSync,
  copyFileSync,
  createReadStream,
  existsSync,
  linkSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from "node:fs";
import { basename, dirname, join, relative, resolve, sep } from "node:path";
import type { Config } from "../config";
import { compareSchema, inspectDatabase, knownMigrations } from "../db/inspect";
import type { Logger } from "../lib/log";
import { S3MediaStore } from "../media/s3";
import { checkKey, LocalMediaStore, MEDIA_KINDS, type MediaStore } from "../media/storage";
import { VERSION } from "../version";
import { openToolDatabase } from "./database";
import { libpqConnection, parseToolVersion, pgDumpFor, pgRestoreFor } from "./pg-tools";

export const ARCHIVE_PREFIX = "photochanger-backup-";
export const ARCHIVE_SUFFIX = ".tar.gz";
const FORMAT = "photochanger-backup/1";
const MANIFEST = "manifest.json";
const DUMP = "database.pgdump";
const KEY = "master.key";

export interface Manifest {
  format: typeof FORMAT;
  product_version: string;
  created_at: string;
  database: {
    pg_dump_version: string;
    server_version: string;
    migrations_applied: number;
    last_migration: string | null;
    /** drizzle's created_at of the last migration: how a later build compares schemas. */
    last_migration_when: number | null;
  };
  media: { backend: "local" | "s3"; included: boolean; objects: number; bytes: number };
  members: Record<string, { sha256: string; size: number }>;
}

export class BackupError extends Error {}

export interface BackupOptions {
  to: string;
  withMedia: boolean;
  /** Keep this many archives in `to` (older ones are deleted); none deleted when absent. */
  keep?: number;
}

export async function createBackup(
  config: Config,
  options: BackupOptions,
  log: Logger,
): Promise<{ path: string; manifest: Manifest; pruned: string[] }> {
  const to = resolve(options.to);
  mkdirSync(to, { recursive: true, mode: 0o700 });
  const staging = mkdtempSync(join(stagingParent(config), ".backup-"));
  const db = await openToolDatabase(config, log);
  try {
    const facts = await inspectDatabase(db.url);
    if (facts.migrations.applied === 0) {
      throw new BackupError(
        "the database has no PhotoChanger schema (no migration applied): nothing to back up",
      );
    }
    const pgDump = pgDumpFor(Math.floor(facts.serverVersionNum / 10000), db.embedded);
    const { conninfo, env } = libpqConnection(db.url);
    await run(
      [
        pgDump.path,
        "--format=custom",
        "--no-owner",
        "--no-privileges",
        `--file=${join(staging, DUMP)}`,
        conninfo,
      ],
      env,
      "pg_dump",
    );
    copyFileSync(join(config.dataDir, KEY), join(staging, KEY));
    const media = await stageMedia(config, staging, options.withMedia);

    const members: Manifest["members"] = {};
    for (const file of walk(staging)) members[file] = await digest(join(staging, file));
    const manifest: Manifest = {
      format: FORMAT,
      product_version: VERSION,
      created_at: new Date().toISOString(),
      database: {
        pg_dump_version: pgDump.version,
        server_version: facts.serverVersion,
        migrations_applied: facts.migrations.applied,
        last_migration: facts.migrations.lastTag,
        last_migration_when: facts.migrations.lastWhen,
      },
      media,
      members,
    };
    writeFileSync(join(staging, MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`);

    const name = `${ARCHIVE_PREFIX}${manifest.created_at.replace(/[:.]/g, "-")}${ARCHIVE_SUFFIX}`;
    const path = join(to, name);
    const partial = join(to, `.${name}.partial`);
    try {
      const entries = [
        MANIFEST,
        ...readdirSync(staging)
          .filter((e) => e !== MANIFEST)
          .sort(),
      ];
      await run(
        [
          "tar",
          "--create",
          "--gzip",
          `--file=${partial}`,
          "--owner=0",
          "--group=0",
          "--numeric-owner",
          `--directory=${staging}`,
          "--",
          ...entries,
        ],
        {},
        "tar",
      );
      chmodSync(partial, 0o600); // it holds the master key
      renameSync(partial, path);
    } finally {
      rmSync(partial, { force: true });
    }
    const pruned = options.keep !== undefined ? pruneBackups(to, options.keep) : [];
    return { path, manifest, pruned };
  } finally {
    rmSync(staging, { recursive: true, force: true });
    await db.stop();
  }
}

/** Deletes all but the `keep` newest archives in `dir` (by name: they carry their time); returns them. */
export function pruneBackups(dir: string, keep: number): string[] {
  const archives = readdirSync(dir)
    .filter((n) => n.startsWith(ARCHIVE_PREFIX) && n.endsWith(ARCHIVE_SUFFIX))
    .sort()
    .reverse();
  const removed = archives.slice(keep).map((n) => join(dir, n));
  for (const path of removed) unlinkSync(path);
  return removed;
}

/** A directory on the media's filesystem (so hard links work), private to the operator. */
function stagingParent(config: Config): string {
  mkdirSync(config.dataDir, { recursive: true });
  return config.s3 || !existsSync(config.mediaRoot) ? config.dataDir : dirname(config.mediaRoot);
}

async function stageMedia(config: Config, staging: string, withMedia: boolean): Promise<Manifest["media"]> {
  const backend = config.s3 ? "s3" : "local";
  const info = { backend, included: false, objects: 0, bytes: 0 } as Manifest["media"];
  if (config.s3 && !withMedia) return info;
  const store: MediaStore = config.s3
    ? new S3MediaStore(config.s3, config.dataDir)
    : new LocalMediaStore(config.mediaRoot);
  info.included = true;
  for (const kind of MEDIA_KINDS) {
    for (const object of await store.list(kind)) {
      const target = join(staging, "media", object.path);
      mkdirSync(dirname(target), { recursive: true });
      try {
        if (config.s3) writeFileSync(target, await store.read(object.path));
        else linkOrCopy(join(config.mediaRoot, object.path), target);
      } catch (err) {
        // removed between the listing and now (a finished job's payload, the cleaner): not kept
        if ((err as { code?: string }).code === "ENOENT" || (err as { code?: string }).code === "NoSuchKey") {
          continue;
        }
        throw err;
      }
      info.objects++;
      info.bytes += statSync(target).size;
    }
  }
  return info;
}

function linkOrCopy(from: string, to: string): void {
  try {
    linkSync(from, to);
  } catch (err) {
    if ((err as { code?: string }).code !== "EXDEV" && (err as { code?: string }).code !== "EPERM") throw err;
    copyFileSync(from, to);
  }
}

// ---------------------------------------------------------------------------------------------

export interface RestoreSummary {
  manifest: Manifest;
  mediaObjects: number;
  previousKey: string | null;
}

export async function restoreBackup(config: Config, archive: string, log: Logger): Promise<RestoreSummary> {
  const path = resolve(archive);
  if (!existsSync(path) || !statSync(path).isFile()) throw new BackupError(`there is no archive at ${path}`);
  refuseOddEntries(path);
  const staging = mkdtempSync(join(stagingParent(config), ".restore-"));
  try {
    await run(
      [
        "tar",
        "--extract",
        `--file=${path}`,
        "--no-same-owner",
        "--no-same-permissions",
        `--directory=${staging}`,
      ],
      {},
      "tar",
    );
    const manifest = readManifest(staging);
    await verifyMembers(staging, manifest);
    refuseNewerSchema(manifest);

    const db = await openToolDatabase(config, log);
    try {
      const facts = await inspectDatabase(db.url);
      if (facts.migrations.applied > 0 || facts.tablesWithRows.length > 0) {
        throw new BackupError(
          `the database is not empty (${facts.migrations.applied} migrations applied` +
            (facts.tablesWithRows.length ? `; rows in ${facts.tablesWithRows.slice(0, 5).join(", ")}` : "") +
            "): restore fills only an empty database. Create a new one (createdb), point DATABASE_URL at it, and run restore again",
        );
      }
      const dumpMajor = parseToolVersion(`(PostgreSQL) ${manifest.database.pg_dump_version}`)?.major ?? 0;
      const pgRestore = pgRestoreFor(dumpMajor);

      const owner = process.getuid?.() === 0 && existsSync(config.dataDir) ? statSync(config.dataDir) : null;
      const chown = (p: string) => owner && chownSync(p, owner.uid, owner.gid);
      const previousKey = installKey(config, join(staging, KEY), chown);
      const mediaObjects = await restoreMedia(config, join(staging, "media"), chown);

      const { conninfo, env } = libpqConnection(db.url);
      await run(
        [
          pgRestore.path,
          "--no-owner",
          "--no-privileges",
          "--single-transaction",
          "--exit-on-error",
          `--dbname=${conninfo}`,
          join(staging, DUMP),
        ],
        env,
        "pg_restore",
      );
      return { manifest, mediaObjects, previousKey };
    } finally {
      await db.stop();
    }
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

/** Only regular files and directories: no links or devices that could point out of the staging dir. */
function refuseOddEntries(archive: string): void {
  const r = Bun.spawnSync(["tar", "--list", "--verbose", `--file=${archive}`], {
    stdout: "pipe",
    stderr: "pipe",
  });
  if (r.exitCode !== 0) {
    throw new BackupError(
      `${archive} is not a readable archive: ${r.stderr.toString().trim().split("\n")[0]}`,
    );
  }
  const odd = r.stdout
    .toString()
    .split("\n")
    .filter((l) => l && l[0] !== "-" && l[0] !== "d");
  if (odd.length) throw new BackupError(`${archive} holds entries that are not plain files: ${odd[0]}`);
}

function readManifest(staging: string): Manifest {
  const file = join(staging, MANIFEST);
  if (!existsSync(file))
    throw new BackupError(`the archive has no ${MANIFEST}: it is not a PhotoChanger backup`);
  let manifest: Manifest;
  try {
    manifest = JSON.parse(readFileSync(file, "utf8")) as Manifest;
  } catch {
    throw new BackupError(`the archive's ${MANIFEST} is not valid JSON`);
  }
  if (manifest.format !== FORMAT) {
    throw new BackupError(`the archive's format is ${JSON.stringify(manifest.format)}, expected ${FORMAT}`);
  }
  return manifest;
}

async function verifyMembers(staging: string, manifest: Manifest): Promise<void> {
  const present = new Set(walk(staging).filter((f) => f !== MANIFEST));
  for (const [name, want] of Object.entries(manifest.members ?? {})) {
    if (!present.delete(name)) throw new BackupError(`the archive is damaged: ${name} is missing`);
    const got = await digest(join(staging, name));
    if (got.sha256 !== want.sha256 || got.size !== want.size) {
      throw new BackupError(`the archive is damaged: ${name} does not match its checksum in the manifest`);
    }
  }
  const extra = [...present];
  if (extra.length) throw new BackupError(`the archive holds ${extra[0]}, which its manifest does not list`);
  for (const required of [DUMP, KEY]) {
    if (!manifest.members[required]) throw new BackupError(`the archive has no ${required}`);
  }
}

function refuseNewerSchema(manifest: Manifest): void {
  const d = manifest.database;
  if (compareSchema({ applied: d.migrations_applied, lastWhen: d.last_migration_when }) === "newer") {
    const known = knownMigrations().at(-1)?.tag ?? "none";
    throw new BackupError(
      `the archive's schema is newer than this binary knows: it was made by PhotoChanger ${manifest.product_version} ` +
        `with ${d.migrations_applied} migrations (last ${d.last_migration ?? d.last_migration_when}), and ` +
        `photochanger ${VERSION} knows ${knownMigrations().length} (last ${known}). Restore it with version ` +
        `${manifest.product_version} or newer`,
    );
  }
}

/** Puts the archive's key in place atomically; a different key already there is kept beside it. */
function installKey(config: Config, from: string, chown: (p: string) => void): string | null {
  const target = join(config.dataDir, KEY);
  const key = readFileSync(from);
  let previous: string | null = null;
  if (existsSync(target) && !readFileSync(target).equals(key)) {
    previous = `${target}.before-restore`;
    copyFileSync(target, previous);
    chmodSync(previous, 0o600);
    chown(previous);
  }
  const tmp = `${target}.${randomBytes(4).toString("hex")}.tmp`;
  writeFileSync(tmp, key, { mode: 0o600 });
  chown(tmp);
  renameSync(tmp, target);
  return previous;
}

async function restoreMedia(config: Config, dir: string, chown: (p: string) => void): Promise<number> {
  if (!existsSync(dir)) return 0;
  const files = walk(dir);
  if (config.s3) {
    const bucket = new S3MediaStore(config.s3, config.dataDir);
    for (const key of files) await bucket.writeAtomic(checkKey(key), readFileSync(join(dir, key)));
    return files.length;
  }
  for (const key of files) {
    const target = join(config.mediaRoot, checkKey(key));
    mkdirOwned(dirname(target), config.mediaRoot, chown);
    moveFile(join(dir, key), target);
    chown(target);
  }
  return files.length;
}

/** A rename, or a copy and a rename beside the target when MEDIA_ROOT is on another filesystem. */
function moveFile(from: string, to: string): void {
  try {
    renameSync(from, to);
  } catch (err) {
    if ((err as { code?: string }).code !== "EXDEV") throw err;
    const tmp = `${to}.${randomBytes(4).toString("hex")}.tmp`;
    copyFileSync(from, tmp);
    renameSync(tmp, to);
  }
}

/** Makes `dir` and the missing directories above it (up to `root`), each owned like the data dir. */
function mkdirOwned(dir: string, root: string, chown: (p: string) => void): void {
  if (existsSync(dir)) return;
  if (dir !== root && dir.startsWith(root + sep)) mkdirOwned(dirname(dir), root, chown);
  mkdirSync(dir, { recursive: true, mode: 0o750 });
  chown(dir);
}

// ---------------------------------------------------------------------------------------------

/** Every regular file under `dir`, as a relative POSIX path. */
function walk(dir: string): string[] {
  return (readdirSync(dir, { recursive: true }) as string[])
    .filter((e) => statSync(join(dir, e)).isFile())
    .map((e) => relative(dir, join(dir, e)).split(sep).join("/"))
    .sort();
}

async function digest(path: string): Promise<{ sha256: string; size: number }> {
  const hash = createHash("sha256");
  let size = 0;
  for await (const chunk of createReadStream(path)) {
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { sha256: hash.digest("hex"), size };
}

/** Runs a program to completion; a failure names it and quotes the end of what it said. */
async function run(argv: string[], env: Record<string, string>, name: string): Promise<void> {
  const proc = Bun.spawn(argv, { env: { ...process.env, ...env }, stdout: "pipe", stderr: "pipe" });
  const [stderr, , code] = await Promise.all([
    new Response(proc.stderr).text(),
    new Response(proc.stdout).text(),
    proc.exited,
  ]);
  if (code !== 0) {
    const said = stderr.trim().split("\n").slice(-3).join(" / ") || `exit code ${code}`;
    throw new BackupError(`${name} failed: ${said}`);
  }
}

export function describeBackup(path: string, m: Manifest, pruned: string[]): string[] {
  const media = m.media.included
    ? `${m.media.objects} media objects (${(m.media.bytes / 1e6).toFixed(1)} MB, ${m.media.backend})`
    : `media not included (${m.media.backend}: add --with-media to copy the bucket)`;
  const lines = [
    `backup of PhotoChanger ${m.product_version}: database (${m.database.migrations_applied} migrations, last ${m.database.last_migration ?? "unknown"}; pg_dump ${m.database.pg_dump_version}), master key, ${media}`,
  ];
  for (const p of pruned) lines.push(`removed the older archive ${basename(p)}`);
  lines.push(path);
  return lines;
}
