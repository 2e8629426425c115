/**
 * A provider switched off by its own "daily quota exhausted" answer (issue 20, item 2): its next
 * successful job or check clears the flag, and so does an operator — `POST
 * /api/providers/{id}/resume`, the Resume button beside the quota banner, `photochanger provider
 * resume` — audited. A new install starts with Gemini's 2,000 requests a day; an install that
 * removed the limit keeps it removed; the dashboard says where no limit is set.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { KEYS } from "../src/settings/service";
import { FakeGemini } from "./fakes/gemini";
import { api, changeScopes, fileForm, login } from "./helpers/admin";
import { ADMIN_PASSWORDS, dslrForm, json, postIngest, startTestApp, type TestApp } from "./helpers/app";
import { runCli } from "./helpers/cli";
import { makeJpeg } from "./helpers/images";

const KEY = "AIzaResumeKey-0123456789";
let fake: FakeGemini;
let app: TestApp;
let photo: Uint8Array;

beforeAll(async () => {
  fake = new FakeGemini([KEY]);
  app = await startTestApp({ env: { GEMINI_BASE_URL: fake.url, GEMINI_API_KEY: KEY } });
  photo = await makeJpeg(160, 120);
  await app.configureSlot("slot-001", {
    provider: "gemini",
    operation: "image_edit",
    settings: { prompt: "Paint this photo as a bright watercolour" },
  });
});
afterAll(async () => {
  await app.stop();
  fake.stop();
});
beforeEach(() => fake.reset());

/** The booth's upload meets Gemini's daily RESOURCE_EXHAUSTED: the provider is switched off. */
async function exhaustGemini() {
  fake.answer({ kind: "quota", per: "day" });
  expect((await postIngest(app, "slot-001", dslrForm(photo))).status).toBe(502);
  expect(await app.runtime.quota.state("gemini")).toMatchObject({
    exhausted: true,
    exhaustedByProvider: true,
  });
  const refused = await postIngest(app, "slot-001", dslrForm(photo));
  expect(refused.status).toBe(429);
  expect((await json(refused)).error.code).toBe("provider_quota_exhausted");
}

async function resumedAudit() {
  return app.sql<{ actor: string; details: Record<string, unknown> }[]>`
    select actor, details from audit_log where action = 'provider.resumed' order by id`;
}

describe("the daily limit of a new install", () => {
  test("a fresh install has provider_daily_limit.gemini = 2000, editable and removable", async () => {
    const serg = api(app, await login(app, "serg"));
    const settings = (await (await serg("GET", "/api/settings")).json()) as {
      provider_daily_limit: Record<string, number | null>;
    };
    expect(settings.provider_daily_limit).toEqual({ gemini: 2000, turbotext: null, openai: null });
    const usage = (await (await serg("GET", "/api/providers/usage")).json()) as {
      data: { provider: string; daily_limit: number | null }[];
    };
    expect(usage.data.find((u) => u.provider === "gemini")?.daily_limit).toBe(2000);

    const removed = await serg("PUT", "/api/settings", { json: { provider_daily_limit: { gemini: null } } });
    expect(removed.status).toBe(200);
    // a later start of the same install (bootstrap runs at every start) does not bring it back
    await app.runtime.bootstrap();
    expect((await app.runtime.settings.current()).providerDailyLimit.gemini).toBeNull();
    // nor for an install from before the default (no limit stored at all)
    await app.runtime.settings.remove(KEYS.providerDailyLimit);
    await app.runtime.bootstrap();
    expect((await app.runtime.settings.current()).providerDailyLimit.gemini).toBeNull();
    await app.setSetting(KEYS.providerDailyLimit, { gemini: 2000 });
  });

  test("the dashboard says where no limit is set", async () => {
    const cookie = await pageCookie();
    const ru = await (await fetch(`${app.url}/?lang=ru`, { headers: { cookie } })).text();
    expect(ru).toMatch(/data-provider="openai">.*?запросов — лимит не задан/);
    expect(ru).toMatch(/data-provider="gemini">.*?из 2000 запросов/);
    const en = await (await fetch(`${app.url}/?lang=en`, { headers: { cookie } })).text();
    expect(en).toMatch(/data-provider="turbotext">.*?requests — no limit set/);
  });
});

describe("an exhausted flag clears", () => {
  test("by the next successful job on the provider (a test run), audited as the server's", async () => {
    await exhaustGemini();
    const serg = api(app, await login(app, "serg"));
    const run = await serg("POST", "/api/slots/slot-001/test-run", { form: fileForm("test_image", photo) });
    expect(run.status).toBe(200);
    expect((await app.runtime.quota.state("gemini")).exhausted).toBe(false);
    expect((await postIngest(app, "slot-001", dslrForm(photo))).status).toBe(200);
    expect((await resumedAudit()).at(-1)).toMatchObject({
      actor: "system",
      details: { provider: "gemini", reason: "job_succeeded" },
    });
  });

  test("by a successful provider check of the stored key", async () => {
    await exhaustGemini();
    const serg = api(app, await login(app, "serg"));
    const check = await serg("POST", "/api/providers/gemini/check", { json: {} });
    expect(((await check.json()) as { ok: boolean }).ok).toBe(true);
    expect((await app.runtime.quota.state("gemini")).exhausted).toBe(false);
    expect((await resumedAudit()).at(-1)).toMatchObject({
      actor: "serg",
      details: { provider: "gemini", reason: "check_passed" },
    });
    expect((await postIngest(app, "slot-001", dslrForm(photo))).status).toBe(200);
  });

  test("by POST /api/providers/{id}/resume: 200 with the quota state; 404 for a provider without quota; 403 without settings:write", async () => {
    await exhaustGemini();
    const serg = api(app, await login(app, "serg"));
    await changeScopes(app, "serg", { remove: ["settings:write"] });
    expect((await serg("POST", "/api/providers/gemini/resume")).status).toBe(403);
    await changeScopes(app, "serg", { add: ["settings:write"] });
    expect((await app.runtime.quota.state("gemini")).exhausted).toBe(true);

    const res = await serg("POST", "/api/providers/gemini/resume");
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      provider: "gemini",
      daily_limit: 2000,
      exhausted: false,
      exhausted_by_provider: false,
      exhausted_message: null,
    });
    expect((await resumedAudit()).at(-1)).toMatchObject({
      actor: "serg",
      details: { provider: "gemini", reason: "operator" },
    });
    expect((await postIngest(app, "slot-001", dslrForm(photo))).status).toBe(200);

    const local = await serg("POST", "/api/providers/local/resume");
    expect(local.status).toBe(404);
    expect((await json(local)).error.code).toBe("provider_not_found");
  });

  test("by `photochanger provider resume <id>`; a daily limit of ours that is used up stays (exit 1)", async () => {
    const env = { DATABASE_URL: app.databaseUrl, PHOTOCHANGER_DATA_DIR: app.dataDir };
    await exhaustGemini();
    const r = await runCli(["provider", "resume", "gemini"], env);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("gemini: resumed");
    expect((await app.runtime.quota.state("gemini")).exhausted).toBe(false);
    expect((await resumedAudit()).at(-1)).toMatchObject({ actor: "cli", details: { reason: "operator" } });

    const bad = await runCli(["provider", "resume", "local"], env);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('cannot resume "local"');
    expect((await runCli(["provider", "resume"], env)).code).toBe(2);

    const used = (await app.runtime.quota.state("gemini")).requests;
    await app.setSetting(KEYS.providerDailyLimit, { gemini: used });
    const limited = await runCli(["provider", "resume", "gemini"], env);
    expect(limited.code).toBe(1);
    expect(limited.stdout).toContain("still refused");
    await app.setSetting(KEYS.providerDailyLimit, { gemini: 2000 });
  });
});

async function pageCookie(): Promise<string> {
  const res = await fetch(`${app.url}/login`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", origin: app.url },
    body: new URLSearchParams({ username: "serg", password: ADMIN_PASSWORDS.serg }),
    redirect: "manual",
  });
  return res.headers.get("set-cookie")!.split(";")[0]!;
}

describe("the console", () => {
  test("the exhausted banner carries a Resume button (confirmed) that switches the provider back on", async () => {
    await exhaustGemini();
    const cookie = await pageCookie();
    const dash = await (await fetch(`${app.url}/?lang=ru`, { headers: { cookie } })).text();
    expect(dash).toContain('data-quota="gemini" data-state="exhausted"');
    expect(dash).toContain('data-resume="gemini"');
    expect(dash).toContain('hx-post="/providers/gemini/resume"');
    expect(dash).toContain("data-confirm=");
    const en = await (await fetch(`${app.url}/settings?lang=en`, { headers: { cookie } })).text();
    expect(en).toContain(">Resume<");

    const res = await fetch(`${app.url}/providers/gemini/resume?lang=ru`, {
      method: "POST",
      headers: { cookie, origin: app.url, "hx-request": "true" },
    });
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain('id="quota-banners"');
    expect(html).toContain("фото снова принимаются");
    expect(html).not.toContain('data-state="exhausted"');
    expect((await app.runtime.quota.state("gemini")).exhausted).toBe(false);
    expect((await resumedAudit()).at(-1)).toMatchObject({ actor: "serg" });
    const audit = await (await fetch(`${app.url}/audit?lang=ru`, { headers: { cookie } })).text();
    expect(audit).toContain("провайдер снова принимает фото");
    expect(audit).toContain("оператор возобновил");
  });

  test("a limit of ours used up offers to raise the limit, not Resume", async () => {
    const used = (await app.runtime.quota.state("gemini")).requests;
    await app.setSetting(KEYS.providerDailyLimit, { gemini: Math.max(1, used) });
    const cookie = await pageCookie();
    const dash = await (await fetch(`${app.url}/?lang=ru`, { headers: { cookie } })).text();
    expect(dash).toContain('data-state="exhausted"');
    expect(dash).not.toContain("data-resume=");
    expect(dash).toContain('href="/settings#quota-limits"');
    await app.setSetting(KEYS.providerDailyLimit, { gemini: 2000 });
  });
});
