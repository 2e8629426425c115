/**
 * The pages operators expect (system health, audit log, own password and sessions) and the optional
 * notifications: a failure burst and the recovery go to a webhook and to Telegram's Bot API (a local
 * fake speaking `sendMessage`), once each.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { eq } from "drizzle-orm";
import { appSettings } from "../src/db/schema";
import { notifyTick } from "../src/modules/attention/notifier";
import { instanceRegistry } from "../src/ops";
import { localProvider } from "../src/providers/local";
import { FakeServer } from "./fakes/fake-server";
import { SCRIPTED_ID, scriptedProvider } from "./fakes/scripted-provider";
import { api, changeScopes, login } from "./helpers/admin";
import { ADMIN_PASSWORDS, dslrForm, postIngest, startTestApp, type TestApp } from "./helpers/app";
import { makeJpeg } from "./helpers/images";

const BOT_TOKEN = "123456:test-bot-token";
const CHAT_ID = "-100777";

interface Received {
  path: string;
  body: Record<string, unknown>;
}

/** A bot token set on the settings page (the environment has BOT_TOKEN). */
const SETTINGS_BOT_TOKEN = "654321:settings-bot-token";
const SETTINGS_CHAT_ID = "-100888";

/** Telegram's Bot API as far as we use it: POST /bot<token>/sendMessage with JSON. */
function fakeTelegram() {
  let messageId = 0;
  return new FakeServer<Received>(async (req, record) => {
    const url = new URL(req.url);
    const m = url.pathname.match(/^\/bot([^/]+)\/sendMessage$/);
    if (req.method !== "POST" || !m)
      return Response.json({ ok: false, error_code: 404, description: "Not Found" }, { status: 404 });
    if (m[1] !== BOT_TOKEN && m[1] !== SETTINGS_BOT_TOKEN) {
      return Response.json({ ok: false, error_code: 401, description: "Unauthorized" }, { status: 401 });
    }
    const body = (await req.json()) as Record<string, unknown>;
    if (typeof body.chat_id !== "string" || typeof body.text !== "string" || !body.text) {
      return Response.json(
        { ok: false, error_code: 400, description: "Bad Request: message text is empty" },
        { status: 400 },
      );
    }
    record({ path: url.pathname, body });
    return Response.json({
      ok: true,
      result: { message_id: ++messageId, chat: { id: Number(body.chat_id) }, date: 0, text: body.text },
    });
  });
}

function fakeWebhook() {
  return new FakeServer<Received>(async (req, record) => {
    record({ path: new URL(req.url).pathname, body: (await req.json()) as Record<string, unknown> });
    return new Response(null, { status: 204 });
  });
}

let app: TestApp;
let telegram: FakeServer<Received>;
let webhook: FakeServer<Received>;

beforeAll(async () => {
  telegram = fakeTelegram();
  webhook = fakeWebhook();
  app = await startTestApp({
    providers: [localProvider, scriptedProvider],
    env: {
      NOTIFY_WEBHOOK_URL: `http://127.0.0.1:${webhook.port}/hooks/photochanger`,
      NOTIFY_TELEGRAM_BOT_TOKEN: BOT_TOKEN,
      NOTIFY_TELEGRAM_CHAT_ID: CHAT_ID,
      NOTIFY_TELEGRAM_API_BASE: `http://127.0.0.1:${telegram.port}`,
      // The fake webhook listens on this box: a console-typed target there needs the LAN allowance.
      NOTIFY_ALLOW_LAN: "true",
      // The background look at the slots is called directly below (notifyTick), not waited for.
      NOTIFY_INTERVAL_SECONDS: "3600",
    },
  });
});
afterAll(async () => {
  await app?.stop();
  telegram?.stop();
  webhook?.stop();
});

async function signIn(
  username: "serg" | "igor",
  password: string = ADMIN_PASSWORDS[username],
): Promise<string> {
  const res = await fetch(`${app.url}/login`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", origin: app.url },
    body: new URLSearchParams({ username, password }),
    redirect: "manual",
  });
  expect(res.status).toBe(303);
  return res.headers.get("set-cookie")!.split(";")[0]!;
}

function get(path: string, cookie: string) {
  return fetch(`${app.url}${path}`, { headers: { cookie }, redirect: "manual" });
}

function post(path: string, cookie: string, form: Record<string, string> = {}) {
  return fetch(`${app.url}${path}`, {
    method: "POST",
    headers: {
      cookie,
      origin: app.url,
      "hx-request": "true",
      "content-type": "application/x-www-form-urlencoded",
    },
    body: new URLSearchParams(form),
    redirect: "manual",
  });
}

describe("system health", () => {
  test("shows the database, disk, queue, cleaner, this instance and the version; notifications set up", async () => {
    // without settings:write (both admins have every scope by default)
    await changeScopes(app, "igor", { remove: ["settings:write"] });
    const cookie = await signIn("igor");
    // serve() records the address it listens on (the test app is not started through it)
    await app.runtime.setAddress(new URL(app.url).host);
    const me = (await instanceRegistry(app.runtime.store)).find((i) => i.id === app.runtime.instanceId)!;
    const res = await get("/system", cookie);
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain("База данных");
    expect(html).toContain('data-ok="true"');
    expect(html).toContain(`data-instance="${app.runtime.instanceId}"`);
    expect(html).toContain("этот");
    // the instance registry: address, jobs in flight, last heartbeat, version
    const row = html.slice(html.indexOf(`data-instance="${app.runtime.instanceId}"`)).split("</tr>")[0]!;
    expect(row).toContain(me.address!);
    expect(row).toContain(`data-jobs-in-flight="${me.jobs_in_flight}"`);
    expect(row).toContain(`<code>${me.version}</code>`);
    expect(row).toContain(`datetime="${me.last_heartbeat_at}"`);
    expect(html).toMatch(/<code>\d+\.\d+\.\d+<\/code>/);
    expect(html).toContain("свободно");
    expect(html).not.toContain(BOT_TOKEN);
  });

  test("the test message reaches the webhook and Telegram", async () => {
    const cookie = await signIn("serg");
    const res = await post("/system/notify-test", cookie);
    const html = await res.text();
    expect(html).toContain("Вебхук: сообщение отправлено.");
    expect(html).toContain("Telegram: сообщение отправлено.");
    expect(telegram.requests.at(-1)?.body).toMatchObject({ chat_id: CHAT_ID });
    expect(String(telegram.requests.at(-1)?.body.text)).toContain("проверка уведомлений");
    expect(webhook.requests.at(-1)?.body.event).toBe("test");
  });
});

describe("notifications", () => {
  test("a failure burst is announced once, and so is the recovery", async () => {
    const photo = await makeJpeg(64, 48);
    await app.configureSlot("slot-007", { provider: SCRIPTED_ID, operation: "broken", settings: {} });
    await app.setSetting("public_base_url", "http://studio.example:8080");
    for (let i = 0; i < 3; i++) {
      const res = await postIngest(app, "slot-007", dslrForm(photo));
      expect(res.status).toBeGreaterThanOrEqual(500);
    }
    await notifyTick(app.runtime);
    const failing = telegram.requests.find((m) => String(m.body.text).includes("slot-007"))!;
    expect(String(failing.body.text)).toContain("ошибок за час: 3");
    expect(String(failing.body.text)).toContain("http://studio.example:8080/slots/slot-007");
    const hook = webhook.requests.find((h) => h.body.event === "slot_failing")!;
    expect(hook.body).toMatchObject({
      slot_id: "slot-007",
      failures_last_hour: 3,
      last_failure_reason: "provider_error",
    });

    // more ticks, still failing: no second message
    await notifyTick(app.runtime);
    await notifyTick(app.runtime);
    expect(telegram.requests.filter((m) => String(m.body.text).includes("slot-007"))).toHaveLength(1);

    await app.configureSlot("slot-007", { provider: "local", operation: "passthrough", settings: {} });
    expect((await postIngest(app, "slot-007", dslrForm(photo))).status).toBe(200);
    await notifyTick(app.runtime);
    const recovered = webhook.requests.find(
      (h) => h.body.event === "slot_recovered" && h.body.slot_id === "slot-007",
    )!;
    expect(recovered.body.text).toContain("снова обрабатывает");
    expect(telegram.requests.filter((m) => String(m.body.text).includes("slot-007"))).toHaveLength(2);
  });
});

describe("per-slot statistics", () => {
  test("a slot's statistics over time, and its reset", async () => {
    const photo = await makeJpeg(64, 48);
    for (let i = 0; i < 2; i++) expect((await postIngest(app, "slot-009", dslrForm(photo))).status).toBe(200);
    const cookie = await signIn("serg");
    const page = await (await get("/stats/slots/slot-009?period=24h", cookie)).text();
    expect(page).toContain("Статистика слота");
    expect(page).toContain('id="stats-chart"');
    expect(page).toMatch(/<div class="value">2<\/div>/);
    expect(page).toContain("Сбросить статистику слота");
    const reset = await fetch(`${app.url}/stats/slots/slot-009/reset`, {
      method: "POST",
      headers: { cookie, origin: app.url },
      redirect: "manual",
    });
    expect(reset.status).toBe(303);
    const after = await (await get(reset.headers.get("location")!, cookie)).text();
    expect(after).toContain("Статистика слота сброшена");
    expect(after).toContain("Сводка с последнего сброса");
    expect(after).toMatch(/<div class="value">0<\/div>/);
  });
});

describe("audit log", () => {
  test("lists who changed what, in Russian, filterable by action", async () => {
    const cookie = await signIn("serg");
    await post("/slots/slot-008", cookie, {
      name: "Портрет",
      enabled: "true",
      provider: "local",
      operation: "greyscale",
      output_format: "jpeg",
      size_limit_mb: "15",
    });
    await app.runtime.settings.setIngestPassword("another-booth-pass", "serg");
    const all = await (await get("/audit", cookie)).text();
    expect(all).toContain("слот изменён");
    expect(all).toContain("пароль будки сменён");
    expect(all).toContain('href="/slots/slot-008"');
    const only = await (await get("/audit?action=ingest_password.rotated", cookie)).text();
    expect(only).toContain('data-action="ingest_password.rotated"');
    expect(only).not.toContain('data-action="slot.updated"');
    const en = await (await get("/audit?lang=en", cookie)).text();
    expect(en).toContain("booth password changed");
  });
});

describe("my account", () => {
  test("validates before checking, refuses a wrong current password, then changes it and ends the other sessions", async () => {
    const other = await signIn("igor");
    const cookie = await signIn("igor");
    const mismatch = await post("/account/password", cookie, {
      current: ADMIN_PASSWORDS.igor,
      next: "new-igor-password-1",
      repeat: "new-igor-password-2",
    });
    expect(mismatch.status).toBe(422);
    expect(await mismatch.text()).toContain("Пароли не совпадают");
    const short = await post("/account/password", cookie, { current: "x", next: "short", repeat: "short" });
    expect(await short.text()).toContain("Не короче 10 символов");
    const wrong = await post("/account/password", cookie, {
      current: "not-the-password",
      next: "new-igor-password-1",
      repeat: "new-igor-password-1",
    });
    expect(wrong.status).toBe(422);
    expect(await wrong.text()).toContain("Текущий пароль неверен");

    const page = await (await get("/account", cookie)).text();
    expect(page).toContain("это устройство");
    expect((page.match(/data-session=/g) ?? []).length).toBeGreaterThanOrEqual(2);

    const ok = await post("/account/password", cookie, {
      current: ADMIN_PASSWORDS.igor,
      next: "new-igor-password-1",
      repeat: "new-igor-password-1",
    });
    expect(ok.status).toBe(200);
    expect(await ok.text()).toContain("Пароль изменён");
    // this session goes on, the other one is over
    expect((await get("/account", cookie)).status).toBe(200);
    expect((await get("/account", other)).status).toBe(302);
    await signIn("igor", "new-igor-password-1");
    const audit = await (await get("/audit", await signIn("serg"))).text();
    expect(audit).toContain("администратор сменил свой пароль");
  });

  test("revokes one of my other sessions, never someone else's", async () => {
    const mine = await signIn("serg");
    const second = await signIn("serg");
    const page = await (await get("/account", mine)).text();
    const ids = [...page.matchAll(/data-session="([0-9a-f-]{36})"/g)].map((m) => m[1]!);
    const rows = page.split("<tr data-session=").slice(1);
    const current = rows.find((r) => r.includes("это устройство"))?.slice(1, 37);
    expect(current).toBeTruthy();
    // my own current session cannot be ended from this list
    await post(`/account/sessions/${current}/revoke`, mine);
    expect((await get("/account", mine)).status).toBe(200);
    const target = ids.find((id) => id !== current)!;
    const res = await post(`/account/sessions/${target}/revoke`, mine);
    expect(await res.text()).toContain("Сессия завершена");
    expect((await get("/account", mine)).status).toBe(200);
    // igor cannot end serg's sessions
    const igor = await signIn("igor", "new-igor-password-1");
    const foreign = ids.find((id) => id !== target && id !== current);
    if (foreign) {
      await post(`/account/sessions/${foreign}/revoke`, igor);
    }
    const after = await (await get("/account", mine)).text();
    expect(after).not.toContain(`data-session="${target}"`);
    if (foreign) expect(after).toContain(`data-session="${foreign}"`);
    void second;
  });
});

describe("notification targets on the settings page", () => {
  const source = (html: string, field: string) =>
    new RegExp(`data-notify-field="${field}" data-source="([a-z]+)"`).exec(html)?.[1];

  test("the environment's targets are the default, shown masked", async () => {
    const html = await (await get("/settings", await signIn("serg"))).text();
    expect(html).toContain('id="notify-settings"');
    for (const f of ["webhook_url", "telegram_bot_token", "telegram_chat_id"]) {
      expect(source(html, f)).toBe("environment");
    }
    expect(html).not.toContain(BOT_TOKEN);
    expect(html).not.toContain("/hooks/photochanger");
    expect(html).toContain("…oken");
    expect(html).toContain(CHAT_ID);
  });

  test("malformed values are refused field by field, and nothing is stored", async () => {
    const cookie = await signIn("serg");
    const res = await post("/settings/notify", cookie, {
      webhook_url: "ftp://example.org/x",
      telegram_bot_token: "not a token",
      telegram_chat_id: "somebody",
    });
    expect(res.status).toBe(422);
    const html = await res.text();
    expect(html).toContain("Нужен адрес http:// или https://.");
    expect(html).toContain("Токен бота выглядит как");
    expect(html).toContain("Чат — число");
    // what was typed comes back, except the token
    expect(html).toContain('value="ftp://example.org/x"');
    expect(html).not.toContain("not a token");
    const rows = await app.db.select().from(appSettings).where(eq(appSettings.key, "notify_webhook_url"));
    expect(rows).toHaveLength(0);
  });

  test("set here: stored sealed, shown masked, the test message goes to the new targets", async () => {
    const cookie = await signIn("serg");
    const hookUrl = `http://127.0.0.1:${webhook.port}/hooks/from-settings`;
    const saved = await post("/settings/notify", cookie, {
      webhook_url: hookUrl,
      telegram_bot_token: SETTINGS_BOT_TOKEN,
      telegram_chat_id: SETTINGS_CHAT_ID,
    });
    expect(saved.status).toBe(200);
    const html = await saved.text();
    expect(html).toContain("Уведомления сохранены.");
    for (const f of ["webhook_url", "telegram_bot_token", "telegram_chat_id"])
      expect(source(html, f)).toBe("settings");
    expect(html).not.toContain(SETTINGS_BOT_TOKEN);
    expect(html).not.toContain("/hooks/from-settings");
    expect(html).toContain(`127.0.0.1:${webhook.port}/…`);

    // secrets at rest are sealed; the chat id is not a secret
    const stored = await app.db.select().from(appSettings);
    const row = (key: string) => stored.find((r) => r.key === key)!;
    expect(row("notify_telegram_bot_token").isSecret).toBe(true);
    expect(JSON.stringify(row("notify_telegram_bot_token").value)).not.toContain("settings-bot-token");
    expect(JSON.stringify(row("notify_webhook_url").value)).not.toContain("from-settings");
    expect(row("notify_telegram_chat_id").value).toEqual({ value: SETTINGS_CHAT_ID });

    const test = await post("/settings/notify/test", cookie);
    const result = await test.text();
    expect(result).toContain("Вебхук: сообщение отправлено.");
    expect(result).toContain("Telegram: сообщение отправлено.");
    expect(telegram.requests.at(-1)?.path).toBe(`/bot${SETTINGS_BOT_TOKEN}/sendMessage`);
    expect(telegram.requests.at(-1)?.body.chat_id).toBe(SETTINGS_CHAT_ID);
    expect(webhook.requests.at(-1)?.path).toBe("/hooks/from-settings");

    // the audit log names the fields, never the values
    const audit = await (await get("/audit?action=notify.updated", cookie)).text();
    expect(audit).toContain("уведомления настроены");
    expect(audit).toContain("токен Telegram-бота");
    expect(audit).not.toContain("settings-bot-token");
  });

  test("igor without settings:write sees the targets but cannot change or test them", async () => {
    const igor = await signIn("igor", "new-igor-password-1");
    const html = await (await get("/settings", igor)).text();
    expect(source(html, "telegram_chat_id")).toBe("settings");
    expect(html).not.toContain('name="telegram_bot_token"');
    expect((await post("/settings/notify", igor, { telegram_chat_id: "-1" })).status).toBe(403);
    expect((await post("/settings/notify/test", igor)).status).toBe(403);
  });

  test("the API reads and changes the same targets (PUT /api/settings `notify`)", async () => {
    const serg = api(app, await login(app, "serg"));
    const read = (await (await serg("GET", "/api/settings")).json()) as {
      notify: Record<string, { source: string | null; shown: string | null }>;
    };
    expect(read.notify.telegram_chat_id).toMatchObject({ source: "settings", shown: SETTINGS_CHAT_ID });
    expect(read.notify.telegram_bot_token?.shown).toBe("…oken");
    expect(JSON.stringify(read)).not.toContain(SETTINGS_BOT_TOKEN);
    const bad = await serg("PUT", "/api/settings", {
      json: { notify: { webhook_url: "javascript:alert(1)", telegram_chat_id: "x" } },
    });
    expect(bad.status).toBe(422);
    const fields = ((await bad.json()) as { error: { details: { fields: { field: string }[] } } }).error
      .details.fields;
    expect(fields.map((f) => f.field).sort()).toEqual(["notify.telegram_chat_id", "notify.webhook_url"]);
    const ok = await serg("PUT", "/api/settings", {
      json: { notify: { telegram_chat_id: "@photobooth_ops" } },
    });
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as typeof read).notify.telegram_chat_id?.shown).toBe("@photobooth_ops");
    await serg("PUT", "/api/settings", { json: { notify: { telegram_chat_id: SETTINGS_CHAT_ID } } });
  });

  test("removing a value brings the environment's back", async () => {
    const cookie = await signIn("serg");
    for (const f of ["webhook_url", "telegram_bot_token", "telegram_chat_id"]) {
      const res = await post("/settings/notify", cookie, { clear: f });
      expect(source(await res.text(), f)).toBe("environment");
    }
    await post("/settings/notify/test", cookie);
    expect(telegram.requests.at(-1)?.path).toBe(`/bot${BOT_TOKEN}/sendMessage`);
    expect(webhook.requests.at(-1)?.path).toBe("/hooks/photochanger");
  });
});
