/**
 * Every word in Russian: each page (and the fragments htmx swaps in: validation errors, a failed
 * test run, the banner) is rendered in Russian with every provider and operation configured on
 * some slot, failed and cancelled jobs in the log, refusals, notifications and audit entries — and
 * the visible text may contain no English word except product names and formats.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import {
  ADMIN_PASSWORDS,
  dslrFields,
  dslrForm,
  LogWatch,
  postIngest,
  startTestApp,
  type TestApp,
} from "./helpers/app";
import { makeJpeg } from "./helpers/images";
import { englishWords, visibleTexts } from "./helpers/untranslated";

const watch = new LogWatch();
let app: TestApp;
let cookie: string;
let photo: Uint8Array;
const jobIds: Record<string, string> = {};
let shareId = "";

/** Every provider × operation of the default catalogue, one slot each. */
const COMBOS: [string, string, Record<string, unknown>][] = [
  ["gemini", "image_edit", { prompt: "Сделай портрет" }],
  ["gemini", "style_transfer", { prompt: "В стиле шаблона" }],
  ["gemini", "identity_transfer", { prompt: "Лицо с шаблона" }],
  ["turbotext", "image2image", { prompt: "Портрет" }],
  ["turbotext", "style_transfer", {}],
  ["turbotext", "identity_transfer", {}],
  ["openai", "image_edit", { prompt: "Портрет" }],
  ["openai", "style_transfer", { prompt: "Стиль" }],
  ["openai", "identity_transfer", { prompt: "Лицо" }],
  ["local", "passthrough", { simulate_delay_ms: 20_000 }],
  ["local", "greyscale", {}],
  ["local", "brighten", {}],
  ["local", "resize", {}],
];

function get(path: string, lang = "ru", withCookie = true) {
  const sep = path.includes("?") ? "&" : "?";
  return fetch(`${app.url}${path}${sep}lang=${lang}`, {
    headers: { ...(withCookie ? { cookie } : {}), accept: "text/html" },
    redirect: "manual",
  });
}

function htmx(path: string, form: Record<string, string>) {
  return fetch(`${app.url}${path}`, {
    method: "POST",
    headers: {
      cookie: `${cookie}; pc_lang=ru`,
      origin: app.url,
      "hx-request": "true",
      "content-type": "application/x-www-form-urlencoded",
    },
    body: new URLSearchParams(form),
  });
}

async function expectRussian(what: string, html: string) {
  const words = englishWords(await visibleTexts(html));
  expect({ what, english: words }).toEqual({ what, english: [] });
}

beforeAll(async () => {
  app = await startTestApp({ onLogLine: watch.sink });
  photo = await makeJpeg(64, 48);
  const login = await fetch(`${app.url}/login`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", origin: app.url },
    body: new URLSearchParams({ username: "serg", password: ADMIN_PASSWORDS.serg }),
    redirect: "manual",
  });
  cookie = login.headers.get("set-cookie")!.split(";")[0]!;
  for (const [i, [provider, operation, settings]] of COMBOS.entries()) {
    await app.configureSlot(`slot-${String(i + 1).padStart(3, "0")}`, { provider, operation, settings });
  }
  // a booth success (local greyscale), a provider failure (gemini without a key), refusals
  const ok = await postIngest(app, "slot-011", dslrForm(photo));
  jobIds.ok = ok.headers.get("x-job-id")!;
  const failed = await postIngest(app, "slot-001", dslrForm(photo));
  jobIds.failed = failed.headers.get("x-job-id")!;
  await postIngest(app, "slot-002", dslrForm(photo, dslrFields({ password: "stale-password" })));
  await app.configureSlot("slot-015", { enabled: false });
  await postIngest(app, "slot-015", dslrForm(photo));
  // a job cancelled by serg while the local provider "works" for 20 s
  const dispatched = watch.next("job.dispatched", { slot: "slot-010" });
  void postIngest(app, "slot-010", dslrForm(photo)).catch(() => {});
  const running = String((await dispatched).job_id);
  await htmx(`/jobs/${running}/cancel`, {});
  jobIds.cancelled = running;
  const share = await htmx("/gallery/share", { minutes: "60" });
  shareId = (await share.text()).match(/\/g\/([A-Za-z0-9_-]+)/)?.[1] ?? "";
  await app.runtime.settings.setIngestPassword("a-new-booth-pass", "serg");
});
afterAll(() => app?.stop());

describe("every page in Russian", () => {
  test("the detector finds English words and lets names and formats through", async () => {
    const html =
      '<p title="Strength">Сила <code>fileToUpload</code> <q translate="no">Upstream said no</q></p>' +
      "<p>Expected required property</p><p>JPEG, PNG, WebP · Google Gemini · slot-001 · gemini-2.5-flash-image</p>";
    const words = englishWords(await visibleTexts(html)).map((w) => w.word);
    expect(words).toEqual(["Strength", "Expected", "required", "property"]);
  });

  test("admin pages", async () => {
    const pages = [
      "/",
      "/gallery",
      "/jobs",
      "/jobs?status=failed",
      `/jobs/${jobIds.ok}`,
      `/jobs/${jobIds.failed}`,
      `/jobs/${jobIds.cancelled}`,
      "/settings",
      "/stats",
      "/stats?period=7d",
      "/stats?period=30d",
      "/system",
      "/audit",
      "/account",
      "/stats/slots/slot-011",
      ...COMBOS.map((_, i) => `/slots/slot-${String(i + 1).padStart(3, "0")}`),
      "/slots/slot-014",
      "/slots/slot-015",
    ];
    for (const path of pages) {
      const res = await get(path);
      expect({ path, status: res.status }).toEqual({ path, status: 200 });
      await expectRussian(path, await res.text());
    }
  });

  test("guest pages and error pages", async () => {
    for (const path of [
      `/r/${jobIds.ok}`,
      "/r/00000000-0000-4000-8000-000000000000",
      `/g/${shareId}`,
      "/g/no-such-share-link-000000000000000",
      "/no/such/page",
      "/slots/slot-099",
      "/login",
    ]) {
      const res = await get(path, "ru", path === "/slots/slot-099");
      await expectRussian(path, await res.text());
    }
  });

  test("fragments: validation errors, a failed test run, the banner, the live parts", async () => {
    const bad = await htmx("/slots/slot-012", {
      name: "",
      enabled: "true",
      provider: "local",
      operation: "brighten",
      "s.factor": "abc",
      "s.brightness": "abc",
      output_format: "jpeg",
      size_limit_mb: "500",
    });
    expect(bad.status).toBe(422);
    const badHtml = await bad.text();
    expect(badHtml).toContain("field-error");
    expect(badHtml).toMatch(/Не больше 50|Целое число|Введите число/);
    await expectRussian("slot form errors", badHtml);

    const settings = await htmx("/settings", { sync_response_seconds: "5", result_retention_hours: "1000" });
    const settingsHtml = await settings.text();
    expect(settingsHtml).toContain("Целое число от 10 до 60");
    await expectRussian("settings errors", settingsHtml);

    const form = new FormData();
    form.append("test_image", new File([photo as Uint8Array<ArrayBuffer>], "t.jpg", { type: "image/jpeg" }));
    const testRun = await fetch(`${app.url}/slots/slot-001/test`, {
      method: "POST",
      headers: { cookie: `${cookie}; pc_lang=ru`, origin: app.url, "hx-request": "true" },
      body: form,
    });
    const testHtml = await testRun.text();
    expect(testHtml).toContain("Тест не прошёл");
    await expectRussian("failed test run", testHtml);

    for (const path of ["/partials/attention", "/partials/slots-live", "/partials/live-queue"]) {
      const res = await fetch(`${app.url}${path}`, {
        headers: { cookie: `${cookie}; pc_lang=ru`, "hx-request": "true" },
      });
      await expectRussian(path, await res.text());
    }
  });

  test("and the English pages carry no Russian", async () => {
    for (const path of [
      "/",
      "/slots/slot-004",
      `/jobs/${jobIds.cancelled}`,
      "/system",
      "/audit",
      "/account",
    ]) {
      const html = await (await get(path, "en")).text();
      const texts = await visibleTexts(html);
      // slot names the operator typed are Russian here; everything else must be English
      const russian = texts
        .filter((t) => /[А-Яа-яЁё]/.test(t))
        .filter((t) => !/Сделай портрет|В стиле шаблона|Лицо с шаблона|Портрет|Стиль|Лицо|RU/.test(t));
      expect({ path, russian }).toEqual({ path, russian: [] });
    }
  });
});
