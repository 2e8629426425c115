import { describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigError, loadConfig } from "../src/config";
import { silentLogger } from "../src/lib/log";
import { Runtime } from "../src/runtime";
import { freshDatabase } from "./helpers/app";

describe("configuration", () => {
  test("defaults", () => {
    const c = loadConfig({});
    expect(c.port).toBe(8080);
    expect(c.host).toBe("0.0.0.0");
    expect(c.workerCount).toBe(4);
    expect(c.databaseUrl).toBeNull();
    expect(c.dataDir.endsWith("/data")).toBe(true);
    expect(c.mediaRoot).toBe(`${c.dataDir}/media`);
    expect(c.providers.turbotext.baseUrl).toBe("https://www.turbotext.ru");
  });

  test.each([
    ["PORT", "eighty"],
    ["PORT", "70000"],
    ["WORKER_COUNT", "-1"],
    ["WORKER_COUNT", "2049"],
    ["LOG_LEVEL", "loud"],
    ["PUBLIC_BASE_URL", "booth.local"],
    ["GEMINI_BASE_URL", "ftp://x"],
    ["DATABASE_URL", "mysql://x"],
  ])("a bad %s (%s) stops start-up with a message naming it", (name, value) => {
    let err: unknown;
    try {
      loadConfig({ [name]: value });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).variable).toBe(name);
    expect((err as Error).message).toStartWith(`${name}:`);
  });
});

describe("first start", () => {
  test("creates serg, igor and the ingest password, shown once; the master key file is 0600", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "photochanger-first-"));
    const databaseUrl = await freshDatabase();
    const config = loadConfig({ DATABASE_URL: databaseUrl, PHOTOCHANGER_DATA_DIR: dataDir });
    const shown: string[][] = [];
    try {
      const first = await Runtime.create(config, {
        workers: false,
        log: silentLogger,
        announce: (l) => shown.push(l),
      });
      const secrets = await first.bootstrap();
      expect(secrets.admins.map((a) => a.username).sort()).toEqual(["igor", "serg"]);
      expect(secrets.ingestPassword).toMatch(/^[A-Za-z0-9]{12}$/);
      expect(await first.settings.verifyIngestPassword(secrets.ingestPassword!)).toBe(true);
      expect(shown).toHaveLength(1);
      expect(shown[0]!.join("\n")).toContain(secrets.ingestPassword!);
      await first.stop();
      expect(statSync(join(dataDir, "master.key")).mode & 0o777).toBe(0o600);

      const second = await Runtime.create(config, {
        workers: false,
        log: silentLogger,
        announce: (l) => shown.push(l),
      });
      const again = await second.bootstrap();
      expect(again.admins).toHaveLength(0);
      expect(again.ingestPassword).toBeNull();
      expect(shown).toHaveLength(1);
      await second.stop();
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
