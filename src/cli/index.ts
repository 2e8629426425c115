/**
 * The `photochanger` command table: each command's summary, usage text and run, the help, and the
 * dispatch from argv to a command. `serve` (default) runs the server; the others are operator tools
 * over the same database. Exit codes: 0 ok, 1 failure, 2 bad usage.
 */
import { join } from "node:path";
import { changeAdminPassword, changeAdminScopes, isAdminUsername, isScope, SCOPES } from "../accounts";
import { applyEnvFile, ConfigError, loadConfig } from "../config";
import { runCleanup } from "../cron/cleanup";
import { MIN_ADMIN_PASSWORD } from "../domain/passwords";
import { AppError } from "../lib/errors";
import { createLogger } from "../lib/log";
import { generatePassword } from "../lib/secrets";
import { hasControlCharacters } from "../lib/text";
import { formatMigrate, migrateMedia } from "../media/migrate";
import { S3MediaStore } from "../media/s3";
import { LocalMediaStore } from "../media/storage";
import { checkProvider, formatCheck, isCheckable } from "../modules/providers/check";
import { updateSlot } from "../modules/slots/service";
import { collectStatus, formatPurge, formatStatus } from "../ops";
import { Runtime } from "../runtime";
import { exitOnSignals, startServer } from "../server";
import { VERSION } from "../version";
import {
  flagValue,
  noPositional,
  onlyFlags,
  type ParsedArgs,
  parseArgs,
  switchFlag,
  UsageError,
} from "./args";
import { createBackup, describeBackup, restoreBackup } from "./backup";
import { isJobSubcommand, JOB_USAGE, runJobCommand } from "./job";
import { rotateMasterKey } from "./master-key";
import { isResumable, RESUMABLE, resumeProvider } from "./provider-resume";
import { checkSchema } from "./schema-check";
import { supportBundle } from "./support-bundle";
import { unblock } from "./unblock";

interface Command {
  summary: string;
  usage: string;
  run(args: ParsedArgs): Promise<number>;
}

async function withRuntime<T>(
  fn: (runtime: Runtime) => Promise<T>,
  announce?: (lines: string[]) => void,
): Promise<T> {
  const config = loadConfig();
  const runtime = await Runtime.create(config, { workers: false, log: createLogger("warn"), announce });
  try {
    return await fn(runtime);
  } finally {
    await runtime.stop();
  }
}

const commands: Record<string, Command> = {
  serve: {
    summary: "run the server (default)",
    usage:
      "photochanger [serve]\n\n" +
      "Runs the HTTP server, the workers and the cleaner (every 15 min). Migrations run at start; on\n" +
      "the first start the admin and ingest passwords are written to <data dir>/initial-credentials.txt\n" +
      "(mode 0600) and printed only when stdout is a terminal. SIGTERM/SIGINT stop it\n" +
      "gracefully (held booth requests are answered first); a second signal exits at once.",
    async run(args) {
      onlyFlags(args, []);
      noPositional(args);
      const server = await startServer(loadConfig());
      exitOnSignals(server);
      return new Promise<number>(() => {});
    },
  },
  migrate: {
    summary: "apply database migrations and create the first-start accounts",
    usage:
      "photochanger migrate [--check]\n\n" +
      "Applies the migrations built into this binary. On a new database it also creates the admins\n" +
      "and the ingest password, prints them once (install.sh relies on this) and writes them to\n" +
      "<data dir>/initial-credentials.txt (mode 0600).\n\n" +
      "--check changes nothing: it compares the database's schema with this binary's and exits 0\n" +
      "when they are the same, 3 when migrations are pending, 4 when the database is newer than\n" +
      "this binary knows (a later version migrated it), 1 when the database cannot be reached.",
    async run(args) {
      onlyFlags(args, ["check"]);
      noPositional(args);
      if (switchFlag(args, "check")) {
        const check = await checkSchema(loadConfig(), createLogger("warn"));
        console.log(check.message);
        return check.code;
      }
      const applied = await withRuntime(
        async (runtime) => {
          await runtime.bootstrap();
          return runtime.store.migrationsApplied();
        },
        // An operator (or install.sh) ran this by hand: the passwords are shown here once.
        (lines) => console.log(lines.join("\n")),
      );
      console.log(`database is up to date (${applied} migrations applied)`);
      return 0;
    },
  },
  "rotate-password": {
    summary: "set the booth ingest password (generated if --value is not given)",
    usage: "photochanger rotate-password [--value <password>]",
    async run(args) {
      onlyFlags(args, ["value"]);
      noPositional(args);
      const given = flagValue(args, "value");
      if (given !== undefined && given.length < 6)
        throw new UsageError("the ingest password needs at least 6 characters");
      const password = given ?? generatePassword(12);
      await withRuntime((runtime) => runtime.settings.setIngestPassword(password, "cli"));
      console.log(given ? "ingest password updated" : `new ingest password: ${password}`);
      return 0;
    },
  },
  admin: {
    summary: "manage admin accounts: set-password, scopes",
    usage:
      "photochanger admin set-password <serg|igor> [--value <password>]\n" +
      "       photochanger admin scopes <serg|igor> [--add SCOPE]… [--remove SCOPE]…\n\n" +
      `Scopes: ${SCOPES.join(", ")} (a list may also be comma-separated). Without --add/--remove,\n` +
      "`scopes` prints the admin's scopes. Changes are in the audit log.",
    async run(args) {
      noPositional(args, 2);
      const [sub, user] = args.positional;
      if (sub === "scopes") return adminScopes(args, user);
      onlyFlags(args, ["value"]);
      if (sub !== "set-password" || !user) {
        throw new UsageError("expected: admin set-password <serg|igor> or admin scopes <serg|igor>");
      }
      if (!isAdminUsername(user)) throw new UsageError(`unknown admin "${user}" (expected serg or igor)`);
      const given = flagValue(args, "value");
      if (given !== undefined && given.length < MIN_ADMIN_PASSWORD)
        throw new UsageError(`admin passwords need at least ${MIN_ADMIN_PASSWORD} characters`);
      const password = given ?? generatePassword(16);
      // Whoever had the old password is signed out everywhere (the account page keeps its own session).
      const ended = await withRuntime((runtime) =>
        changeAdminPassword(
          { auth: runtime.store.auth, audit: runtime.store.audit, clock: runtime.clock },
          user,
          password,
          {
            by: "cli",
            keepSession: null,
          },
        ),
      );
      const signedOut = ended ? ` (${ended} session${ended === 1 ? "" : "s"} ended)` : "";
      console.log(
        given
          ? `password for ${user} updated${signedOut}`
          : `new password for ${user}: ${password}${signedOut}`,
      );
      return 0;
    },
  },
  slot: {
    summary: "configure a slot: slot set <slot-id> --provider P --operation O [options]",
    usage:
      "photochanger slot set <slot-001…slot-015> [--provider P] [--operation O] [--prompt TEXT]\n" +
      "                  [--setting key=value]… [--name NAME] [--enabled true|false]\n" +
      "                  [--output-format jpeg|png|webp|original] [--size-limit-mb N]\n" +
      "                  [--fallback-provider P --fallback-operation O [--fallback-setting key=value]…]\n" +
      "                  [--no-fallback]\n" +
      "       photochanger slot show <slot-id>\n\n" +
      "The fallback provider takes a job whose primary fails (error, no image, quota, unavailable, or\n" +
      "its share of the deadline used up) within the same deadline; it is validated like the primary.\n" +
      "--fallback-setting alone changes the settings of the slot's current fallback.",
    async run(args) {
      const [sub, slotId] = args.positional;
      if ((sub !== "set" && sub !== "show") || !slotId)
        throw new UsageError("expected: slot set|show <slot-id>");
      return withRuntime(async (runtime) => {
        const row = await runtime.store.slots.get(slotId);
        if (!row) throw new UsageError(`there is no slot "${slotId}" (slots are slot-001 … slot-015)`);
        if (sub === "show") {
          console.log(JSON.stringify(row, null, 2));
          return 0;
        }
        const settingsArgs = process.argv
          .slice(2)
          .flatMap((a, i, all) => (a === "--setting" ? [all[i + 1] ?? ""] : []));
        const settings: Record<string, unknown> = { ...row.settings };
        for (const kv of settingsArgs) {
          const m = /^([A-Za-z0-9_]+)=(.*)$/s.exec(kv);
          if (!m) throw new UsageError(`--setting expects key=value, got "${kv}"`);
          settings[m[1]!] = parseScalar(m[2]!);
        }
        const prompt = flagValue(args, "prompt");
        if (prompt !== undefined) settings.prompt = prompt;
        const provider = flagValue(args, "provider") ?? row.provider;
        const operation = flagValue(args, "operation") ?? row.operation;
        const sameProvider = provider === row.provider && operation === row.operation;
        // The same body PUT /api/slots/{id} takes: the same validation, version check and audit entry.
        const body: Record<string, unknown> = {
          provider,
          operation,
          settings: sameProvider ? settings : pickPrompt(settings, settingsArgs, prompt),
        };
        const name = flagValue(args, "name");
        if (name !== undefined) body.name = name;
        const enabled = flagValue(args, "enabled");
        if (enabled !== undefined)
          body.enabled = enabled === "true" ? true : enabled === "false" ? false : enabled;
        const outputFormat = flagValue(args, "output-format");
        if (outputFormat !== undefined) body.output_format = outputFormat;
        const size = flagValue(args, "size-limit-mb");
        if (size !== undefined)
          body.size_limit_mb = size.trim() !== "" && Number.isFinite(Number(size)) ? Number(size) : size;
        const fallback = fallbackChange(args, row.fallback ?? null);
        if (fallback !== undefined) body.fallback = fallback;
        let saved: Awaited<ReturnType<typeof updateSlot>>;
        try {
          saved = await updateSlot(runtime, slotId, body, { ifMatch: `"${row.version}"`, by: "cli" });
        } catch (err) {
          if (!(err instanceof AppError) || err.code !== "validation_failed") throw err;
          const fields = (err.details.fields ?? []) as { field: string; message: string }[];
          for (const f of fields) console.error(`  ${cliName(f.field)}: ${f.message}`);
          throw new UsageError("the slot settings are not valid");
        }
        const fb = saved.fallback ? `, fallback ${saved.fallback.provider}/${saved.fallback.operation}` : "";
        console.log(`${slotId}: ${saved.provider}/${saved.operation}${fb} saved (version ${saved.version})`);
        return 0;
      });
    },
  },
  job: {
    summary: "delete a guest's photo or re-run a failed job: job delete|rerun <job-id>",
    usage: JOB_USAGE,
    async run(args) {
      onlyFlags(args, []);
      noPositional(args, 2);
      const [sub, id] = args.positional;
      if (!isJobSubcommand(sub) || !id)
        throw new UsageError("expected: job delete <job-id> or job rerun <job-id>");
      console.log(await withRuntime((runtime) => runJobCommand(runtime, sub, id)));
      return 0;
    },
  },
  provider: {
    summary: "check a provider, or resume one its quota answer switched off: provider check|resume <id>",
    usage:
      "photochanger provider check <gemini|turbotext|openai> [--key K] [--model M] [--json]\n" +
      "       photochanger provider resume <gemini|turbotext|openai>\n\n" +
      "resume: the provider answered that its daily quota is exhausted, so its slots refuse uploads until\n" +
      "its quota day ends; this takes uploads again at once (so does its next successful job or check).\n" +
      "Audited. Exit 1 when the provider is still refused by a daily limit of ours that is used up.\n\n" +
      "Makes one minimal real call: Gemini and OpenAI — look up the model and edit one tiny image;\n" +
      "Turbotext — one tiny queued job whose photo it downloads from PUBLIC_BASE_URL (so the server\n" +
      "must be running and reachable from the internet). Prints the latency, what the account can\n" +
      "use, any balance or rate limits the provider reports and today's count against the daily\n" +
      "limit. The key defaults to the one in Settings (else the environment); the model to the one\n" +
      "the slots use. Exit 0 when the provider answered as expected, 1 with the reason otherwise.",
    async run(args) {
      onlyFlags(args, ["key", "model", "json"]);
      noPositional(args, 2);
      const [sub, id] = args.positional;
      if (sub === "resume") {
        onlyFlags(args, []);
        if (!id) throw new UsageError("expected: provider resume <gemini|turbotext|openai>");
        if (!isResumable(id))
          throw new UsageError(`cannot resume "${id}" (expected ${RESUMABLE.join(", ")})`);
        const out = await withRuntime((runtime) => resumeProvider(runtime, id));
        console.log(out.lines.join("\n"));
        return out.code;
      }
      if (sub !== "check" || !id)
        throw new UsageError("expected: provider check|resume <gemini|turbotext|openai>");
      if (!isCheckable(id))
        throw new UsageError(`cannot check "${id}" (expected gemini, turbotext or openai)`);
      const key = flagValue(args, "key");
      const model = flagValue(args, "model");
      const asJson = switchFlag(args, "json");
      if (model !== undefined && id === "turbotext")
        throw new UsageError("Turbotext has no models: drop --model");
      const report = await withRuntime((runtime) => checkProvider(runtime, id, { apiKey: key, model }));
      console.log(asJson ? JSON.stringify(report, null, 2) : formatCheck(report));
      return report.ok ? 0 : 1;
    },
  },
  unblock: {
    summary: "lift a block caused by wrong passwords: unblock <address> | --all",
    usage:
      "photochanger unblock <address> | --all\n\n" +
      "A booth address is blocked after 10 wrong ingest passwords in 10 minutes (one attempt is still\n" +
      "checked every 30 s, and the right password lifts it); an admin login after 5 failures per user\n" +
      "and address. This lifts the blocks of <address> (its booth block and its logins) at once, or\n" +
      "every block with --all. Audited. Exit 1 when <address> was not blocked.",
    async run(args) {
      onlyFlags(args, ["all"]);
      noPositional(args, 1);
      const all = switchFlag(args, "all");
      const [address] = args.positional;
      if (all === !!address) throw new UsageError("expected an address or --all (not both)");
      if (address !== undefined && (!address.trim() || /\s/.test(address) || hasControlCharacters(address)))
        throw new UsageError(`"${address}" is not an address`);
      const out = await withRuntime((runtime) => unblock(runtime, all ? null : address!));
      console.log(out.lines.join("\n"));
      return out.code;
    },
  },
  purge: {
    summary: "run the cleaner now: expired results, media objects, orphaned files",
    usage:
      "photochanger purge [--dry-run] [--json]\n\n" +
      "Deletes expired results and thumbnails, expired temporary media and orphaned files, and\n" +
      "resolves stale jobs — what the 15-minute cleaner does — and prints what it removed by kind,\n" +
      "with bytes. --dry-run only reports what would be removed. Templates are never removed.",
    async run(args) {
      onlyFlags(args, ["dry-run", "json"]);
      noPositional(args);
      const dryRun = switchFlag(args, "dry-run");
      const asJson = switchFlag(args, "json");
      const report = await withRuntime((runtime) =>
        runCleanup(runtime, { trigger: "cli", dryRun, wait: true }),
      );
      console.log(asJson ? JSON.stringify(report, null, 2) : formatPurge(report));
      return 0;
    },
  },
  media: {
    summary: "move media between the local directory and the bucket: media migrate --to s3|local",
    usage:
      "photochanger media migrate --to s3|local [--remove-source] [--json]\n\n" +
      "Copies every media object (payloads, results, thumbnails, templates, temporary media) from\n" +
      "MEDIA_ROOT to the S3_BUCKET (--to s3) or back (--to local), under the same keys, verifying\n" +
      "each copy by SHA-256 against the database and against the source. Objects already copied are\n" +
      "skipped, so it can be run again or resumed at any time. --remove-source deletes each source\n" +
      "object once its copy verified. Needs S3_BUCKET (and the S3_* variables) either way. Exits 1\n" +
      "if any object failed or the database points at one that is in neither place.",
    async run(args) {
      onlyFlags(args, ["to", "remove-source", "json"]);
      noPositional(args, 1);
      if (args.positional[0] !== "migrate") throw new UsageError("expected: media migrate --to s3|local");
      const to = flagValue(args, "to");
      if (to !== "s3" && to !== "local") throw new UsageError("--to must be s3 or local");
      const removeSource = switchFlag(args, "remove-source");
      const asJson = switchFlag(args, "json");
      const config = loadConfig();
      if (!config.s3) {
        throw new UsageError(
          "S3_BUCKET is not set: set it (and S3_ENDPOINT, S3_ACCESS_KEY_ID, …) to name the bucket",
        );
      }
      const local = new LocalMediaStore(config.mediaRoot);
      const bucket = new S3MediaStore(config.s3, config.dataDir);
      const [source, target] = to === "s3" ? [local, bucket] : [bucket, local];
      const report = await withRuntime(async (runtime) =>
        migrateMedia({
          source,
          target,
          referenced: await runtime.store.referencedMedia(),
          removeSource,
          progress: asJson ? undefined : (line) => console.log(line),
        }),
      );
      console.log(asJson ? JSON.stringify(report, null, 2) : formatMigrate(report));
      return report.failed.length || report.missing.length ? 1 : 0;
    },
  },
  backup: {
    summary: "write one archive: the database (pg_dump), the media and the master key",
    usage:
      "photochanger backup [--to DIR] [--with-media] [--keep N]\n\n" +
      "Writes photochanger-backup-<time>.tar.gz (mode 0600) into DIR (default <data dir>/backups):\n" +
      "pg_dump's custom-format dump of the database (DATABASE_URL, or the embedded PostgreSQL, started\n" +
      "if it is not running), the local media, the master key, and a manifest with the product\n" +
      "version, the last applied migration and the SHA-256 of every member; prints its path last.\n" +
      "Media in S3 are copied only with --with-media. --keep N deletes all but the N newest archives\n" +
      "in DIR. Needs pg_dump of the server's major version or newer (it says which package).",
    async run(args) {
      onlyFlags(args, ["to", "with-media", "keep"]);
      noPositional(args);
      const config = loadConfig();
      const to = flagValue(args, "to") ?? join(config.dataDir, "backups");
      const keepFlag = flagValue(args, "keep");
      const keep = keepFlag === undefined ? undefined : Number(keepFlag);
      if (keep !== undefined && !(Number.isInteger(keep) && keep >= 1)) {
        throw new UsageError(`--keep needs a whole number of archives, at least 1 (got "${keepFlag}")`);
      }
      const withMedia = switchFlag(args, "with-media");
      const { path, manifest, pruned } = await createBackup(
        config,
        { to, withMedia, keep },
        createLogger("warn"),
      );
      console.log(describeBackup(path, manifest, pruned).join("\n"));
      return 0;
    },
  },
  restore: {
    summary: "fill an empty database and data dir from a backup archive",
    usage:
      "photochanger restore ARCHIVE\n\n" +
      "Checks every member against the archive's SHA-256 checksums and that its schema is not newer\n" +
      "than this binary knows, refuses a database that is not empty (any migration applied or any\n" +
      "table with rows), then puts the master key (a different one already there is kept as\n" +
      "master.key.before-restore) and the media in place and restores the database with pg_restore\n" +
      "in one transaction. Stop the service first. As root, restored files get the data dir's owner.",
    async run(args) {
      onlyFlags(args, []);
      noPositional(args, 1);
      const archive = args.positional[0];
      if (!archive) throw new UsageError("expected: restore ARCHIVE");
      const r = await restoreBackup(loadConfig(), archive, createLogger("warn"));
      const d = r.manifest.database;
      console.log(
        `restored PhotoChanger ${r.manifest.product_version}'s backup of ${r.manifest.created_at}: ` +
          `database (${d.migrations_applied} migrations, last ${d.last_migration ?? "unknown"}), ` +
          `${r.mediaObjects} media objects, master key` +
          (r.previousKey ? ` (the key that was there is kept as ${r.previousKey})` : ""),
      );
      return 0;
    },
  },
  "rotate-master-key": {
    summary: "re-encrypt every stored secret under a new master key",
    usage:
      "photochanger rotate-master-key\n\n" +
      "Makes a new <data dir>/master.key and re-encrypts every secret sealed with the old one (provider\n" +
      "keys, the notification webhook URL and bot token) in one transaction; the old key stays as\n" +
      "master.key.old until that committed, then the new key replaces master.key atomically. Refused\n" +
      "while a server runs on the database (stop the service first; start it after). Admin sessions\n" +
      "end. Every instance sharing the database needs the new master.key. Audited.",
    async run(args) {
      onlyFlags(args, []);
      noPositional(args);
      const r = await rotateMasterKey(loadConfig(), createLogger("warn"));
      console.log(
        r.completedEarlier
          ? "an interrupted rotation was completed: master.key is the new key (run again to rotate once more)"
          : `master key rotated: ${r.resealed.length} stored secret${r.resealed.length === 1 ? "" : "s"} re-encrypted` +
              (r.resealed.length ? ` (${r.resealed.join(", ")})` : ""),
      );
      return 0;
    },
  },
  "support-bundle": {
    summary: "write one text file to send when something is wrong (secrets masked)",
    usage:
      "photochanger support-bundle [--to FILE]\n\n" +
      "Writes FILE (default ./photochanger-support-<time>.txt, mode 0600): versions (product, Bun,\n" +
      "PostgreSQL, OS), `photochanger status`, the stored settings and the environment with every\n" +
      "secret masked, and the last 1,000 lines of `journalctl -u photochanger` (or why there are\n" +
      "none). Passwords, keys, tokens and the database password are redacted. Prints the path.",
    async run(args) {
      onlyFlags(args, ["to"]);
      noPositional(args);
      console.log(await supportBundle(loadConfig(), createLogger("error"), flagValue(args, "to")));
      return 0;
    },
  },
  status: {
    summary: "show version, database, queue, last cleanup and free disk",
    usage:
      "photochanger status [--json]\n\n" +
      "Exits 1 when the database cannot be reached (the report still prints, with the reason).",
    async run(args) {
      onlyFlags(args, ["json"]);
      noPositional(args);
      const asJson = switchFlag(args, "json");
      const status = await collectStatus(loadConfig(), createLogger("error"));
      console.log(asJson ? JSON.stringify(status, null, 2) : formatStatus(status));
      return status.database.reachable ? 0 : 1;
    },
  },
  version: {
    summary: "print the version",
    usage: "photochanger version",
    async run(args) {
      onlyFlags(args, []);
      noPositional(args);
      console.log(`photochanger ${VERSION}`);
      return 0;
    },
  },
};

/**
 * The slot's fallback as `slot set` changes it: null for --no-fallback; a new one from
 * --fallback-provider/--fallback-operation (the current fallback's settings carry over when both
 * stay the same); the current one with --fallback-setting values applied; undefined: unchanged.
 */
function fallbackChange(
  args: ParsedArgs,
  current: { provider: string; operation: string; settings: Record<string, unknown> } | null,
): Record<string, unknown> | null | undefined {
  const none = switchFlag(args, "no-fallback");
  const provider = flagValue(args, "fallback-provider");
  const operation = flagValue(args, "fallback-operation");
  if (args.flags.get("fallback-setting") === true) throw new UsageError("--fallback-setting needs key=value");
  const pairs = args.repeated.get("fallback-setting") ?? [];
  if (none) {
    if (provider !== undefined || operation !== undefined || pairs.length) {
      throw new UsageError("--no-fallback removes the fallback: drop the other --fallback-… options");
    }
    return null;
  }
  if (provider === undefined && operation === undefined && !pairs.length) return undefined;
  const base = current ?? { provider: "", operation: "", settings: {} };
  const next = { provider: provider ?? base.provider, operation: operation ?? base.operation };
  if (!next.provider) throw new UsageError("the slot has no fallback yet: give --fallback-provider");
  if (!next.operation) throw new UsageError("give --fallback-operation with --fallback-provider");
  const same = next.provider === base.provider && next.operation === base.operation;
  const settings: Record<string, unknown> = same ? { ...base.settings } : {};
  for (const kv of pairs) {
    const m = /^([A-Za-z0-9_]+)=(.*)$/s.exec(kv);
    if (!m) throw new UsageError(`--fallback-setting expects key=value, got "${kv}"`);
    settings[m[1]!] = parseScalar(m[2]!);
  }
  return { ...next, settings };
}

/** When the provider or operation changes, the old provider's settings don't carry over (the prompt does). */
function pickPrompt(settings: Record<string, unknown>, settingsArgs: string[], prompt: string | undefined) {
  const fresh: Record<string, unknown> = {};
  if (prompt !== undefined) fresh.prompt = prompt;
  else if (typeof settings.prompt === "string") fresh.prompt = settings.prompt;
  for (const kv of settingsArgs) {
    const [k, v] = kv.split(/=(.*)/s, 2) as [string, string];
    fresh[k] = parseScalar(v);
  }
  return fresh;
}

/** `admin scopes <user> [--add S]… [--remove S]…`: the same audited change for every caller. */
async function adminScopes(args: ParsedArgs, user: string | undefined): Promise<number> {
  onlyFlags(args, ["add", "remove"]);
  if (!user) throw new UsageError("expected: admin scopes <serg|igor> [--add SCOPE] [--remove SCOPE]");
  if (!isAdminUsername(user)) throw new UsageError(`unknown admin "${user}" (expected serg or igor)`);
  const list = (name: string) => {
    if (args.flags.get(name) === true) throw new UsageError(`--${name} needs a scope`);
    return (args.repeated.get(name) ?? [])
      .flatMap((v) => v.split(","))
      .map((v) => v.trim())
      .filter(Boolean);
  };
  const add = list("add");
  const remove = list("remove");
  const unknown = [...add, ...remove].filter((s) => !isScope(s));
  if (unknown.length) {
    throw new UsageError(
      `unknown scope ${unknown.map((s) => `"${s}"`).join(", ")} (scopes: ${SCOPES.join(", ")})`,
    );
  }
  const both = add.filter((s) => remove.includes(s));
  if (both.length) throw new UsageError(`${both.join(", ")}: both added and removed`);
  const scopes = await withRuntime((runtime) =>
    changeAdminScopes(
      { auth: runtime.store.auth, audit: runtime.store.audit, clock: runtime.clock },
      user,
      { add, remove },
      "cli",
    ),
  );
  console.log(`${user}: ${scopes.length ? scopes.join(", ") : "(no scopes)"}`);
  return 0;
}

/** An API field name as the CLI option that sets it (`output_format` → `--output-format`). */
function cliName(field: string): string {
  if (field.startsWith("settings.")) return `--setting ${field.slice("settings.".length)}`;
  if (field.startsWith("fallback.settings."))
    return `--fallback-setting ${field.slice("fallback.settings.".length)}`;
  if (field.startsWith("fallback."))
    return `--fallback-${field.slice("fallback.".length).replaceAll("_", "-")}`;
  return `--${field.replaceAll("_", "-")}`;
}

function parseScalar(v: string): unknown {
  if (v === "true") return true;
  if (v === "false") return false;
  if (v !== "" && !Number.isNaN(Number(v))) return Number(v);
  return v;
}

function help(): string {
  const lines = [`photochanger ${VERSION} — AI photo processing server for photo booths`, "", "Commands:"];
  for (const [name, c] of Object.entries(commands)) lines.push(`  ${name.padEnd(16)} ${c.summary}`);
  lines.push("", "Run `photochanger <command> --help` for a command's options.");
  return lines.join("\n");
}

export async function main(argv: string[]): Promise<number> {
  if (process.env.PHOTOCHANGER_ENV_FILE) applyEnvFile(process.env.PHOTOCHANGER_ENV_FILE);
  const [name = "serve", ...rest] = argv;
  if (name === "--help" || name === "-h" || name === "help") {
    const topic = rest[0] ? commands[rest[0]] : undefined;
    if (rest[0] && !topic) {
      console.error(`photochanger: unknown command "${rest[0]}"\n\n${help()}`);
      return 2;
    }
    console.log(topic ? `${topic.summary}\n\nUsage: ${topic.usage}` : help());
    return 0;
  }
  if (name === "--version") return commands.version!.run(parseArgs([]));
  const command = commands[name];
  if (!command) {
    console.error(`photochanger: unknown command "${name}"\n\n${help()}`);
    return 2;
  }
  const args = parseArgs(rest);
  if (args.flags.has("help")) {
    console.log(`${command.summary}\n\nUsage: ${command.usage}`);
    return 0;
  }
  try {
    return await command.run(args);
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(`photochanger ${name}: ${err.message}\nUsage: ${command.usage}`);
      return 2;
    }
    if (err instanceof ConfigError) {
      console.error(`photochanger: configuration error — ${err.message}`);
      return 1;
    }
    console.error(`photochanger ${name}: ${describeFailure(err)}`);
    return 1;
  }
}

/** One sentence for whatever was thrown: an Error's message, a string, or what the value says. */
export function describeFailure(err: unknown): string {
  if (err instanceof Error) return err.message || err.name;
  if (typeof err === "string" && err) return err;
  if (err === undefined || err === null) return "it failed without saying why (no error was given)";
  try {
    return JSON.stringify(err) ?? String(err);
  } catch {
    return String(err);
  }
}
