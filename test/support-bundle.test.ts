/**
 * `photochanger support-bundle` as the operator runs it: one 0600 text file with versions, status,
 * settings, environment and the journal (or why there is none), holding none of the secrets that
 * were set — the stored provider key and bot token, keys in the environment, the database password,
 * the booth and admin passwords — and `redactText` masking secret-shaped text in log lines.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pkg from "../package.json";
import { redactText } from "../src/cli/support-bundle";
import { ADMIN_PASSWORDS, freshDatabase, INGEST_PASSWORD, startTestApp } from "./helpers/app";
import { runCli } from "./helpers/cli";

const STORED_KEY = "AIza-bundle-stored-key-7719";
const BOT_TOKEN = "987654321:bundle-test-bot-token-zyxwvutsrqpo";
const ENV_KEY = "sk-bundle-env-openai-key-4455";
const ENV_TURBO = "turbo-env-secret-8812";

let dir: string;
let env: Record<string, string>;
let dbPassword: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "photochanger-bundle-"));
  const url = await freshDatabase();
  dbPassword = decodeURIComponent(new URL(url).password);
  env = {
    DATABASE_URL: url,
    PHOTOCHANGER_DATA_DIR: join(dir, "data"),
    OPENAI_API_KEY: ENV_KEY,
    TURBOTEXT_API_KEY: ENV_TURBO,
    PUBLIC_BASE_URL: "http://booth.example:8080",
  };
  const app = await startTestApp({ databaseUrl: url, dataDir: env.PHOTOCHANGER_DATA_DIR });
  try {
    await app.runtime.settings.setProviderKey("gemini", STORED_KEY, "test");
    await app.runtime.settings.setNotifyTargets({ telegramBotToken: BOT_TOKEN }, "test");
  } finally {
    await app.stop();
  }
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("support-bundle", () => {
  test("one 0600 file with versions, status, settings, environment and the log, and no secret", async () => {
    const file = join(dir, "bundle.txt");
    const r = await runCli(["support-bundle", "--to", file], env);
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: "" });
    expect(r.stdout.trim()).toBe(file);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const text = readFileSync(file, "utf8");
    for (const part of [
      "== versions",
      `photochanger ${pkg.version}`,
      `Bun ${Bun.version}`,
      "PostgreSQL ",
      "OS ",
      "== status",
      "database:",
      "== settings (database)",
      "provider_key.gemini  (set, not shown)",
      "notify_telegram_bot_token  (set, not shown)",
      "ingest_password  (set, not shown)",
      "== environment",
      `OPENAI_API_KEY  (set, ${ENV_KEY.length} characters, not shown)`,
      "PUBLIC_BASE_URL  http://booth.example:8080",
      "== log (journalctl -u photochanger -n 1000)",
    ]) {
      expect(text).toContain(part);
    }
    expect(text).toMatch(/== log \(journalctl -u photochanger -n 1000\)\n(none: .+|\S)/);
    for (const secret of [
      STORED_KEY,
      BOT_TOKEN,
      ENV_KEY,
      ENV_TURBO,
      // (a database reached without a password, as a local trust setup is, has none to leak)
      ...(dbPassword ? [dbPassword] : []),
      INGEST_PASSWORD,
      ...Object.values(ADMIN_PASSWORDS),
    ]) {
      expect({ secret, found: text.includes(secret) }).toEqual({ secret, found: false });
    }
  });

  test("redactText masks the known secrets and anything shaped like one", () => {
    const log = [
      `{"event":"x","password":"hunter2-long","note":"kept"}`,
      "GET /ingest/slot-001?password=booth-pass-123&x=1",
      "connecting to postgres://photochanger:s3cr3t-db@127.0.0.1:5432/photochanger",
      "Authorization: Bearer abcdefghijklmnop.qrstuvwx",
      "telegram 123456789:AAAbbbCCCdddEEEfffGGGhhhIIIjjjKKKl failed",
      "gemini key AIzaSyA-1234567890abcdefghijkl rejected",
      `the stored one was ${STORED_KEY}`,
    ].join("\n");
    const out = redactText(log, [STORED_KEY]);
    for (const secret of [
      "hunter2-long",
      "booth-pass-123",
      "s3cr3t-db",
      "abcdefghijklmnop",
      "AAAbbbCCCdddEEEfffGGGhhhIIIjjjKKKl",
      "AIzaSyA-1234567890abcdefghijkl",
      STORED_KEY,
    ]) {
      expect({ secret, found: out.includes(secret) }).toEqual({ secret, found: false });
    }
    expect(out).toContain('"note":"kept"');
    expect(out).toContain("postgres://photochanger:[redacted]@127.0.0.1:5432/photochanger");
  });
});
