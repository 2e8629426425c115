/**
 * `photochanger rotate-master-key` as the operator runs it (its own process): the stored provider
 * key and notification token still work under the new key, the old key no longer opens them, the
 * ingest password (a hash, not sealed) still works, no key file is left behind — and a running
 * server, or a key that is not the database's, stops it before anything changes.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig } from "../src/config";
import { silentLogger } from "../src/lib/log";
import { decryptSecret } from "../src/lib/secrets";
import { Runtime } from "../src/runtime";
import { freshDatabase, INGEST_PASSWORD, startTestApp } from "./helpers/app";
import { runCli } from "./helpers/cli";

const GEMINI_KEY = "AIza-rotation-test-key-0042";
const BOT_TOKEN = "123456789:rotation-test-bot-token-abcdefghijkl";

let dataDir: string;
let env: Record<string, string>;
const keyFile = () => join(dataDir, "master.key");

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), "photochanger-rotate-"));
  env = { DATABASE_URL: await freshDatabase(), PHOTOCHANGER_DATA_DIR: dataDir };
  const app = await startTestApp({ databaseUrl: env.DATABASE_URL, dataDir });
  try {
    await app.runtime.settings.setProviderKey("gemini", GEMINI_KEY, "test");
    await app.runtime.settings.setNotifyTargets(
      { telegramBotToken: BOT_TOKEN, telegramChatId: "-1001" },
      "test",
    );
    expect(await app.runtime.settings.masterKeyMatches()).toBe(true);
    // a running server holds the old key: the rotation is refused and changes nothing
    const key = readFileSync(keyFile(), "utf8");
    const refused = await runCli(["rotate-master-key"], env);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("running on this database");
    expect(readFileSync(keyFile(), "utf8")).toBe(key);
  } finally {
    await app.stop();
  }
});

afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

describe("rotate-master-key", () => {
  test("re-encrypts every stored secret; they work under the new key and the old key opens none", async () => {
    const oldKey = Buffer.from(readFileSync(keyFile(), "utf8"), "base64");
    const r = await runCli(["rotate-master-key"], env);
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: "" });
    expect(r.stdout).toContain("2 stored secrets re-encrypted");
    expect(r.stdout + r.stderr).not.toContain(GEMINI_KEY);
    const newKey = Buffer.from(readFileSync(keyFile(), "utf8"), "base64");
    expect(newKey.length).toBe(32);
    expect(newKey.equals(oldKey)).toBe(false);
    expect(statSync(keyFile()).mode & 0o777).toBe(0o600);
    expect(existsSync(`${keyFile()}.old`)).toBe(false);
    expect(existsSync(`${keyFile()}.new`)).toBe(false);

    const runtime = await Runtime.create(loadConfig(env), { workers: false, log: silentLogger });
    try {
      expect(await runtime.settings.masterKeyMatches()).toBe(true);
      expect(await runtime.settings.providerKey("gemini")).toBe(GEMINI_KEY);
      expect((await runtime.settings.notifyTargets()).telegram.botToken).toBe(BOT_TOKEN);
      expect(await runtime.settings.verifyIngestPassword(INGEST_PASSWORD)).toBe(true);
      const sealed = await runtime.store.settings.sealed();
      expect(sealed.map((s) => s.key).sort()).toEqual(["notify_telegram_bot_token", "provider_key.gemini"]);
      for (const s of sealed) {
        expect(() => decryptSecret(oldKey, s.sealed, s.key)).toThrow();
        expect(decryptSecret(newKey, s.sealed, s.key)).toBeTruthy();
      }
      const [audit] = await runtime.store.audit.recent(1);
      expect(audit).toMatchObject({ actor: "cli", action: "master_key.rotated" });
    } finally {
      await runtime.stop();
    }
  });

  test("a key file that is not the database's is refused before anything changes", async () => {
    const current = readFileSync(keyFile(), "utf8");
    const stranger = Buffer.alloc(32, 5).toString("base64");
    writeFileSync(keyFile(), stranger);
    try {
      const r = await runCli(["rotate-master-key"], env);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain("is not the key this database's secrets were sealed with");
      expect(readFileSync(keyFile(), "utf8")).toBe(stranger);
    } finally {
      writeFileSync(keyFile(), current);
    }
  });

  test("a rotation interrupted after its commit is completed by the next run", async () => {
    // As if the process died between the commit and the rename: the new key is only in .new.
    const before = readFileSync(keyFile(), "utf8");
    const r1 = await runCli(["rotate-master-key"], env);
    expect(r1.code).toBe(0);
    const rotated = readFileSync(keyFile(), "utf8");
    writeFileSync(`${keyFile()}.new`, rotated);
    writeFileSync(keyFile(), before);
    const r2 = await runCli(["rotate-master-key"], env);
    expect({ code: r2.code, stderr: r2.stderr }).toEqual({ code: 0, stderr: "" });
    expect(r2.stdout).toContain("an interrupted rotation was completed");
    expect(readFileSync(keyFile(), "utf8")).toBe(rotated);
    expect(existsSync(`${keyFile()}.new`)).toBe(false);
    const runtime = await Runtime.create(loadConfig(env), { workers: false, log: silentLogger });
    try {
      expect(await runtime.settings.providerKey("gemini")).toBe(GEMINI_KEY);
    } finally {
      await runtime.stop();
    }
  });
});
