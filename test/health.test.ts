/**
 * /healthz and /readyz over real HTTP: ready when the database answers, media is writable, the disk
 * has room and the server is not draining; 503 with the envelope and per-check details otherwise.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import postgres from "postgres";
import { checkDisk } from "../src/modules/health/service";
import { freshDatabase, json, startTestApp, type TestApp } from "./helpers/app";
import { checkedFetch } from "./helpers/openapi";

let app: TestApp;

beforeAll(async () => {
  app = await startTestApp({ workers: false });
});
afterAll(() => app.stop());

describe("/healthz", () => {
  test("answers 200 while the process is alive", async () => {
    const res = await checkedFetch(app, "/healthz");
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: "ok" });
  });
});

describe("/readyz", () => {
  test("200 with every check passing", async () => {
    const res = await checkedFetch(app, "/readyz");
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toBe("no-store");
    const body = (await res.json()) as { status: string; checks: Record<string, { ok: boolean }> };
    expect(body.status).toBe("ready");
    expect(Object.keys(body.checks).sort()).toEqual(["accepting", "database", "disk", "media"]);
    for (const c of Object.values(body.checks)) expect(c.ok).toBe(true);
  });

  test("503 while shutting down", async () => {
    app.runtime.draining = true;
    try {
      const res = await checkedFetch(app, "/readyz");
      expect(res.status).toBe(503);
      const body = await json(res);
      expect(body.error.code).toBe("not_ready");
      expect(body.error.details.failing).toEqual(["accepting"]);
    } finally {
      app.runtime.draining = false;
    }
  });

  test("503 when the media directory cannot be written", async () => {
    const root = app.runtime.config.mediaRoot;
    renameSync(root, `${root}.moved`);
    writeFileSync(root, "not a directory");
    try {
      const res = await checkedFetch(app, "/readyz");
      expect(res.status).toBe(503);
      const body = await json(res);
      expect(body.error.details.failing).toContain("media");
      const checks = body.error.details.checks as Record<string, { ok: boolean; error?: string }>;
      expect(checks.media!.error).toBeString();
      expect(checks.database!.ok).toBe(true);
    } finally {
      rmSync(root);
      renameSync(`${root}.moved`, root);
      mkdirSync(root, { recursive: true });
    }
    expect((await checkedFetch(app, "/readyz")).status).toBe(200);
  });

  test("503 when the database is gone", async () => {
    const other = await startTestApp({ workers: false, databaseUrl: await freshDatabase() });
    try {
      const name = new URL(other.databaseUrl).pathname.slice(1);
      const admin = postgres(app.databaseUrl, { max: 1, onnotice: () => {} });
      await admin.unsafe(`drop database ${name} with (force)`);
      await admin.end();
      const res = await checkedFetch(other, "/readyz");
      expect(res.status).toBe(503);
      const body = await json(res);
      expect(body.error.details.failing).toEqual(["database"]);
    } finally {
      await other.stop();
    }
  });

  test("the disk check fails below the free-space floor", async () => {
    const roomy = await checkDisk(app.runtime.media, 0);
    expect(roomy.ok).toBe(true);
    expect(roomy.free_bytes as number).toBeGreaterThan(0);
    const full = await checkDisk(app.runtime.media, (roomy.total_bytes as number) + 1);
    expect(full.ok).toBe(false);
  });
});
