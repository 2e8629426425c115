/**
 * Money per event (SPEC §11): `provider_price` × the provider answers that carried an image
 * (src/domain/cost.ts), in `/api/stats/global`, `/api/stats/{slot}`, the statistics pages, the CSV
 * and the dashboard's "today".
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { costOf } from "../src/domain/cost";
import { FakeGemini } from "./fakes/gemini";
import { api, fileForm, login } from "./helpers/admin";
import { dslrForm, json, postIngest, startTestApp, type TestApp } from "./helpers/app";
import { makeJpeg } from "./helpers/images";

describe("the cost rule", () => {
  test("billed requests × price per provider; providers without a price are counted apart", () => {
    const c = costOf({ gemini: 3, openai: 2, local: 9 }, { gemini: 0.039, turbotext: 12, openai: null });
    expect(c.total).toBe(0.117);
    expect(c.byProvider.gemini).toEqual({ requests: 3, price: 0.039, cost: 0.117 });
    expect(c.byProvider.turbotext).toEqual({ requests: 0, price: 12, cost: 0 });
    expect(c.byProvider.openai).toEqual({ requests: 2, price: null, cost: null });
    expect(c.unpricedRequests).toBe(2);
    expect(costOf({}, { gemini: null, turbotext: null, openai: null }).total).toBe(0);
  });
});

const KEY = "AIzaTestKey-cost-0123456789";
let fake: FakeGemini;
let app: TestApp;
let photo: Uint8Array;
let serg: ReturnType<typeof api>;
let cookie: string;
let from: string;

beforeAll(async () => {
  fake = new FakeGemini([KEY]);
  app = await startTestApp({ env: { GEMINI_BASE_URL: fake.url, GEMINI_API_KEY: KEY } });
  photo = await makeJpeg(320, 240);
  for (const id of ["slot-001", "slot-002"]) {
    await app.configureSlot(id, {
      provider: "gemini",
      operation: "image_edit",
      settings: { prompt: "paint it" },
    });
  }
  const session = await login(app, "serg");
  serg = api(app, session);
  cookie = session.cookie;
  from = new Date(Date.now() - 3_600_000).toISOString();
});
afterAll(async () => {
  await app.stop();
  fake.stop();
});

interface CostBody {
  cost: number;
  currency: string;
  cost_detail: {
    by_provider: Record<string, { requests: number; price: number | null; cost: number | null }>;
    unpriced_requests: number;
  };
}

const range = () => `from=${from}&to=${new Date(Date.now() + 60_000).toISOString()}`;

describe("cost in the statistics", () => {
  test("prices and currency are settings; bad ones are refused and change nothing", async () => {
    const initial = (await (await serg("GET", "/api/settings")).json()) as {
      provider_price: Record<string, number | null>;
      currency: string;
    };
    expect(initial.provider_price).toEqual({ gemini: null, turbotext: null, openai: null });
    expect(initial.currency).toBe("USD");
    for (const bad of [
      { provider_price: { gemini: -1 } },
      { provider_price: { gemini: "0.039" } },
      { provider_price: { local: 1 } },
      { currency: "usd" },
      { currency: "DOLLARS" },
    ]) {
      const res = await serg("PUT", "/api/settings", { json: bad });
      expect(res.status).toBe(422);
      expect((await json(res)).error.code).toBe("validation_failed");
    }
    const ok = await serg("PUT", "/api/settings", {
      json: { provider_price: { gemini: 0.039 }, currency: "EUR" },
    });
    expect(ok.status).toBe(200);
    const after = (await ok.json()) as typeof initial;
    expect(after.provider_price).toEqual({ gemini: 0.039, turbotext: null, openai: null });
    expect(after.currency).toBe("EUR");
  });

  test("an answer with an image is billed — booth or test run — a refusal is not", async () => {
    fake.reset();
    expect((await postIngest(app, "slot-001", dslrForm(photo))).status).toBe(200);
    expect((await postIngest(app, "slot-001", dslrForm(photo))).status).toBe(200);
    fake.answer({ kind: "finish", reason: "IMAGE_SAFETY" });
    expect((await postIngest(app, "slot-001", dslrForm(photo))).status).toBe(422);
    fake.answer({ kind: "error", status: 400, rpcStatus: "INVALID_ARGUMENT" });
    expect((await postIngest(app, "slot-002", dslrForm(photo))).status).toBe(502);
    expect(
      (await serg("POST", "/api/slots/slot-002/test-run", { form: fileForm("test_image", photo) })).status,
    ).toBe(200);
    // the provider was called five times; three answers carried an image
    expect(fake.requests).toHaveLength(5);

    const global = (await (await serg("GET", `/api/stats/global?${range()}`)).json()) as CostBody;
    expect(global.cost).toBe(0.117);
    expect(global.currency).toBe("EUR");
    expect(global.cost_detail.by_provider.gemini).toEqual({ requests: 3, price: 0.039, cost: 0.117 });
    expect(global.cost_detail.unpriced_requests).toBe(0);

    const one = (await (await serg("GET", `/api/stats/slot-001?${range()}`)).json()) as CostBody;
    expect(one.cost).toBe(0.078);
    const two = (await (await serg("GET", `/api/stats/slot-002?${range()}`)).json()) as CostBody;
    expect(two.cost).toBe(0.039);
    const openaiOnly = (await (
      await serg("GET", `/api/stats/global?${range()}&provider=openai`)
    ).json()) as CostBody;
    expect(openaiOnly.cost).toBe(0);
  });

  test("a provider without a price is reported, not guessed", async () => {
    await app.setSetting("provider_price", { gemini: null });
    const body = (await (await serg("GET", `/api/stats/global?${range()}`)).json()) as CostBody;
    expect(body.cost).toBe(0);
    expect(body.cost_detail.unpriced_requests).toBe(3);
    await app.setSetting("provider_price", { gemini: 0.039 });
  });

  test("the pages show it: statistics tile and column, CSV column, today's spend on the dashboard", async () => {
    const stats = await (await fetch(`${app.url}/stats?lang=en`, { headers: { cookie } })).text();
    expect(stats).toContain('data-kpi="cost" data-cost="0.117"');
    expect(stats).toContain("€0.117");
    expect(stats).toMatch(/<tr data-slot="slot-001">.*?data-cost="0.078"/s);

    const csv = await (await fetch(`${app.url}/stats.csv?period=24h`, { headers: { cookie } })).text();
    const [header, ...rows] = csv.trim().split("\n");
    const cols = header!.split(",");
    expect(cols.slice(-2)).toEqual(["cost", "currency"]);
    const slot1 = rows.find((r) => r.startsWith("slot-001,"))!.split(",");
    expect(slot1[cols.indexOf("cost")]).toBe("0.078");
    expect(slot1[cols.indexOf("currency")]).toBe("EUR");

    const slotPage = await (await fetch(`${app.url}/stats/slots/slot-002`, { headers: { cookie } })).text();
    expect(slotPage).toContain('data-kpi="cost" data-cost="0.039"');

    const dashboard = await (await fetch(`${app.url}/`, { headers: { cookie } })).text();
    expect(dashboard).toContain('data-kpi="spend_today" data-cost="0.117"');
  });

  test("the settings page edits prices; a bad one is shown, not saved", async () => {
    const page = await (await fetch(`${app.url}/settings`, { headers: { cookie } })).text();
    expect(page).toContain('name="provider_price.gemini"');
    expect(page).toContain("gemini-2.5-flash-image $0.039");
    const post = (body: Record<string, string>) =>
      fetch(`${app.url}/settings/prices`, {
        method: "POST",
        headers: { cookie, origin: app.url, "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams(body).toString(),
      });
    const bad = await post({ currency: "EUR", "provider_price.gemini": "-5" });
    expect(bad.status).toBe(422);
    expect((await app.runtime.settings.current()).providerPrice.gemini).toBe(0.039);
    const good = await post({ currency: "rub", "provider_price.gemini": "3,5", "provider_price.openai": "" });
    expect(good.status).toBe(200);
    const s = await app.runtime.settings.current();
    expect(s.providerPrice).toEqual({ gemini: 3.5, turbotext: null, openai: null });
    expect(s.currency).toBe("RUB");
  });
});
