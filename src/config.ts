/**
 * Environment → one typed, validated Config. A bad value stops start-up with a message naming the
 * variable. Runtime-tunable values (T_sync, retention, caps) live in the settings table instead.
 */
import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { neverMatches, parseRange } from "./lib/net";

export interface Config {
  databaseUrl: string | null;
  dataDir: string;
  mediaRoot: string;
  host: string;
  port: number;
  publicBaseUrl: string | null;
  logLevel: LogLevel;
  workerCount: number;
  /** On SIGTERM: how long held requests and running provider calls may take before work is released. */
  stopGraceSeconds: number;
  /**
   * In-process and NOTIFY wake-ups (default on). `WAKEUPS=off` leaves only the ≈1 s re-reads of
   * the seed design — a diagnostic, so the benchmark can show what the wake-ups are worth.
   */
  wakeups: boolean;
  embeddedPgPort: number;
  jwtTtlSeconds: number;
  /** Native HTTPS: PEM certificate chain and key files (both or neither). */
  tls: { certFile: string; keyFile: string } | null;
  /** Peers (addresses or CIDRs) whose X-Forwarded-For/-Proto/-Host headers are believed. */
  trustProxy: string[];
  /** Pixel cap read from the image header before any decode (SPEC §10: default 64 Mpx). */
  maxImagePixels: number;
  /** Connections per pool of this process (two pools: queue SQL and drizzle). */
  databasePoolSize: number;
  /** Media in an S3-compatible bucket instead of MEDIA_ROOT (null: the local directory). */
  s3: {
    bucket: string;
    endpoint: string | null;
    accessKeyId: string | null;
    secretAccessKey: string | null;
    region: string | null;
  } | null;
  /**
   * With a bucket: results it cannot take in time are kept in `<data dir>/media-spool/` up to this
   * many bytes (MEDIA_SPOOL_MAX_MB) and uploaded when it is back (src/media/spool.ts).
   */
  mediaSpoolMaxBytes: number;
  providers: {
    gemini: { apiKey: string | null; baseUrl: string | null; apiVersion: string };
    turbotext: { apiKey: string | null; baseUrl: string };
    openai: { apiKey: string | null; baseUrl: string };
  };
  /** Optional operator notifications on failure bursts and recoveries. */
  notify: {
    /** How often the failure picture is checked. */
    intervalSeconds: number;
    webhookUrl: string | null;
    /** A webhook typed in the console may point at this box or the studio's LAN (NOTIFY_ALLOW_LAN). */
    allowLan: boolean;
    telegram: { botToken: string | null; chatId: string | null; apiBase: string };
  };
}

export type LogLevel = "debug" | "info" | "warn" | "error";
const LOG_LEVELS: readonly LogLevel[] = ["debug", "info", "warn", "error"];

export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(`${variable}: ${message}`);
    this.name = "ConfigError";
  }
}

type Env = Record<string, string | undefined>;

function str(env: Env, name: string): string | null {
  const v = env[name]?.trim();
  return v ? v : null;
}

function int(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = str(env, name);
  if (raw === null) return fallback;
  if (!/^\d+$/.test(raw)) throw new ConfigError(name, `must be a whole number, got "${raw}"`);
  const n = Number(raw);
  if (n < min || n > max) throw new ConfigError(name, `must be between ${min} and ${max}, got ${n}`);
  return n;
}

function onOff(env: Env, name: string, fallback: boolean): boolean {
  const raw = str(env, name)?.toLowerCase();
  if (raw === undefined || raw === null) return fallback;
  if (["on", "true", "1", "yes"].includes(raw)) return true;
  if (["off", "false", "0", "no"].includes(raw)) return false;
  throw new ConfigError(name, `must be on or off, got "${raw}"`);
}

function url(env: Env, name: string): string | null {
  const raw = str(env, name);
  if (raw === null) return null;
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    throw new ConfigError(name, `must be an absolute http(s) URL, got "${raw}"`);
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    throw new ConfigError(name, `must be an http(s) URL, got "${raw}"`);
  }
  return raw.replace(/\/+$/, "");
}

function tlsFiles(env: Env): Config["tls"] {
  const certFile = str(env, "TLS_CERT_FILE");
  const keyFile = str(env, "TLS_KEY_FILE");
  if (!certFile && !keyFile) return null;
  if (!certFile || !keyFile) {
    throw new ConfigError(
      certFile ? "TLS_KEY_FILE" : "TLS_CERT_FILE",
      "HTTPS needs both TLS_CERT_FILE and TLS_KEY_FILE",
    );
  }
  for (const [name, path] of [
    ["TLS_CERT_FILE", certFile],
    ["TLS_KEY_FILE", keyFile],
  ] as const) {
    if (!existsSync(path)) throw new ConfigError(name, `no such file: ${path}`);
  }
  return { certFile: resolve(certFile), keyFile: resolve(keyFile) };
}

function trustedProxies(env: Env): string[] {
  const raw = str(env, "TRUST_PROXY");
  if (raw === null) return [];
  const entries = raw.split(/[\s,]+/).filter(Boolean);
  for (const entry of entries) {
    const parsed = parseRange(entry);
    if ("problem" in parsed) {
      throw new ConfigError(
        "TRUST_PROXY",
        `expected IP addresses or CIDRs separated by commas: "${entry}" ${parsed.problem}`,
      );
    }
    // An entry that cannot match is a mistake that would otherwise only show as every client
    // sharing the proxy's address (one throttle for all, no Secure cookie).
    const never = neverMatches(parsed.range);
    if (never) throw new ConfigError("TRUST_PROXY", `"${entry}" can never match a peer: ${never}`);
  }
  return entries;
}

export function loadConfig(env: Env = process.env): Config {
  const dataDir = resolve(str(env, "PHOTOCHANGER_DATA_DIR") ?? "./data");
  const logLevel = (str(env, "LOG_LEVEL") ?? "info").toLowerCase();
  if (!LOG_LEVELS.includes(logLevel as LogLevel)) {
    throw new ConfigError("LOG_LEVEL", `must be one of ${LOG_LEVELS.join(", ")}, got "${logLevel}"`);
  }
  const databaseUrl = str(env, "DATABASE_URL");
  if (databaseUrl && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    throw new ConfigError("DATABASE_URL", "must start with postgres:// or postgresql://");
  }
  return {
    databaseUrl,
    dataDir,
    mediaRoot: resolve(str(env, "MEDIA_ROOT") ?? `${dataDir}/media`),
    host: str(env, "HOST") ?? "0.0.0.0",
    port: int(env, "PORT", 8080, 1, 65535),
    publicBaseUrl: url(env, "PUBLIC_BASE_URL"),
    logLevel: logLevel as LogLevel,
    // Each loop holds one job through its provider call (mostly waiting on the network), so a box
    // holding hundreds of booths at once needs hundreds of loops; idle loops cost no queries.
    // 0: an instance that takes requests and runs no jobs (a front end in a scale-out).
    workerCount: int(env, "WORKER_COUNT", 4, 0, 2048),
    wakeups: onOff(env, "WAKEUPS", true),
    stopGraceSeconds: int(env, "STOP_GRACE_SECONDS", 75, 0, 600),
    embeddedPgPort: int(env, "EMBEDDED_PG_PORT", 54329, 1, 65535),
    jwtTtlSeconds: int(env, "JWT_TTL_SECONDS", 12 * 3600, 300, 30 * 86400),
    tls: tlsFiles(env),
    trustProxy: trustedProxies(env),
    maxImagePixels: int(env, "MAX_IMAGE_MEGAPIXELS", 64, 1, 1000) * 1_000_000,
    databasePoolSize: int(env, "DATABASE_POOL_SIZE", 20, 2, 200),
    s3: s3Config(env),
    mediaSpoolMaxBytes: int(env, "MEDIA_SPOOL_MAX_MB", 2048, 1, 1_000_000) * 1024 * 1024,
    providers: {
      gemini: {
        apiKey: str(env, "GEMINI_API_KEY"),
        baseUrl: url(env, "GEMINI_BASE_URL"),
        apiVersion: str(env, "GEMINI_API_VERSION") ?? "v1beta",
      },
      turbotext: {
        apiKey: str(env, "TURBOTEXT_API_KEY"),
        baseUrl: url(env, "TURBOTEXT_BASE_URL") ?? "https://www.turbotext.ru",
      },
      openai: {
        apiKey: str(env, "OPENAI_API_KEY"),
        baseUrl: url(env, "OPENAI_BASE_URL") ?? "https://api.openai.com",
      },
    },
    notify: {
      intervalSeconds: int(env, "NOTIFY_INTERVAL_SECONDS", 30, 1, 3600),
      webhookUrl: url(env, "NOTIFY_WEBHOOK_URL"),
      allowLan: onOff(env, "NOTIFY_ALLOW_LAN", false),
      telegram: {
        botToken: str(env, "NOTIFY_TELEGRAM_BOT_TOKEN"),
        chatId: str(env, "NOTIFY_TELEGRAM_CHAT_ID"),
        apiBase: url(env, "NOTIFY_TELEGRAM_API_BASE") ?? "https://api.telegram.org",
      },
    },
  };
}

/**
 * `S3_BUCKET` switches media to a bucket; the rest are Bun's own S3 variables (unset ones fall back
 * to Bun's defaults, e.g. AWS_ACCESS_KEY_ID or the AWS endpoint).
 */
function s3Config(env: Env): Config["s3"] {
  const bucket = str(env, "S3_BUCKET");
  if (!bucket) return null;
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) {
    throw new ConfigError("S3_BUCKET", `is not a valid bucket name: "${bucket}"`);
  }
  return {
    bucket,
    endpoint: url(env, "S3_ENDPOINT"),
    accessKeyId: str(env, "S3_ACCESS_KEY_ID"),
    secretAccessKey: str(env, "S3_SECRET_ACCESS_KEY"),
    region: str(env, "S3_REGION"),
  };
}

/**
 * Reads KEY=VALUE lines (systemd EnvironmentFile syntax, optional quotes) into `env` without
 * overriding variables that are already set.
 */
export function applyEnvFile(path: string, env: Env = process.env): boolean {
  if (!existsSync(path)) return false;
  for (const line of readFileSync(path, "utf8").split(/\r?\n/)) {
    const m = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$/.exec(line);
    if (!m || line.trimStart().startsWith("#")) continue;
    const [, key, rawValue] = m as unknown as [string, string, string];
    const value = rawValue.replace(/^(['"])(.*)\1$/, "$2");
    if (env[key] === undefined) env[key] = value;
  }
  return true;
}
