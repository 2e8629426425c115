/**
 * The web UI over plain HTTP: who may see which page, redirects to /login, htmx redirects, the
 * read-only settings for igor, CSRF refusal, escaping of user data, language switch, the guest
 * share page and QR, the public gallery link (expiry, revocation, rate limit), CSV export.
 */

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { updateSettings } from "../src/modules/settings/service";
import { changeScopes } from "./helpers/admin";
import {
  ADMIN_PASSWORDS,
  dslrFields,
  dslrForm,
  INGEST_PASSWORD,
  postIngest,
  startTestApp,
  type TestApp,
} from "./helpers/app";
import { makeJpeg } from "./helpers/images";

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(() => app.stop());

const PAGES = ["/", "/slots/slot-001", "/gallery", "/jobs", "/settings", "/stats"];

async function uiLogin(username: keyof typeof ADMIN_PASSWORDS, password: string = ADMIN_PASSWORDS[username]) {
  return fetch(`${app.url}/login`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", origin: app.url },
    body: new URLSearchParams({ username, password, next: "/gallery" }),
    redirect: "manual",
  });
}

async function cookieFor(username: keyof typeof ADMIN_PASSWORDS): Promise<string> {
  const res = await uiLogin(username);
  expect(res.status).toBe(303);
  return res.headers.get("set-cookie")!.split(";")[0]!;
}

function get(path: string, cookie?: string, headers: Record<string, string> = {}) {
  return fetch(`${app.url}${path}`, {
    headers: { ...(cookie ? { cookie } : {}), ...headers },
    redirect: "manual",
  });
}

function post(
  path: string,
  cookie: string,
  form: Record<string, string>,
  headers: Record<string, string> = {},
) {
  return fetch(`${app.url}${path}`, {
    method: "POST",
    headers: {
      cookie,
      origin: app.url,
      "content-type": "application/x-www-form-urlencoded",
      "hx-request": "true",
      ...headers,
    },
    body: new URLSearchParams(form),
    redirect: "manual",
  });
}

async function ingestOnce(slotId = "slot-001"): Promise<string> {
  const res = await postIngest(app, slotId, dslrForm(await makeJpeg(80, 60)));
  expect(res.status).toBe(200);
  return res.headers.get("x-job-id")!;
}

describe("access rules", () => {
  test("every admin page redirects an anonymous visitor to /login, remembering the page", async () => {
    for (const path of PAGES) {
      const res = await get(path);
      expect(res.status).toBe(302);
      const location = res.headers.get("location")!;
      expect(location.startsWith("/login")).toBe(true);
      if (path !== "/") expect(new URL(location, app.url).searchParams.get("next")).toBe(path);
    }
  });

  test("an htmx request without a session gets HX-Redirect instead of a page", async () => {
    const res = await get("/partials/slots-live", undefined, { "hx-request": "true" });
    expect(res.status).toBe(401);
    expect(res.headers.get("hx-redirect")?.startsWith("/login")).toBe(true);
  });

  test("a lapsed or forged session cookie sends the visitor to /login saying the session expired", async () => {
    const res = await get("/", "pc_session=forged.token.value");
    expect(res.status).toBe(302);
    expect(res.headers.get("location")).toContain("reason=expired");
    const page = await (await get(res.headers.get("location")!)).text();
    expect(page).toContain("Сессия истекла");
  });

  test("signed in, every page renders as HTML (Russian by default)", async () => {
    const cookie = await cookieFor("serg");
    for (const path of PAGES) {
      const res = await get(path, cookie);
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toContain("text/html");
      const html = await res.text();
      expect(html.startsWith("<!doctype html>")).toBe(true);
      expect(html).toContain('<html lang="ru">');
    }
  });

  test("without settings:write igor sees settings read-only and cannot change them; serg can", async () => {
    await changeScopes(app, "igor", { remove: ["settings:write"] });
    const igor = await cookieFor("igor");
    const page = await (await get("/settings", igor)).text();
    expect(page).toContain("Только просмотр");
    expect(page).not.toContain('id="generate-password"');
    expect(page).toMatch(/name="sync_response_seconds"[^>]*disabled/);
    const refused = await post("/settings/ingest-password", igor, { generate: "true" });
    expect(refused.status).toBe(403);
    expect(refused.headers.get("content-type")).toContain("text/html");
    expect(await refused.text()).toContain("Недостаточно прав");
    expect(await app.runtime.settings.verifyIngestPassword(INGEST_PASSWORD)).toBe(true);

    const serg = await cookieFor("serg");
    const sergPage = await (await get("/settings", serg)).text();
    expect(sergPage).toContain('id="generate-password"');
  });

  test("a cookie-authenticated form post from another site is refused with a readable page", async () => {
    const cookie = await cookieFor("serg");
    const res = await post(
      "/settings",
      cookie,
      { sync_response_seconds: "30" },
      { origin: "http://evil.example", "sec-fetch-site": "cross-site" },
    );
    expect(res.status).toBe(403);
    expect(await res.text()).toContain("Запрос отклонён");
    expect((await app.runtime.settings.current()).syncResponseSeconds).toBe(48);
  });

  test("logout revokes the session", async () => {
    const cookie = await cookieFor("serg");
    const out = await fetch(`${app.url}/logout`, {
      method: "POST",
      headers: { cookie, origin: app.url },
      redirect: "manual",
    });
    expect(out.status).toBe(303);
    expect((await get("/", cookie)).status).toBe(302);
  });
});

describe("login page", () => {
  test("wrong password shows a clear message; the throttle message says when to retry", async () => {
    const bad = await uiLogin("igor", "wrong-password");
    expect(bad.status).toBe(401);
    expect(await bad.text()).toContain("Неверное имя пользователя или пароль");
    for (let i = 0; i < 5; i++) await uiLogin("igor", "wrong-password");
    const throttled = await uiLogin("igor", "wrong-password");
    expect(throttled.status).toBe(429);
    const text = await throttled.text();
    expect(text).toContain("Слишком много неудачных попыток");
    expect(text).not.toContain('"error"');
  });

  test("English by ?lang=en, remembered in a cookie", async () => {
    const res = await get("/login?lang=en");
    expect(await res.text()).toContain("Sign in to PhotoChanger");
    const lang = res.headers.get("set-cookie")!.split(";")[0]!;
    expect(await (await get("/login", lang)).text()).toContain('<html lang="en">');
  });

  test("an already signed-in admin is sent on; `next` never leaves the site", async () => {
    const cookie = await cookieFor("serg");
    const res = await get("/login?next=//evil.example/x", cookie);
    expect(res.status).toBe(302);
    expect(res.headers.get("location")).toBe("/");
  });
});

describe("pages show data safely", () => {
  test("a slot name with markup is escaped on the dashboard, slot page and gallery", async () => {
    await app.configureSlot("slot-002", { name: '<script>alert("x")</script>' });
    const cookie = await cookieFor("serg");
    for (const path of ["/", "/slots/slot-002", "/gallery"]) {
      const html = await (await get(path, cookie)).text();
      expect(html).not.toContain('<script>alert("x")</script>');
      expect(html).toContain("&lt;script&gt;");
    }
  });

  test("the ingest URL is built from the request's host, or from public_base_url when set", async () => {
    const cookie = await cookieFor("serg");
    const host = new URL(app.url).host;
    expect(await (await get("/", cookie)).text()).toContain(`http://${host}/ingest/slot-001`);
    await app.setSetting("public_base_url", "https://booth.example.org");
    expect(await (await get("/", cookie)).text()).toContain("https://booth.example.org/ingest/slot-001");
    await updateSettings(app.runtime, { public_base_url: null }, "test");
  });

  test("an unknown slot or job is a readable 404 page", async () => {
    const cookie = await cookieFor("serg");
    const s = await get("/slots/slot-099", cookie);
    expect(s.status).toBe(404);
    expect(await s.text()).toContain("Такого слота нет");
    const j = await get("/jobs/00000000-0000-4000-8000-000000000000", cookie);
    expect(j.status).toBe(404);
    expect(await j.text()).toContain("Такой задачи нет");
  });

  test("saving a slot with a bad value shows the field's error and keeps the typed values", async () => {
    const cookie = await cookieFor("serg");
    const res = await post("/slots/slot-003", cookie, {
      version: "1",
      name: "Портрет",
      enabled: "true",
      provider: "local",
      operation: "brighten",
      "s.brightness": "9",
      "s.simulate_delay_ms": "0",
      output_format: "jpeg",
      size_limit_mb: "15",
    });
    expect(res.status).toBe(422);
    const html = await res.text();
    expect(html).toContain("Исправьте выделенные поля");
    expect(html).toMatch(/class="field invalid" data-field="settings\.brightness"/);
    expect(html).toContain('value="Портрет"');
  });

  test("a stale version is reported as a conflict, not silently overwritten", async () => {
    const cookie = await cookieFor("serg");
    const form = {
      name: "A",
      enabled: "true",
      provider: "local",
      operation: "greyscale",
      output_format: "jpeg",
      size_limit_mb: "15",
    };
    expect((await post("/slots/slot-004", cookie, { ...form, version: "1" })).status).toBe(200);
    const stale = await post("/slots/slot-004", cookie, { ...form, name: "B", version: "1" });
    expect(stale.status).toBe(409);
    expect(await stale.text()).toContain("Слот успел изменить кто-то другой");
  });
});

describe("results for guests", () => {
  test("the share page shows the image, a download button and the expiry; the QR code is an SVG", async () => {
    const jobId = await ingestOnce();
    const page = await get(`/r/${jobId}`);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain(`/public/results/${jobId}?download=1`);
    expect(html).toContain("Фото доступно до");
    const qr = await get(`/r/${jobId}/qr.svg`);
    expect(qr.headers.get("content-type")).toBe("image/svg+xml");
    expect(await qr.text()).toMatch(/^<svg[^>]*viewBox="0 0 (\d+) \1"/);
    const missing = await get("/r/00000000-0000-4000-8000-000000000000");
    expect(missing.status).toBe(404);
    expect(await missing.text()).toContain("Фото не найдено");
  });

  test("a public gallery link works until revoked; views are rate limited", async () => {
    await ingestOnce("slot-005");
    const cookie = await cookieFor("serg");
    const made = await post("/gallery/share", cookie, { minutes: "15" });
    expect(made.status).toBe(200);
    const url = /value="([^"]*\/g\/[A-Za-z0-9_-]{32})"/.exec(await made.text())![1]!;
    const path = new URL(url).pathname;
    const view = await get(path);
    expect(view.status).toBe(200);
    const guest = await view.text();
    expect(guest).toContain("<h2>Слот 05</h2>");
    expect(guest).not.toContain("slot-005");
    let last = 200;
    for (let i = 0; i < 30 && last === 200; i++) last = (await get(path)).status;
    expect(last).toBe(429);
    const id = path.split("/").pop()!;
    const revoked = await post(`/gallery/share/${id}/revoke`, cookie, {});
    expect(revoked.status).toBe(200);
    const other = await post("/gallery/share", cookie, { minutes: "60" });
    const otherPath = new URL(/value="([^"]*\/g\/[A-Za-z0-9_-]{32})"/.exec(await other.text())![1]!).pathname;
    const otherId = otherPath.split("/").pop()!;
    await post(`/gallery/share/${otherId}/revoke`, cookie, {});
    const gone = await get(otherPath);
    expect(gone.status).toBe(410);
    expect(await gone.text()).toContain("Ссылка больше не активна");
  });
});

describe("statistics export and assets", () => {
  test("CSV export has a header and one row per slot", async () => {
    await ingestOnce("slot-006");
    const cookie = await cookieFor("serg");
    const res = await get("/stats.csv?period=7d", cookie);
    expect(res.headers.get("content-type")).toContain("text/csv");
    const lines = (await res.text()).trim().split("\n");
    expect(lines[0]).toStartWith("slot_id,name,ingest_count,success");
    expect(lines).toHaveLength(16);
    const row = lines.find((l) => l.startsWith("slot-006,"))!;
    expect(Number(row.split(",")[3])).toBeGreaterThanOrEqual(1);
  });

  test("htmx, CSS and JS come from the server itself, with long caching by content hash", async () => {
    const cookie = await cookieFor("serg");
    const html = await (await get("/", cookie)).text();
    for (const name of ["htmx.min.js", "app.css", "app.js"]) {
      const src = new RegExp(`/assets/${name.replace(".", "\\.")}\\?v=[a-z0-9]+`).exec(html)?.[0];
      expect(src).toBeTruthy();
      const res = await get(src!);
      expect(res.status).toBe(200);
      expect(res.headers.get("cache-control")).toContain("immutable");
    }
    expect(await (await get("/assets/htmx.min.js")).text()).toContain('version:"2.');
    expect((await get("/assets/nope.js")).status).toBe(404);
  });

  test("the booth password form field and dslr fields still work next to the UI (sanity)", async () => {
    const res = await postIngest(
      app,
      "slot-001",
      dslrForm(await makeJpeg(), dslrFields({ password: "wrong" })),
    );
    expect(res.status).toBe(401);
  });
});

describe("front-door refusals", () => {
  const html = { accept: "text/html,application/xhtml+xml" };

  test("a browser gets the app's HTML error page; /api and /ingest keep the JSON envelope", async () => {
    const page = await get("/%01nothing", undefined, html);
    expect(page.status).toBe(404);
    expect(page.headers.get("content-type")).toContain("text/html");
    expect(page.headers.get("content-security-policy")).toContain("default-src 'self'");
    const body = await page.text();
    expect(body).toContain("Страница не найдена");
    expect(body).toContain('name="viewport"');
    // the same page the app gives its own unknown URLs
    const own = await (await get("/no-such-page", undefined, html)).text();
    expect(own).toContain("Страница не найдена");

    const program = await get("/%01nothing");
    expect(program.headers.get("content-type")).toContain("application/json");
    for (const path of ["/api/%01x", "/ingest/%01x"]) {
      const res = await get(path, undefined, html);
      expect(res.status).toBe(404);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe("not_found");
    }

    const big = "x".repeat(20_000);
    const form = await fetch(`${app.url}/login`, {
      method: "POST",
      headers: { ...html, "content-type": "application/x-www-form-urlencoded", origin: app.url },
      body: `username=serg&password=${big}`,
    });
    expect(form.status).toBe(413);
    expect(form.headers.get("content-type")).toContain("text/html");
    expect(await form.text()).toContain("<html");
    const api = await fetch(`${app.url}/api/login`, {
      method: "POST",
      headers: { ...html, "content-type": "application/json" },
      body: JSON.stringify({ username: "serg", password: big }),
    });
    expect(api.status).toBe(413);
    expect(((await api.json()) as { error: { code: string } }).error.code).toBe("payload_too_large");
  });

  // after every other public-route test: it spends this address's burst on them
  test("too many requests to a guest page: an HTML 429 with Retry-After for a browser", async () => {
    let res = await get("/g/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", undefined, html);
    for (let i = 0; i < 200 && res.status !== 429; i++) {
      await res.body?.cancel();
      res = await get("/g/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", undefined, html);
    }
    expect(res.status).toBe(429);
    expect(res.headers.get("retry-after")).toMatch(/^\d+$/);
    expect(res.headers.get("content-type")).toContain("text/html");
    expect(await res.text()).toContain("<html");
  });
});

describe("no inline style", () => {
  test("the CSP allows no style attribute, and no page or fragment carries one", async () => {
    const cookie = await cookieFor("serg");
    for (const path of [...PAGES, "/system", "/audit", "/account", "/login"]) {
      const res = await get(path, path === "/login" ? undefined : cookie);
      expect(res.headers.get("content-security-policy")).not.toContain("unsafe-inline");
      const html = await res.text();
      expect({ path, style: html.match(/<[^>]+\sstyle=/)?.[0] ?? null }).toEqual({ path, style: null });
    }
  });
});
