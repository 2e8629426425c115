/**
 * `photochanger provider check` / POST /api/providers/{id}/check against the wire-format fakes:
 * a working account reports latency, models, balance or rate limits; each failure an operator
 * meets is explained in its own words — no key, a bad key, an unknown model, a public URL the
 * provider cannot reach, an exhausted quota.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { quotaDay, quotaResetsAt } from "../src/domain/quota";
import { ManualClock } from "../src/lib/clock";
import { type CheckReport, checkProvider } from "../src/modules/providers/check";
import { BACKOFF_TIMER } from "../src/providers/common";
import { KEYS } from "../src/settings/service";
import { FakeGemini } from "./fakes/gemini";
import { FakeOpenAI } from "./fakes/openai";
import { FakeTurbotext } from "./fakes/turbotext";
import { api, login } from "./helpers/admin";
import { startTestApp, type TestApp } from "./helpers/app";
import { baseEnv, freePort, MAIN } from "./helpers/cli";
import { checkedApi } from "./helpers/openapi";

const GEMINI_KEY = "AIzaCheckKey-0123456789";
const OPENAI_KEY = "sk-check-0123456789abcdef";
const TURBO_KEY = "turbo-check-key";
let gemini: FakeGemini;
let openai: FakeOpenAI;
let turbo: FakeTurbotext;
let app: TestApp;
/** The app's clock: each test starts on a fresh quota day for every provider. */
const clock = new ManualClock(new Date(), { elapse: [BACKOFF_TIMER] });

beforeAll(async () => {
  gemini = new FakeGemini([GEMINI_KEY]);
  openai = new FakeOpenAI([OPENAI_KEY]);
  turbo = new FakeTurbotext([TURBO_KEY]);
  app = await startTestApp({
    clock,
    env: {
      GEMINI_BASE_URL: gemini.url,
      GEMINI_API_KEY: GEMINI_KEY,
      OPENAI_BASE_URL: openai.url,
      OPENAI_API_KEY: OPENAI_KEY,
      TURBOTEXT_BASE_URL: turbo.url,
      TURBOTEXT_API_KEY: TURBO_KEY,
    },
  });
});
afterAll(async () => {
  await app.stop();
  gemini.stop();
  openai.stop();
  turbo.stop();
});
beforeEach(async () => {
  gemini.reset();
  openai.reset();
  turbo.reset();
  gemini.models = new Set(["gemini-2.5-flash-image", "gemini-3-pro-image-preview"]);
  const now = clock.now();
  clock.set(
    new Date(
      Math.max(...(["gemini", "openai", "turbotext"] as const).map((p) => quotaResetsAt(p, now).getTime())),
    ),
  );
  await app.setSetting(KEYS.publicBaseUrl, app.url);
});

const check = (id: "gemini" | "openai" | "turbotext", o: { apiKey?: string; model?: string } = {}) =>
  checkProvider(app.runtime, id, o);

async function requestsToday(provider: "gemini" | "openai" | "turbotext"): Promise<number> {
  const [row] = await app.sql<{ requests: number }[]>`
    select requests from provider_usage where provider = ${provider} and day = ${quotaDay(provider, clock.now())}`;
  return row?.requests ?? 0;
}

describe("gemini", () => {
  test("a working key: the account's image models, the model, one tiny edit, counted once", async () => {
    const r = await check("gemini");
    expect(r.ok).toBe(true);
    expect(r.code).toBeNull();
    expect(r.model).toBe("gemini-2.5-flash-image");
    expect(r.account.image_models).toEqual(["gemini-2.5-flash-image", "gemini-3-pro-image-preview"]);
    expect(r.steps.map((s) => [s.name, s.ok])).toEqual([
      ["models", true],
      ["model", true],
      ["edit", true],
    ]);
    expect(r.steps[2]!.detail).toContain("40×30");
    expect(r.latency_ms).toBeGreaterThan(0);
    // The edit is a real generateContent with the test card and a prompt.
    const edit = gemini.requests.find((q) => q.answer === "image")!;
    expect(edit.parts.map((p) => p.kind)).toEqual(["image", "text"]);
    expect(await requestsToday("gemini")).toBe(1);
    expect(r.quota).toMatchObject({
      requests_today: 1,
      // a new install's default (issue 20)
      daily_limit: 2000,
      exhausted: false,
      reset_zone: "America/Los_Angeles",
    });
  });

  test("a bad key is named as such, and nothing is generated", async () => {
    const r = await check("gemini", { apiKey: "AIzaWrongKey-000000000" });
    expect(r.ok).toBe(false);
    expect(r.code).toBe("bad_key");
    expect(r.reason).toContain("rejected the API key");
    expect(r.reason).not.toContain("AIzaWrongKey");
    expect(gemini.requests.some((q) => q.answer === "image")).toBe(false);
  });

  test("a provider that quotes the key in its error: neither the reason nor any step shows it", async () => {
    gemini.quoteKeyInErrors = true;
    try {
      const r = await check("gemini", { apiKey: "AIzaQuotedKey-000000000" });
      expect(r.code).toBe("bad_key");
      expect(r.steps.length).toBeGreaterThan(0);
      expect(JSON.stringify(r)).not.toContain("AIzaQuotedKey");
    } finally {
      gemini.quoteKeyInErrors = false;
    }
  });

  test("a model the account cannot use: the reason lists the ones it can", async () => {
    gemini.models = new Set(["gemini-2.5-flash-image"]);
    const r = await check("gemini", { model: "gemini-3-pro-image-preview" });
    expect(r.code).toBe("unknown_model");
    expect(r.reason).toContain('cannot use the model "gemini-3-pro-image-preview"');
    expect(r.reason).toContain("gemini-2.5-flash-image");
    expect(await requestsToday("gemini")).toBe(0);
  });

  test("the daily quota is exhausted: said so, no retries, and the provider's slots stop taking uploads", async () => {
    gemini.answer({ kind: "quota", per: "day" });
    const r = await check("gemini");
    expect(r.code).toBe("quota_exhausted");
    expect(r.reason).toContain("daily quota is exhausted");
    expect(gemini.requests.filter((q) => q.model === "gemini-2.5-flash-image")).toHaveLength(1);
    expect(r.quota?.exhausted).toBe(true);
    expect((await app.runtime.quota.state("gemini")).exhaustedByProvider).toBe(true);
  });

  test("no key anywhere", async () => {
    const saved = app.runtime.config.providers.gemini.apiKey;
    app.runtime.config.providers.gemini.apiKey = null;
    try {
      const r = await check("gemini");
      expect(r.code).toBe("no_key");
      expect(r.reason).toContain("GEMINI_API_KEY");
      expect(gemini.requests).toHaveLength(0);
    } finally {
      app.runtime.config.providers.gemini.apiKey = saved;
    }
  });
});

describe("openai", () => {
  test("a working key: the model, one tiny edit, the rate limits OpenAI reports", async () => {
    const r = await check("openai");
    expect(r.ok).toBe(true);
    expect(r.model).toBe("gpt-image-1.5");
    expect(r.account.rate_limits).toMatchObject({ limit_requests: "50", remaining_requests: "49" });
    expect(openai.requests).toHaveLength(1);
    expect(await requestsToday("openai")).toBe(1);
  });

  test("bad key, unknown model, exhausted quota", async () => {
    const bad = await check("openai", { apiKey: "sk-wrong-000000000000" });
    expect(bad.code).toBe("bad_key");
    expect(bad.reason).not.toContain("sk-wrong");

    const unknown = await check("openai", { model: "gpt-image-9" });
    expect(unknown.code).toBe("unknown_model");
    expect(unknown.reason).toContain("gpt-image-1.5");
    expect(unknown.account.image_models).toContain("gpt-image-1");

    openai.answer({ kind: "insufficient_quota" });
    const quota = await check("openai");
    expect(quota.code).toBe("quota_exhausted");
    expect(openai.requests.filter((q) => q.answer === "insufficient_quota")).toHaveLength(1);
  });
});

describe("turbotext", () => {
  test("a tiny queued job through the public media URL; the balance Turbotext reports", async () => {
    turbo.script({ reconnects: 1 });
    const r = await check("turbotext");
    expect(r.ok).toBe(true);
    expect(r.account.balance).toEqual({ foto_limit: 99, text_limit: 0 });
    const create = turbo.calls.find((c) => c.do === "create_queue")!;
    // Turbotext really downloaded the photo from this server's public address.
    expect(create.inputs[0]).toMatchObject({ field: "url", status: 200, width: 128, height: 128 });
    expect(create.inputs[0]!.url.startsWith(`${app.url}/public/media/`)).toBe(true);
    expect(await requestsToday("turbotext")).toBe(1);
  });

  test("an address Turbotext cannot download from: the box is not reachable", async () => {
    await app.setSetting(KEYS.publicBaseUrl, `http://127.0.0.1:${await freePort()}`);
    const r = await check("turbotext");
    expect(r.code).toBe("unreachable_public_url");
    expect(r.reason).toContain("not reachable from the internet");
  });

  test("no public address at all", async () => {
    await app.setSetting(KEYS.publicBaseUrl, null);
    const r = await check("turbotext");
    expect(r.code).toBe("no_public_url");
    expect(turbo.calls).toHaveLength(0);
  });

  test("bad key and an empty balance", async () => {
    expect((await check("turbotext", { apiKey: "nope" })).code).toBe("bad_key");
    turbo.script({ createError: "LIMIT" });
    const r = await check("turbotext");
    expect(r.code).toBe("quota_exhausted");
    expect(r.reason).toContain("balance is used up");
  });
});

describe("the API and the command", () => {
  test("POST /api/providers/{id}/check needs settings:write and answers the report", async () => {
    const serg = checkedApi(app, api(app, await login(app, "serg")));
    const res = await serg("POST", "/api/providers/gemini/check", {
      json: { model: "gemini-2.5-flash-image" },
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as CheckReport;
    expect(body.ok).toBe(true);
    expect((await serg("POST", "/api/providers/local/check")).status).toBe(404);
    expect((await checkedApi(app, api(app, null))("POST", "/api/providers/gemini/check")).status).toBe(401);
  });

  test("the CLI: exit 0 with the report, exit 1 with the reason in plain words, --json", async () => {
    const env = baseEnv({
      DATABASE_URL: app.databaseUrl,
      PHOTOCHANGER_DATA_DIR: app.dataDir,
      GEMINI_BASE_URL: gemini.url,
      GEMINI_API_KEY: GEMINI_KEY,
    });
    const run = async (args: string[]) => {
      const p = Bun.spawn([process.execPath, MAIN, ...args], { env, stdout: "pipe", stderr: "pipe" });
      const [stdout, stderr, code] = await Promise.all([
        new Response(p.stdout).text(),
        new Response(p.stderr).text(),
        p.exited,
      ]);
      return { stdout, stderr, code };
    };
    const ok = await run(["provider", "check", "gemini"]);
    expect(ok.stderr).toBe("");
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain("gemini: OK");
    expect(ok.stdout).toContain("models:   gemini-2.5-flash-image, gemini-3-pro-image-preview");

    const bad = await run(["provider", "check", "gemini", "--key", "AIzaWrongKey-000000000", "--json"]);
    expect(bad.code).toBe(1);
    const report = JSON.parse(bad.stdout) as CheckReport;
    expect(report).toMatchObject({ ok: false, code: "bad_key" });

    const usage = await run(["provider", "check", "local"]);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain("expected gemini, turbotext or openai");
  });
});
