/**
 * Notifications that fail say why (issue 20, item 7): the name does not resolve, the connection is
 * refused, no answer in time, TLS (self-signed, no TLS on the port), a redirect, or the service's
 * HTTP error with its own words (Telegram's "Bad Request: chat not found") — never "(TypeError)".
 * Each real failure below is produced for real (local servers, a closed port, a `.invalid` name).
 * `/system` lists the last 20 sends, tests and real ones, with their result.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Notice, notifyTick, type SendResult, sendNotice } from "../src/modules/attention/notifier";
import { localProvider } from "../src/providers/local";
import { FakeServer } from "./fakes/fake-server";
import { SCRIPTED_ID, scriptedProvider } from "./fakes/scripted-provider";
import { ADMIN_PASSWORDS, dslrForm, postIngest, startTestApp, type TestApp } from "./helpers/app";
import { freePort } from "./helpers/cli";
import { makeJpeg } from "./helpers/images";

const BOT_TOKEN = "123456:cause-test-token";
const notice: Notice = {
  kind: "test",
  slotId: null,
  slotName: null,
  failures: 0,
  reason: null,
  text: "test",
  at: new Date().toISOString(),
};

const servers: { stop(force?: boolean): void }[] = [];
let certDir: string;

/** Telegram's Bot API answering as it does for an unknown chat. */
function telegramNoChat() {
  const s = new FakeServer(() =>
    Response.json(
      { ok: false, error_code: 400, description: "Bad Request: chat not found" },
      { status: 400 },
    ),
  );
  servers.push(s);
  return s.url;
}

function server(fetch: (req: Request) => Response | Promise<Response>, tls?: { cert: string; key: string }) {
  const s = new FakeServer(fetch, { tls });
  servers.push(s);
  return s.port;
}

async function webhookTo(url: string): Promise<SendResult> {
  const [r] = await sendNotice(
    {
      webhookUrl: url,
      webhookAllowsLan: true,
      telegram: { botToken: null, chatId: null, apiBase: "http://127.0.0.1:1" },
    },
    notice,
  );
  return r!;
}

beforeAll(() => {
  certDir = mkdtempSync(join(tmpdir(), "photochanger-notify-tls-"));
  const gen = Bun.spawnSync([
    "openssl",
    "req",
    "-x509",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-days",
    "2",
    "-subj",
    "/CN=localhost",
    "-keyout",
    join(certDir, "key.pem"),
    "-out",
    join(certDir, "cert.pem"),
  ]);
  expect(gen.exitCode).toBe(0);
});
afterAll(() => {
  for (const s of servers) s.stop(true);
  rmSync(certDir, { recursive: true, force: true });
});

describe("a failed send names its cause", () => {
  test("a name that does not resolve", async () => {
    expect(await webhookTo("http://no-such-host.invalid/hook")).toMatchObject({
      ok: false,
      cause: { kind: "dns", detail: "no-such-host.invalid" },
    });
  });

  test("a refused connection", async () => {
    const port = await freePort();
    expect(await webhookTo(`http://127.0.0.1:${port}/hook`)).toMatchObject({
      cause: { kind: "refused", detail: `127.0.0.1:${port}` },
    });
  });

  test("no answer in time", async () => {
    const silent = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
    servers.push(silent);
    expect(await webhookTo(`http://127.0.0.1:${silent.port}/hook`)).toMatchObject({
      cause: { kind: "timeout", detail: `127.0.0.1:${silent.port}` },
    });
  });

  test("TLS: a self-signed certificate, and a port that does not speak TLS", async () => {
    const tlsPort = server(() => new Response(null, { status: 204 }), {
      cert: join(certDir, "cert.pem"),
      key: join(certDir, "key.pem"),
    });
    expect(await webhookTo(`https://localhost:${tlsPort}/hook`)).toMatchObject({
      cause: { kind: "tls", detail: "self_signed" },
    });
    const plainPort = server(() => new Response(null, { status: 204 }));
    expect(await webhookTo(`https://127.0.0.1:${plainPort}/hook`)).toMatchObject({
      cause: { kind: "tls", detail: "handshake" },
    });
  });

  test("HTTP errors carry the service's own words; a redirect is named", async () => {
    const port = server((req) => {
      const path = new URL(req.url).pathname;
      if (path === "/json") return Response.json({ error: { message: "hook disabled" } }, { status: 410 });
      if (path === "/moved") return Response.redirect("https://elsewhere.example/", 301);
      return new Response("<html><body><h1>Bad Gateway</h1></body></html>", { status: 502 });
    });
    expect((await webhookTo(`http://127.0.0.1:${port}/json`)).cause).toEqual({
      kind: "http",
      detail: "410: hook disabled",
    });
    expect((await webhookTo(`http://127.0.0.1:${port}/html`)).cause).toEqual({
      kind: "http",
      detail: "502: Bad Gateway",
    });
    expect((await webhookTo(`http://127.0.0.1:${port}/moved`)).cause).toMatchObject({ kind: "redirect" });
  });

  test("a webhook on this box or the LAN is not called without the allowance, nor a metadata address ever", async () => {
    let called = 0;
    const s = new FakeServer(() => {
      called++;
      return new Response("ok");
    });
    servers.push(s);
    const lan = await sendNotice(
      {
        webhookUrl: `http://localhost:${s.port}/hook`,
        webhookAllowsLan: false,
        telegram: { botToken: null, chatId: null, apiBase: "http://127.0.0.1:1" },
      },
      notice,
    );
    expect(lan[0]).toMatchObject({ ok: false, cause: { kind: "lan" } });
    const meta = await sendNotice(
      {
        webhookUrl: "http://169.254.169.254/latest/meta-data/",
        webhookAllowsLan: true,
        telegram: { botToken: null, chatId: null, apiBase: "http://127.0.0.1:1" },
      },
      notice,
    );
    expect(meta[0]).toMatchObject({ ok: false, cause: { kind: "internal" } });
    expect(called).toBe(0);
    expect((await webhookTo(`http://localhost:${s.port}/hook`)).ok).toBe(true);
    expect(called).toBe(1);
  });

  test("Telegram's description, and never the bot token", async () => {
    const [r] = await sendNotice(
      {
        webhookUrl: null,
        webhookAllowsLan: false,
        telegram: { botToken: BOT_TOKEN, chatId: "-100123", apiBase: telegramNoChat() },
      },
      notice,
    );
    expect(r).toMatchObject({
      target: "telegram",
      ok: false,
      cause: { kind: "http", detail: "400: Bad Request: chat not found" },
    });
    const [gone] = await sendNotice(
      {
        webhookUrl: null,
        webhookAllowsLan: false,
        telegram: { botToken: BOT_TOKEN, chatId: "-100123", apiBase: "http://no-such-host.invalid" },
      },
      notice,
    );
    expect(gone!.cause).toEqual({ kind: "dns", detail: "no-such-host.invalid" });
    expect(JSON.stringify([r, gone])).not.toContain(BOT_TOKEN);
  });
});

describe("in the console", () => {
  let app: TestApp;
  let cookie: string;
  let refusedPort: number;

  beforeAll(async () => {
    refusedPort = await freePort();
    app = await startTestApp({
      providers: [localProvider, scriptedProvider],
      env: {
        NOTIFY_WEBHOOK_URL: `http://127.0.0.1:${refusedPort}/hook`,
        NOTIFY_TELEGRAM_BOT_TOKEN: BOT_TOKEN,
        NOTIFY_TELEGRAM_CHAT_ID: "-100123",
        NOTIFY_TELEGRAM_API_BASE: telegramNoChat(),
        NOTIFY_INTERVAL_SECONDS: "3600",
      },
    });
    const res = await fetch(`${app.url}/login`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", origin: app.url },
      body: new URLSearchParams({ username: "serg", password: ADMIN_PASSWORDS.serg }),
      redirect: "manual",
    });
    cookie = res.headers.get("set-cookie")!.split(";")[0]!;
  });
  afterAll(() => app.stop());

  const sendTest = (lang: string) =>
    fetch(`${app.url}/system/notify-test?lang=${lang}`, {
      method: "POST",
      headers: { cookie, origin: app.url, "hx-request": "true" },
    }).then((r) => r.text());

  test("the test send says why, in Russian and English, and the history shows it at once", async () => {
    const ru = await sendTest("ru");
    expect(ru).toContain(`Вебхук: не отправлено (127.0.0.1:${refusedPort} отказал в соединении`);
    expect(ru).toContain("Telegram: не отправлено (сервис ответил HTTP 400: Bad Request: chat not found).");
    expect(ru).not.toContain("TypeError");
    expect(ru).toContain('id="notify-history" hx-swap-oob="true"');
    const en = await sendTest("en");
    expect(en).toContain(`Webhook: not sent (127.0.0.1:${refusedPort} refused the connection`);
    expect(en).toContain("Telegram: not sent (the service answered HTTP 400: Bad Request: chat not found).");
  });

  test("/system lists the last 20 sends — tests and real ones — with their result and cause", async () => {
    // a real one: a slot starts failing
    const photo = await makeJpeg(64, 48);
    await app.configureSlot("slot-004", { provider: SCRIPTED_ID, operation: "broken", settings: {} });
    await app.setSetting("public_base_url", "http://studio.example:8080");
    for (let i = 0; i < 3; i++) expect((await postIngest(app, "slot-004", dslrForm(photo))).status).toBe(502);
    await notifyTick(app.runtime);
    let page = await (await fetch(`${app.url}/system?lang=ru`, { headers: { cookie } })).text();
    const history = page.slice(
      page.indexOf('id="notify-history"'),
      page.indexOf("</section>", page.indexOf('id="notify-history"')),
    );
    expect(history).toContain("слот не работает · slot-004");
    expect(history).toContain("проверка");
    expect(history).toContain('data-notification="failed" data-target="telegram"');
    expect(history).toContain("Bad Request: chat not found");
    expect(history).toContain("отказал в соединении");
    expect(history.match(/data-notification=/g)).toHaveLength(6);

    // More sends than the list shows (test sends are limited to a few in a row, so the history is
    // filled the way a send records itself).
    await sendTest("ru");
    for (let i = 0; i < 9; i++) {
      await app.runtime.store.notifications.record(
        (["webhook", "telegram"] as const).map((target) => ({
          sentAt: new Date(),
          event: "test",
          target,
          ok: false,
          cause: "refused",
          detail: "127.0.0.1:9",
          slotId: null,
          sentBy: "serg",
        })),
      );
    }
    page = await (await fetch(`${app.url}/system?lang=ru`, { headers: { cookie } })).text();
    expect(page.match(/data-notification=/g)).toHaveLength(20);
    expect(await app.runtime.store.notifications.recent(100)).toHaveLength(26);
  });
});
