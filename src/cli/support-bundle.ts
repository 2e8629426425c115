/**
 * `photochanger support-bundle`: one text file to send when something is wrong — versions (product,
 * Bun, PostgreSQL, OS), `photochanger status`, the settings and the environment with every secret
 * masked, and the service's last 1,000 journal lines. Everything goes through `redactText` last:
 * the secrets this box knows (environment values, the database password, the stored provider keys
 * and notification secrets) and anything shaped like a password, key, token or URL credential.
 */
import { chmodSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { arch, release } from "node:os";
import { join, resolve } from "node:path";
import type { Config } from "../config";
import { inspectDatabase } from "../db/inspect";
import type { Logger } from "../lib/log";
import { decryptSecret } from "../lib/secrets";
import { collectStatus, formatStatus, redactUrl } from "../ops";
import { Store } from "../store/index";
import { VERSION } from "../version";
import { openToolDatabase } from "./database";

export const JOURNAL_LINES = 1000;
const REDACTED = "[redacted]";

/** Environment variables worth showing (their secrets masked). */
const SHOWN_ENV =
  /^(PHOTOCHANGER_|DATABASE_|EMBEDDED_PG_|MEDIA_ROOT$|HOST$|PORT$|PUBLIC_BASE_URL$|LOG_LEVEL$|WORKER_COUNT$|WAKEUPS$|STOP_GRACE_|JWT_|TLS_|TRUST_PROXY$|MAX_IMAGE_|GEMINI_|TURBOTEXT_|OPENAI_|NOTIFY_|S3_|AWS_|TZ$)/;
const SECRET_NAME = /(KEY|SECRET|TOKEN|PASSWORD|PASS)$|_KEY_|_TOKEN_/i;

/** Masks what must never leave the box: the `known` values wherever they occur, then secret-shaped text. */
export function redactText(text: string, known: Iterable<string>): string {
  let out = text;
  const values = [...new Set(known)].filter((v) => v.length >= 4).sort((a, b) => b.length - a.length);
  for (const v of values) out = out.split(v).join(REDACTED);
  return (
    out
      // scheme://user:password@host
      .replace(/([a-z][a-z0-9+.-]*:\/\/[^:/\s@]+:)[^@\s/]+@/gi, `$1${REDACTED}@`)
      .replace(/\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{8,}/g, `$1 ${REDACTED}`)
      // password=…, "api_key": "…", token: …, secret=…
      .replace(
        /((?:password|passwd|pwd|secret|token|api[_-]?key|access[_-]?key|authorization)["']?\s*[:=]\s*["']?)(?!\[redacted\])[^\s"',&;}]+/gi,
        `$1${REDACTED}`,
      )
      // Telegram bot tokens, Google and OpenAI keys, JWTs
      .replace(/\b\d{5,12}:[A-Za-z0-9_-]{30,}\b/g, REDACTED)
      .replace(/\bAIza[0-9A-Za-z_-]{20,}/g, REDACTED)
      .replace(/\bsk-[A-Za-z0-9_-]{16,}/g, REDACTED)
      .replace(/\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/g, REDACTED)
  );
}

function osName(): string {
  try {
    const m = /^PRETTY_NAME="?([^"\n]*)"?/m.exec(readFileSync("/etc/os-release", "utf8"));
    if (m) return `${m[1]} (Linux ${release()}, ${arch()})`;
  } catch {}
  return `${process.platform} ${release()} (${arch()})`;
}

function journal(): string {
  const journalctl = Bun.which("journalctl");
  if (!journalctl) return "none: journalctl is not available on this machine";
  const r = Bun.spawnSync(
    [journalctl, "-u", "photochanger", "-n", String(JOURNAL_LINES), "--no-pager", "-o", "short-iso"],
    { stdout: "pipe", stderr: "pipe" },
  );
  const out = r.stdout.toString().trim();
  if (r.exitCode !== 0) return `none: journalctl failed (${r.stderr.toString().trim().split("\n")[0]})`;
  if (!out || /^-- No entries --$/m.test(out))
    return "none: the journal has no lines of the photochanger unit";
  return out;
}

export async function supportBundle(config: Config, log: Logger, to?: string): Promise<string> {
  const path = resolve(to ?? `photochanger-support-${new Date().toISOString().replace(/[:.]/g, "-")}.txt`);
  const secrets: string[] = [];
  const env: string[] = [];
  for (const name of Object.keys(process.env).sort()) {
    const value = process.env[name] ?? "";
    if (!SHOWN_ENV.test(name)) continue;
    if (SECRET_NAME.test(name)) {
      secrets.push(value);
      env.push(`${name}  ${value ? `(set, ${value.length} characters, not shown)` : "(empty)"}`);
    } else if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) {
      env.push(`${name}  ${redactUrl(value)}`);
    } else {
      env.push(`${name}  ${value}`);
    }
  }
  if (config.databaseUrl) secrets.push(decodeURIComponent(new URL(config.databaseUrl).password));

  const status = await collectStatus(config, log).then(
    formatStatus,
    (err: unknown) => `status failed: ${String(err)}`,
  );

  let postgres = "unknown (the database could not be reached)";
  const settings: string[] = [];
  try {
    const db = await openToolDatabase(config, log);
    secrets.push(decodeURIComponent(new URL(db.url).password));
    const store = Store.open(db.url, { max: 1 });
    try {
      postgres = (await inspectDatabase(db.url)).serverVersion;
      const keyFile = join(config.dataDir, "master.key");
      const key = existsSync(keyFile) ? Buffer.from(readFileSync(keyFile, "utf8").trim(), "base64") : null;
      for (const row of await store.settings.all()) {
        const value = row.value as Record<string, unknown> | unknown;
        const sealed = (value as { sealed?: unknown } | null)?.sealed;
        if (typeof sealed === "string" && key) {
          try {
            secrets.push(decryptSecret(key, sealed, row.key));
          } catch {
            // sealed with another key: nothing to learn, nothing shown
          }
        }
        const hidden =
          row.isSecret || typeof sealed === "string" || (value as { hash?: unknown } | null)?.hash;
        const shown = hidden ? "(set, not shown)" : JSON.stringify(value);
        settings.push(
          `${row.key}  ${shown}  (changed ${row.updatedAt.toISOString()} by ${row.updatedBy ?? "?"})`,
        );
      }
    } finally {
      await store.close();
      await db.stop();
    }
  } catch (err) {
    settings.push(`could not be read: ${err instanceof Error ? err.message : String(err)}`);
  }

  const text = [
    `PhotoChanger support bundle, ${new Date().toISOString()}`,
    "Secrets (passwords, keys, tokens, the database password) are masked.",
    "",
    "== versions",
    `photochanger ${VERSION}`,
    `Bun ${Bun.version} (${Bun.revision.slice(0, 9)})`,
    `PostgreSQL ${postgres}`,
    `OS ${osName()}`,
    "",
    "== status",
    status,
    "",
    "== settings (database)",
    ...settings,
    "",
    "== environment",
    ...(env.length ? env : ["(no PhotoChanger variables set)"]),
    "",
    `== log (journalctl -u photochanger -n ${JOURNAL_LINES})`,
    journal(),
    "",
  ].join("\n");
  writeFileSync(path, redactText(text, secrets), { mode: 0o600 });
  chmodSync(path, 0o600);
  return path;
}
