/**
 * Provider quotas: the quota day of each provider, the atomic per-day counter in PostgreSQL (also
 * across connections, as with several instances), the provider_daily_limit setting, the 429
 * `provider_quota_exhausted` refusal before any waiting, the provider's own "daily quota
 * exhausted" answer switching to the same state, and where it shows: /metrics, the dashboard
 * banner at 80 %, the Settings page.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { connectDatabase } from "../src/db/client";
import { quotaDay, quotaResetsAt, quotaState } from "../src/domain/quota";
import { ManualClock } from "../src/lib/clock";
import { createLogger } from "../src/lib/log";
import { Metrics } from "../src/metrics";
import { BACKOFF_TIMER } from "../src/providers/common";
import { QuotaService } from "../src/quota/service";
import { KEYS } from "../src/settings/service";
import { ProviderUsageStore } from "../src/store/provider-usage";
import { FakeGemini } from "./fakes/gemini";
import { api, fileForm, login } from "./helpers/admin";
import {
  ADMIN_PASSWORDS,
  dslrForm,
  json,
  postIngest,
  startTestApp,
  type TestApp,
  whenQueued,
} from "./helpers/app";
import { makeJpeg } from "./helpers/images";
import { parseExposition } from "./helpers/prometheus";

describe("quota days end where the provider's do", () => {
  test("gemini: midnight Pacific time, with daylight saving", () => {
    // 30 Nov 2026 07:59 UTC is 29 Nov 23:59 PST (UTC−8).
    expect(quotaDay("gemini", new Date("2026-11-30T07:59:00Z"))).toBe("2026-11-29");
    expect(quotaResetsAt("gemini", new Date("2026-11-30T07:59:00Z")).toISOString()).toBe(
      "2026-11-30T08:00:00.000Z",
    );
    expect(quotaDay("gemini", new Date("2026-11-30T08:00:00Z"))).toBe("2026-11-30");
    // In July it is PDT (UTC−7): the reset comes an hour earlier in UTC.
    expect(quotaResetsAt("gemini", new Date("2026-07-10T12:00:00Z")).toISOString()).toBe(
      "2026-07-11T07:00:00.000Z",
    );
  });

  test("openai: midnight UTC; turbotext: midnight Moscow (UTC+3)", () => {
    expect(quotaResetsAt("openai", new Date("2026-11-30T23:59:59Z")).toISOString()).toBe(
      "2026-12-01T00:00:00.000Z",
    );
    expect(quotaDay("turbotext", new Date("2026-11-30T21:30:00Z"))).toBe("2026-12-01");
    expect(quotaResetsAt("turbotext", new Date("2026-11-30T12:00:00Z")).toISOString()).toBe(
      "2026-11-30T21:00:00.000Z",
    );
  });

  test("the state: ratio, warning at 80 %, exhausted at 100 % or when the provider said so", () => {
    const at = new Date("2026-11-30T12:00:00Z");
    const usage = (requests: number, exhaustedAt: Date | null = null) => ({
      requests,
      exhaustedAt,
      exhaustedMessage: exhaustedAt ? "daily quota" : null,
    });
    expect(quotaState("gemini", at, usage(79), 100)).toMatchObject({
      usedRatio: 0.79,
      warning: false,
      exhausted: false,
    });
    expect(quotaState("gemini", at, usage(80), 100)).toMatchObject({ warning: true, exhausted: false });
    expect(quotaState("gemini", at, usage(100), 100)).toMatchObject({ usedRatio: 1, exhausted: true });
    expect(quotaState("gemini", at, usage(5000), null)).toMatchObject({ usedRatio: null, exhausted: false });
    expect(quotaState("gemini", at, usage(3, at), null)).toMatchObject({
      usedRatio: 1,
      exhausted: true,
      exhaustedByProvider: true,
    });
  });
});

const KEY = "AIzaQuotaKey-0123456789";
let fake: FakeGemini;
let app: TestApp;
let photo: Uint8Array;
/** The app's clock: a new quota day per test, and no time left for a retry in the NO_IMAGE test. */
const clock = new ManualClock(new Date(), { elapse: [BACKOFF_TIMER] });

beforeAll(async () => {
  fake = new FakeGemini([KEY]);
  app = await startTestApp({ clock, env: { GEMINI_BASE_URL: fake.url, GEMINI_API_KEY: KEY } });
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
beforeEach(async () => {
  fake.reset();
  // Each test starts on a fresh quota day: the clock moves to the next Gemini midnight (Pacific).
  clock.set(quotaResetsAt("gemini", clock.now()));
  await app.setSetting(KEYS.providerDailyLimit, { gemini: null, turbotext: null, openai: null });
  await app.setSyncSeconds(15);
});

async function geminiToday(): Promise<number> {
  const [row] = await app.sql<{ requests: number }[]>`
    select requests from provider_usage where provider = 'gemini' and day = ${quotaDay("gemini", clock.now())}`;
  return row?.requests ?? 0;
}

async function jobCount(): Promise<number> {
  const [row] = await app.sql<{ n: number }[]>`select count(*)::int as n from job where slot_id = 'slot-001'`;
  return row!.n;
}

async function scrape() {
  return parseExposition(await (await fetch(`${app.url}/metrics`)).text());
}

describe("counting", () => {
  test("one atomic upsert per request: parallel counts over separate connections add up exactly", async () => {
    const other = connectDatabase(app.databaseUrl, { max: 4 });
    try {
      const second = new QuotaService(
        new ProviderUsageStore(other.sql),
        app.runtime.clock,
        app.runtime.settings,
        new Metrics(),
        createLogger("error", () => {}),
      );
      await Promise.all([
        ...Array.from({ length: 30 }, () => app.runtime.quota.countRequest("gemini")),
        ...Array.from({ length: 30 }, () => second.countRequest("gemini")),
        second.countRequest("local"),
      ]);
      expect(await geminiToday()).toBe(60);
      const [local] = await app.sql<
        { n: number }[]
      >`select count(*)::int as n from provider_usage where provider = 'local'`;
      expect(local!.n).toBe(0);
    } finally {
      await other.close();
    }
  });
});

describe("a counter that cannot be written", () => {
  test("costs the guest nothing: the photo is processed and the failure is only logged", async () => {
    const serg = api(app, await login(app, "serg"));
    await app.sql`alter table provider_usage rename to provider_usage_away`;
    try {
      // A test run goes through the same worker and provider code as a booth upload.
      const res = await serg("POST", "/api/slots/slot-001/test-run", { form: fileForm("test_image", photo) });
      expect(res.status).toBe(200);
      expect(fake.requests).toHaveLength(1);
    } finally {
      await app.sql`alter table provider_usage_away rename to provider_usage`;
    }
    expect(await geminiToday()).toBe(0);
  });
});

describe("provider_daily_limit in the settings API", () => {
  test("set, read back, cleared with null; bad values are 422 and change nothing", async () => {
    const serg = api(app, await login(app, "serg"));
    let res = await serg("PUT", "/api/settings", {
      json: { provider_daily_limit: { gemini: 2000, openai: 50 } },
    });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { provider_daily_limit: unknown }).provider_daily_limit).toEqual({
      gemini: 2000,
      turbotext: null,
      openai: 50,
    });
    res = await serg("PUT", "/api/settings", { json: { provider_daily_limit: { openai: null } } });
    expect(((await res.json()) as { provider_daily_limit: unknown }).provider_daily_limit).toEqual({
      gemini: 2000,
      turbotext: null,
      openai: null,
    });
    for (const bad of [{ gemini: 0 }, { gemini: "many" }, { gemini: 1.5 }, { local: 10 }]) {
      res = await serg("PUT", "/api/settings", { json: { provider_daily_limit: bad } });
      expect(res.status).toBe(422);
    }
    const after = (await (await serg("GET", "/api/settings")).json()) as { provider_daily_limit: unknown };
    expect(after.provider_daily_limit).toEqual({ gemini: 2000, turbotext: null, openai: null });
    const usage = (await (await serg("GET", "/api/providers/usage")).json()) as {
      data: { provider: string; daily_limit: number | null; reset_zone: string }[];
    };
    expect(usage.data.find((u) => u.provider === "gemini")).toMatchObject({
      daily_limit: 2000,
      reset_zone: "America/Los_Angeles",
    });
  });
});

describe("at 100 % booth uploads are refused at once", () => {
  test("the limit: two photos pass, the third gets 429 provider_quota_exhausted with no job and no call", async () => {
    await app.setSetting(KEYS.providerDailyLimit, { gemini: 2, turbotext: null, openai: null });
    for (let i = 0; i < 2; i++) expect((await postIngest(app, "slot-001", dslrForm(photo))).status).toBe(200);
    expect(await geminiToday()).toBe(2);
    const jobsBefore = await jobCount();

    const res = await postIngest(app, "slot-001", dslrForm(photo));
    expect(res.status).toBe(429);
    const body = await json(res);
    expect(body.error.code).toBe("provider_quota_exhausted");
    expect(body.error.details).toMatchObject({ provider: "gemini", requests: 2, daily_limit: 2 });
    const resetsAt = new Date(String(body.error.details.resets_at));
    expect(resetsAt.toISOString()).toBe(quotaResetsAt("gemini", clock.now()).toISOString());
    expect(Number(res.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(await jobCount()).toBe(jobsBefore);
    expect(fake.requests).toHaveLength(2);

    const m = await scrape();
    expect(m.value("photochanger_provider_quota_used_ratio", { provider: "gemini" })).toBe(1);
    expect(m.value("photochanger_provider_requests_total", { provider: "gemini" })).toBeGreaterThanOrEqual(2);
    expect(
      m.value("photochanger_ingest_requests_total", {
        slot: "slot-001",
        provider: "gemini",
        outcome: "provider_quota_exhausted",
      }),
    ).toBe(1);

    // Raising the limit lets uploads through again at once.
    await app.setSetting(KEYS.providerDailyLimit, { gemini: 3, turbotext: null, openai: null });
    expect((await postIngest(app, "slot-001", dslrForm(photo))).status).toBe(200);
  });

  test("Gemini's own daily RESOURCE_EXHAUSTED: one call, no retries, then the same refusal until the reset", async () => {
    fake.answer({ kind: "quota", per: "day" });
    const first = await postIngest(app, "slot-001", dslrForm(photo));
    expect(first.status).toBe(502);
    expect(fake.requests).toHaveLength(1);
    const state = await app.runtime.quota.state("gemini");
    expect(state).toMatchObject({ exhausted: true, exhaustedByProvider: true });

    const second = await postIngest(app, "slot-001", dslrForm(photo));
    expect(second.status).toBe(429);
    expect((await json(second)).error.details).toMatchObject({ exhausted_by_provider: true });
    expect(fake.requests).toHaveLength(1);
  });

  test("a per-minute RESOURCE_EXHAUSTED is retried, and the retry is counted by reason", async () => {
    const before =
      (await scrape()).value("photochanger_provider_retries_total", {
        provider: "gemini",
        reason: "http_429",
      }) ?? 0;
    fake.answer({ kind: "quota", per: "minute" });
    const res = await postIngest(app, "slot-001", dslrForm(photo));
    expect(res.status).toBe(200);
    expect(fake.requests).toHaveLength(2);
    expect(await geminiToday()).toBe(2);
    expect((await app.runtime.quota.state("gemini")).exhausted).toBe(false);
    const after = (await scrape()).value("photochanger_provider_retries_total", {
      provider: "gemini",
      reason: "http_429",
    });
    expect(after).toBe(before + 1);
  });
});

describe("honest reasons", () => {
  test("a missing key: 502 invalid_config, the provider never called nor counted, stats say invalid_config", async () => {
    await app.configureSlot("slot-005", {
      provider: "gemini",
      operation: "image_edit",
      settings: { prompt: "Paint this photo as a bright watercolour" },
    });
    const saved = app.runtime.config.providers.gemini.apiKey;
    app.runtime.config.providers.gemini.apiKey = null;
    try {
      const res = await postIngest(app, "slot-005", dslrForm(photo));
      expect(res.status).toBe(502);
      expect((await json(res)).error.code).toBe("invalid_config");
    } finally {
      app.runtime.config.providers.gemini.apiKey = saved;
    }
    expect(fake.requests).toHaveLength(0);
    expect(await geminiToday()).toBe(0);

    clock.advance(1000); // the admin looks a second later (the app's clock is the test's)
    const serg = api(app, await login(app, "serg"));
    const stats = (await (await serg("GET", "/api/stats/slot-005")).json()) as {
      summary: Record<string, number>;
    };
    expect(stats.summary).toMatchObject({
      invalid_config: 1,
      provider_errors: 0,
      provider_no_image: 0,
      errors: 1,
    });
    const slot = (await (await serg("GET", "/api/slots/slot-005")).json()) as {
      stats: Record<string, number>;
    };
    expect(slot.stats).toMatchObject({ invalid_config: 1, provider_errors: 0, other_failures: 0 });
    const m = await scrape();
    expect(
      m.value("photochanger_provider_errors_total", { provider: "gemini", code: "invalid_config" }),
    ).toBeUndefined();
  });

  test("Gemini's repeated NO_IMAGE is counted as provider_no_image, apart from provider errors", async () => {
    await app.configureSlot("slot-006", {
      provider: "gemini",
      operation: "image_edit",
      settings: { prompt: "Paint this photo as a bright watercolour" },
    });
    fake.answer(...Array.from({ length: 5 }, () => ({ kind: "no_image" as const })));
    // T_sync 15 s, 12 s of it gone before the job runs: no time for another 3 s pause.
    const queued = whenQueued(app, () => clock.advance(12_000));
    const res = await postIngest(app, "slot-006", dslrForm(photo));
    await queued;
    expect(res.status).toBe(502);
    expect((await json(res)).error.code).toBe("provider_no_image");
    const serg = api(app, await login(app, "serg"));
    const stats = (await (await serg("GET", "/api/stats/slot-006")).json()) as {
      summary: Record<string, number> & { failure_reasons: Record<string, number> };
    };
    expect(stats.summary).toMatchObject({ provider_no_image: 1, provider_errors: 0, timeouts: 0, errors: 1 });
    expect(stats.summary.failure_reasons).toEqual({ provider_no_image: 1 });
    const m = await scrape();
    expect(
      m.value("photochanger_provider_errors_total", { provider: "gemini", code: "provider_no_image" }),
    ).toBe(1);
  });
});

describe("the pages", () => {
  async function cookie(): Promise<string> {
    const res = await fetch(`${app.url}/login`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", origin: app.url },
      body: new URLSearchParams({ username: "serg", password: ADMIN_PASSWORDS.serg, next: "/" }),
      redirect: "manual",
    });
    return res.headers.get("set-cookie")!.split(";")[0]!;
  }

  test("the dashboard warns at 80 % and says when the quota resets; at 100 % it says uploads are refused", async () => {
    const c = await cookie();
    await app.setSetting(KEYS.providerDailyLimit, { gemini: 5, turbotext: null, openai: null });
    for (let i = 0; i < 4; i++) await app.runtime.quota.countRequest("gemini");
    let html = await (await fetch(`${app.url}/?lang=en`, { headers: { cookie: c } })).text();
    expect(html).toContain('data-quota="gemini" data-state="warning"');
    expect(html).toContain("80 % of the daily quota used");
    expect(html).toContain("midnight Pacific time");
    expect(html).toContain("4 of 5 requests");

    await app.runtime.quota.countRequest("gemini");
    html = await (await fetch(`${app.url}/?lang=en`, { headers: { cookie: c } })).text();
    expect(html).toContain('data-quota="gemini" data-state="exhausted"');
    expect(html).not.toContain('data-state="warning"');
  });

  test("Settings: the limits form saves, empty means no limit, a bad value is shown on its field", async () => {
    const c = await cookie();
    const post = (form: Record<string, string>) =>
      fetch(`${app.url}/settings/limits`, {
        method: "POST",
        headers: {
          cookie: c,
          origin: app.url,
          "hx-request": "true",
          "content-type": "application/x-www-form-urlencoded",
        },
        body: new URLSearchParams(form),
      });
    let res = await post({
      "provider_daily_limit.gemini": "1500",
      "provider_daily_limit.turbotext": "",
      "provider_daily_limit.openai": "",
    });
    expect(res.status).toBe(200);
    expect((await app.runtime.settings.current()).providerDailyLimit).toEqual({
      gemini: 1500,
      turbotext: null,
      openai: null,
    });
    res = await post({ "provider_daily_limit.gemini": "-3" });
    expect(res.status).toBe(422);
    const html = await res.text();
    expect(html).toContain('data-field="provider_daily_limit.gemini"');
    expect(html).toContain("field invalid");
    expect((await app.runtime.settings.current()).providerDailyLimit.gemini).toBe(1500);

    const page = await (await fetch(`${app.url}/settings?lang=ru`, { headers: { cookie: c } })).text();
    expect(page).toContain("Дневные лимиты запросов");
    expect(page).toContain('hx-post="/settings/keys/gemini/check"');
    expect(page).toContain("Проверить");
  });

  test("the Check button answers inline, in the page's language", async () => {
    const c = await cookie();
    const res = await fetch(`${app.url}/settings/keys/gemini/check`, {
      method: "POST",
      headers: {
        cookie: c,
        origin: app.url,
        "hx-request": "true",
        "content-type": "application/x-www-form-urlencoded",
      },
      body: new URLSearchParams({ api_key: "AIzaTypedButWrong-000000" }),
    });
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain('data-ok="false"');
    expect(html).toContain('data-code="bad_key"');
    expect(html).toContain("Провайдер отклонил ключ.");
    // the provider's own (English) words are quoted under our sentence, never instead of it
    expect(html).toMatch(
      /Провайдер отклонил ключ\.<\/strong><div class="small" data-provider-words><span>Слова провайдера:<\/span> <q class="raw" lang="en" translate="no">/,
    );
    expect(html).not.toContain("AIzaTypedButWrong");

    const ok = await fetch(`${app.url}/settings/keys/gemini/check?lang=en`, {
      method: "POST",
      headers: { cookie: `${c}; pc_lang=en`, origin: app.url, "hx-request": "true" },
    });
    const okHtml = await ok.text();
    expect(okHtml).toContain('data-ok="true"');
    expect(okHtml).toContain("answered as expected");
  });
});
