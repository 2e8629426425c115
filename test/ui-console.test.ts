/**
 * Issue 23, "the console an operator enjoys", over plain HTTP: what the pages say (the timeline of a
 * job that never reached its provider, the audit log in words, Russian plurals, no English in the
 * Russian pages), the statistics' "today" and refusals, sessions named by their browser, the
 * confirmations the console asks itself (no `hx-confirm`, no `confirm()`), and the theme switch.
 * The browser sweep (test/ui-browser.test.ts) covers what needs a browser.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { eq } from "drizzle-orm";
import { job } from "../src/db/schema";
import { describeUserAgent, nameUserAgent } from "../src/lib/user-agent";
import { todaySoFar } from "../src/modules/stats/service";
import { pt } from "../templates/i18n/providers";
import { ru } from "../templates/i18n/ru";
import { jobMessage, type View } from "../templates/view";
import {
  ADMIN_PASSWORDS,
  dslrFields,
  dslrForm,
  INGEST_PASSWORD,
  postIngest,
  startTestApp,
  type TestApp,
  whenQueued,
} from "./helpers/app";
import { makeJpeg } from "./helpers/images";

let app: TestApp;
let cookie: string;

const UA_FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";

async function loginAs(username: keyof typeof ADMIN_PASSWORDS, userAgent = UA_FIREFOX): Promise<string> {
  const res = await fetch(`${app.url}/login`, {
    method: "POST",
    headers: {
      "content-type": "application/x-www-form-urlencoded",
      origin: app.url,
      "user-agent": userAgent,
    },
    body: new URLSearchParams({ username, password: ADMIN_PASSWORDS[username], next: "/" }),
    redirect: "manual",
  });
  expect(res.status).toBe(303);
  return res.headers.get("set-cookie")!.split(";")[0]!;
}

async function page(path: string, as = cookie, headers: Record<string, string> = {}): Promise<string> {
  const res = await fetch(`${app.url}${path}`, { headers: { cookie: as, ...headers }, redirect: "manual" });
  expect(res.status).toBeLessThan(400);
  return res.text();
}

function post(path: string, body: URLSearchParams | FormData, as = cookie): Promise<Response> {
  return fetch(`${app.url}${path}`, {
    method: "POST",
    headers: { cookie: as, origin: app.url, "hx-request": "true", "user-agent": UA_FIREFOX },
    body,
    redirect: "manual",
  });
}

/** The text a reader sees: tags dropped, entities decoded, spaces collapsed. */
function text(html: string): string {
  return html
    .replace(/<(script|style)[\s\S]*?<\/\1>/g, " ")
    .replace(/<[^>]+>/g, " ")
    .replace(/&nbsp;/g, " ")
    .replace(/&quot;/g, '"')
    .replace(/&#39;|&#x27;/g, "'")
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&amp;/g, "&")
    .replace(/\s+/g, " ");
}

/** The values a form would submit as rendered: inputs, checked boxes, selected options, textareas. */
async function formValues(html: string, formId: string): Promise<[string, string][]> {
  const out: [string, string][] = [];
  let inForm = false;
  let select: string | null = null;
  let area: { name: string; text: string } | null = null;
  const rw = new HTMLRewriter()
    .on(`form#${formId}`, {
      element(el) {
        inForm = true;
        el.onEndTag(() => {
          inForm = false;
        });
      },
    })
    .on("input", {
      element(el) {
        const name = el.getAttribute("name");
        const type = el.getAttribute("type") ?? "text";
        if (!inForm || !name || type === "file") return;
        if ((type === "checkbox" || type === "radio") && !el.hasAttribute("checked")) return;
        out.push([name, el.getAttribute("value") ?? (type === "checkbox" ? "on" : "")]);
      },
    })
    .on("select", {
      element(el) {
        select = inForm ? el.getAttribute("name") : null;
      },
    })
    .on("option", {
      element(el) {
        if (select && el.hasAttribute("selected")) out.push([select, el.getAttribute("value") ?? ""]);
      },
    })
    .on("textarea", {
      element(el) {
        const name = el.getAttribute("name");
        if (!inForm || !name) return;
        area = { name, text: "" };
        el.onEndTag(() => {
          if (area) out.push([area.name, area.text]);
          area = null;
        });
      },
      text(t) {
        if (area) area.text += t.text;
      },
    });
  await rw.transform(new Response(html)).text();
  return out;
}

beforeAll(async () => {
  app = await startTestApp();
  cookie = await loginAs("serg");
});
afterAll(() => app?.stop());

describe("the slot page", () => {
  test("a slot set by `photochanger slot set` and tested untouched: no 'unsaved settings' warning", async () => {
    // what `slot set --provider local --operation resize` stores: only what was given
    await app.configureSlot("slot-004", { provider: "local", operation: "resize", settings: {} });
    const html = await page("/slots/slot-004");
    const form = new FormData();
    for (const [k, v] of await formValues(html, "slot-form")) form.append(k, v);
    expect(form.get("s.max_side")).toBe("1024"); // the default, shown in the form
    form.append(
      "test_image",
      new File([(await makeJpeg(80, 60)) as Uint8Array<ArrayBuffer>], "t.jpg", { type: "image/jpeg" }),
    );
    const res = await post("/slots/slot-004/test", form);
    const body = await res.text();
    expect(body).toContain("data-job-id");
    expect(body).not.toContain('id="test-unsaved"');
    // a changed value is still reported
    form.set("s.max_side", "512");
    const changed = await (await post("/slots/slot-004/test", form)).text();
    expect(changed).toContain('id="test-unsaved"');
  });
});

describe("a job's timeline", () => {
  test("a missing key: no 'sent to provider' or 'provider error' row, and the reason said once", async () => {
    await app.configureSlot("slot-006", {
      provider: "gemini",
      operation: "image_edit",
      settings: { prompt: "x" },
    });
    const res = await postIngest(app, "slot-006", dslrForm(await makeJpeg(64, 48)));
    expect(res.status).toBe(502);
    const id = res.headers.get("x-job-id")!;
    const html = await page(`/jobs/${id}`);
    const timeline = text(
      html.slice(html.indexOf('class="timeline"'), html.indexOf("</ol>", html.indexOf('class="timeline"'))),
    );
    expect(timeline).not.toContain("отправлено провайдеру");
    expect(timeline).not.toContain("ошибка провайдера");
    const main = text(html.slice(html.indexOf("<main")));
    const sentence = /Не задан API-ключ/g;
    expect(main.match(sentence)?.length ?? 0).toBe(1);
    expect(timeline).toContain("взято в работу");
  });
});

describe("the audit log in words", () => {
  test("settings changes say which setting, from what to what; templates their role; ended sessions which one", async () => {
    await app.setSyncSeconds(30);
    await app.setSyncSeconds(50);
    await app.setSetting("provider_daily_limit", { gemini: 500 });
    await app.configureSlot("slot-007", {
      provider: "gemini",
      operation: "style_transfer",
      settings: { prompt: "x" },
    });
    const upload = new FormData();
    upload.append("role", "style");
    upload.append(
      "file",
      new File([(await makeJpeg(64, 64)) as Uint8Array<ArrayBuffer>], "s.jpg", { type: "image/jpeg" }),
    );
    expect((await post("/slots/slot-007/templates", upload)).status).toBe(200);
    // a second sign-in from a phone, ended from this one
    const phone = await loginAs(
      "serg",
      "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
    );
    const account = await page("/account");
    const phoneRow = account.split("<tr data-session=").find((r) => r.includes("Safari · iPhone"));
    expect(phoneRow).toBeTruthy();
    expect(account.split("<tr data-session=").find((r) => r.includes("это устройство"))).toContain(
      "Firefox · Linux",
    );
    const ended = await post(`/account/sessions/${phoneRow!.slice(1, 37)}/revoke`, new URLSearchParams());
    expect(await ended.text()).toContain("Сессия завершена");
    void phone;

    const audit = await page("/audit");
    const table = audit.slice(audit.indexOf('id="audit-table"'));
    const words = text(table);
    expect(words).toContain("ожидание результата: 30 с → 50 с");
    expect(words).toContain("дневной лимит провайдера, Google Gemini: 2000 → 500");
    expect(words).toContain("роль: Шаблон стиля");
    expect(words).toMatch(/сессия: Safari · iPhone, [\d.:]+, вход \d\d\.\d\d\.\d{4}/);
    expect(table).not.toMatch(/\{&quot;|\{"/);
    expect(words).not.toMatch(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/);
  });
});

describe("sessions named by their browser", () => {
  test("the User-Agent told as browser · system, with the kind of device", () => {
    const cases: [string, string | null, string | null][] = [
      [UA_FIREFOX, "Firefox · Linux", "computer"],
      [
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36 Edg/126.0.0.0",
        "Edge · Windows",
        "computer",
      ],
      [
        "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Mobile Safari/537.36",
        "Chrome · Android",
        "phone",
      ],
      [
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15",
        "Safari · macOS",
        "computer",
      ],
      [
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 YaBrowser/24.4.0.0 Safari/537.36",
        "Yandex Browser · Windows",
        "computer",
      ],
      ["curl/8.5.0", "curl", null],
      ["", null, null],
    ];
    for (const [ua, name, kind] of cases) {
      expect([describeUserAgent(ua), nameUserAgent(ua).kind]).toEqual([name, kind]);
    }
  });
});

describe("Russian plurals through one rule", () => {
  test("1 запрос, 4 запроса, 5 запросов, 11 запросов, 21 запрос; «из 21 запроса»", () => {
    const q = pt({ lang: "ru" }).quota;
    expect([1, 4, 5, 11, 21, 22].map((n) => q.requests(n, null))).toEqual([
      "1 запрос — лимит не задан",
      "4 запроса — лимит не задан",
      "5 запросов — лимит не задан",
      "11 запросов — лимит не задан",
      "21 запрос — лимит не задан",
      "22 запроса — лимит не задан",
    ]);
    expect(q.requests(4, 21)).toBe("4 из 21 запроса");
    expect(q.requests(4, 100)).toBe("4 из 100 запросов");
    expect(pt({ lang: "en" }).quota.requests(1, null)).toBe("1 request — no limit set");
    expect(ru.attention.blockedLine("10.0.0.2", 2, "19:42")).toContain("2 неверных пароля");
    expect(ru.settings.passwordTooShort(1)).toBe("Пароль не короче 1 символа.");
  });
  test("no hand-made plural rule is left in the dictionaries", async () => {
    for (const file of ["ru.ts", "en.ts", "providers.ts"]) {
      const src = await Bun.file(new URL(`../templates/i18n/${file}`, import.meta.url)).text();
      expect({ file, handMade: /%\s*10\b|%\s*100\b/.test(src) }).toEqual({ file, handMade: false });
    }
  });
  test("the quota card on the settings page counts in Russian", async () => {
    const html = await page("/settings");
    expect(text(html)).not.toMatch(/\b[234] запросов|\b1 запросов/);
  });
});

describe("no English and no raw ids in the Russian pages", () => {
  test("our English job messages are said in Russian (the deadline is ours, not the provider's words)", () => {
    const v = { t: ru, lang: "ru", path: "/", user: null, now: new Date() } as View;
    expect(jobMessage(v, "The deadline passed before the provider answered")).toBe(
      "Время ожидания будки вышло раньше, чем ответил провайдер.",
    );
    expect(jobMessage(v, "The deadline passed before the job finished")).toContain("Время ожидания будки");
    expect(jobMessage(v, "Internal error: boom")).toContain("Внутренняя ошибка");
  });
  test("the booth password card names who set it in words, not (first-start)", async () => {
    await app.runtime.settings.setIngestPassword("first-start-password", "first-start");
    const html = text(await page("/settings"));
    expect(html).not.toContain("first-start");
    expect(html).toMatch(/Задан [\d.,: ]+ \(первый запуск\)\./);
    await app.runtime.settings.setIngestPassword(INGEST_PASSWORD, "test"); // the booth's again
  });
});

describe("cosmetics", () => {
  test("Telegram's status lines say which field they are about, and one change is said once", async () => {
    const res = await post(
      "/settings/notify",
      new URLSearchParams({ telegram_bot_token: "123456:console-bot-token", telegram_chat_id: "-100777" }),
    );
    const card = text(await res.text());
    expect(card).toContain("Токен бота: задано здесь");
    expect(card).toContain("Чат: задано здесь");
    expect(card.match(/изменено /g)?.length).toBe(1);
    for (const f of ["telegram_bot_token", "telegram_chat_id"])
      await post("/settings/notify", new URLSearchParams({ clear: f }));
  });
});

describe("the guest's dead ends", () => {
  test("a mistyped link and an expired photo are told apart, and neither page repeats its title", async () => {
    await app.configureSlot("slot-009", { provider: "local", operation: "passthrough", settings: {} });
    const res = await postIngest(app, "slot-009", dslrForm(await makeJpeg(64, 48)));
    expect(res.status).toBe(200);
    const id = res.headers.get("x-job-id")!;
    await app.db
      .update(job)
      .set({ resultExpiresAt: new Date(Date.now() - 60_000) })
      .where(eq(job.id, id));
    const expired = await fetch(`${app.url}/r/${id}`);
    expect(expired.status).toBe(410);
    const missing = await fetch(`${app.url}/r/00000000-0000-4000-8000-000000000000`);
    expect(missing.status).toBe(404);
    const say = async (r: Response) => {
      const html = await r.text();
      const h1 = text(html.slice(html.indexOf("<h1"), html.indexOf("</h1>"))).trim();
      const p = text(
        html.slice(html.indexOf("<p", html.indexOf("</h1>")), html.indexOf("</p>", html.indexOf("</h1>"))),
      ).trim();
      return { h1, p };
    };
    const a = await say(expired);
    const b = await say(missing);
    expect(a.p).not.toBe(b.p);
    expect(a.h1).not.toBe(b.h1);
    for (const { h1, p } of [a, b]) expect(p.toLowerCase()).not.toContain(h1.toLowerCase());
  });
});

describe("the job page", () => {
  test("its title is the slot's name; a cancel's reason is said once", async () => {
    await app.configureSlot("slot-010", {
      name: "Портрет у окна",
      provider: "local",
      operation: "passthrough",
      settings: { simulate_delay_ms: 20_000 },
    });
    const queued = whenQueued(app);
    const booth = postIngest(app, "slot-010", dslrForm(await makeJpeg(64, 48))).catch(() => null);
    await queued;
    const [row] = await app.db.select({ id: job.id }).from(job).where(eq(job.slotId, "slot-010"));
    const cancel = await post(`/jobs/${row!.id}/cancel`, new URLSearchParams());
    expect(cancel.status).toBe(200);
    await booth;
    const html = await page(`/jobs/${row!.id}`);
    const h1 = text(html.slice(html.indexOf("<h1"), html.indexOf("</h1>")));
    expect(h1).toContain("Портрет у окна");
    const main = text(html.slice(html.indexOf("<main"), html.indexOf('class="timeline"')));
    expect(main).toContain("Отменена администратором serg");
    expect(main.toLowerCase().match(/отменена администратором/g)?.length).toBe(1);
  });
});

describe("statistics", () => {
  test("'Сегодня' is the default period; the SLA table and the CSV count refusals; empty slots can be hidden", async () => {
    // a refused booth request: a wrong password on slot-011
    const refused = await postIngest(
      app,
      "slot-011",
      dslrForm(await makeJpeg(32, 32), dslrFields({ password: "wrong" })),
    );
    expect(refused.status).toBe(401);
    const html = await page("/stats");
    expect(html).toMatch(/<a href="\/stats\?period=today" aria-current="true">Сегодня<\/a>/);
    const row = html.slice(html.indexOf('<tr data-slot="slot-011">'));
    expect(row.slice(0, row.indexOf("</tr>"))).toContain("data-refusals>1</td>");
    expect(html).toContain("Отказы будке");
    const csv = await (await fetch(`${app.url}/stats.csv`, { headers: { cookie } })).text();
    const lines = csv.trim().split("\n");
    const refusalsAt = lines[0]!.split(",").indexOf("refusals");
    expect(refusalsAt).toBeGreaterThan(0);
    expect(lines.find((l) => l.startsWith("slot-011,"))!.split(",")[refusalsAt]).toBe("1");
    // hidden: only slots with a job or a refusal today
    const hidden = await page("/stats?period=today&hide_empty=1");
    const shown = [...hidden.matchAll(/<tr data-slot="(slot-\d+)">/g)].map((m) => m[1]);
    expect(shown).toContain("slot-011");
    expect(shown).not.toContain("slot-015");
    expect(shown.length).toBeLessThan(15);
    expect(hidden).toContain("Показать все слоты");
    // a slot's own page has the period it shows selected
    const slot = await page("/stats/slots/slot-011");
    expect(slot).toMatch(/period=today" aria-current="true"/);
  });
  test("today starts at the studio's midnight in its time zone", () => {
    const now = new Date("2026-03-10T05:30:00Z");
    expect(todaySoFar(now, "Europe/Moscow").from.toISOString()).toBe("2026-03-09T21:00:00.000Z");
    expect(todaySoFar(now, "America/Los_Angeles").from.toISOString()).toBe("2026-03-09T07:00:00.000Z");
    expect(todaySoFar(now, "UTC").from.toISOString()).toBe("2026-03-10T00:00:00.000Z");
  });
});
