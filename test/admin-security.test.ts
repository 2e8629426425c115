/**
 * The admin API's security: sessions (Bearer and cookie, logout revokes), scopes, refusal of
 * cross-site cookie requests, login throttling with the same answer for unknown users, and the
 * OpenAPI document covering every route.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { api, changeScopes, login } from "./helpers/admin";
import { ADMIN_PASSWORDS, json, startTestApp, type TestApp } from "./helpers/app";

let app: TestApp;
const logLines: string[] = [];

beforeAll(async () => {
  app = await startTestApp({ workers: false, logLines });
});
afterAll(() => app.stop());

function attempt(username: string, password: string) {
  return fetch(`${app.url}/api/login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ username, password }),
  });
}

describe("sessions", () => {
  test("login answers {access_token, token_type, expires_in} and a strict HttpOnly cookie", async () => {
    const res = await attempt("igor", ADMIN_PASSWORDS.igor);
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toBe("no-store");
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toEqual({
      access_token: expect.any(String),
      token_type: "bearer",
      expires_in: app.config.jwtTtlSeconds,
    });
    const cookie = res.headers.get("set-cookie")!;
    expect(cookie).toStartWith("pc_session=");
    expect(cookie).toContain("HttpOnly");
    expect(cookie).toContain("SameSite=Strict");
    expect(cookie).toContain("Path=/");
  });

  test("logout revokes the session for both the cookie and the token", async () => {
    const session = await login(app, "serg");
    const viaCookie = () => fetch(`${app.url}/api/slots`, { headers: { cookie: session.cookie } });
    expect((await viaCookie()).status).toBe(200);
    const out = await fetch(`${app.url}/api/logout`, {
      method: "POST",
      headers: { cookie: session.cookie, origin: app.url },
    });
    expect(out.status).toBe(204);
    const after = await viaCookie();
    expect(after.status).toBe(401);
    expect((await json(after)).error.code).toBe("unauthorized");
    expect((await api(app, session)("GET", "/api/jobs")).status).toBe(401);
  });
});

describe("scopes", () => {
  test("every admin route needs a session: 401 unauthorized without one", async () => {
    const anon = api(app, null);
    const routes: [string, string][] = [
      ["GET", "/api/slots"],
      ["GET", "/api/slots/slot-001"],
      ["PUT", "/api/slots/slot-001"],
      ["POST", "/api/slots/slot-001/test-run"],
      ["POST", "/api/slots/slot-001/reset_stats"],
      ["POST", "/api/slots/slot-001/templates"],
      ["DELETE", "/api/slots/slot-001/templates/5b0c5a4e-3f0e-4a55-9d1c-1f0f0f0f0f0f"],
      ["GET", "/api/slots/slot-001/templates/5b0c5a4e-3f0e-4a55-9d1c-1f0f0f0f0f0f/preview"],
      ["GET", "/api/jobs"],
      ["GET", "/api/jobs/5b0c5a4e-3f0e-4a55-9d1c-1f0f0f0f0f0f"],
      ["POST", "/api/jobs/5b0c5a4e-3f0e-4a55-9d1c-1f0f0f0f0f0f/cancel"],
      ["GET", "/api/settings"],
      ["PUT", "/api/settings"],
      ["POST", "/api/media/cache/purge"],
      ["GET", "/api/providers"],
    ];
    for (const [method, path] of routes) {
      const res = await anon(method, path, method === "PUT" ? { json: {} } : {});
      expect(`${method} ${path} ${res.status}`).toBe(`${method} ${path} 401`);
      expect((await json(res)).error.code).toBe("unauthorized");
    }
  });

  test("both admins have every scope by default; a withdrawn scope is 403 forbidden naming it", async () => {
    const igor = api(app, await login(app, "igor"));
    expect((await igor("PUT", "/api/settings", { json: {} })).status).toBe(200);
    // Scopes are read from admin_user.scopes on every request: the change applies to the live session.
    await changeScopes(app, "igor", { remove: ["settings:write"] });
    expect((await igor("GET", "/api/settings")).status).toBe(200);
    expect((await igor("PUT", "/api/slots/slot-001", { json: { name: "Igor's" } })).status).toBe(200);
    for (const [method, path] of [
      ["PUT", "/api/settings"],
      ["POST", "/api/media/cache/purge"],
    ] as const) {
      const res = await igor(method, path, { json: {} });
      expect(res.status).toBe(403);
      const body = await json(res);
      expect(body.error.code).toBe("forbidden");
      expect(body.error.details.required).toBe("settings:write");
    }
  });
});

describe("cross-site requests with the session cookie", () => {
  const change = (headers: Record<string, string>) =>
    fetch(`${app.url}/api/slots/slot-002`, {
      method: "PUT",
      headers: { "content-type": "application/json", ...headers },
      body: JSON.stringify({ name: "Changed" }),
    });

  test("are refused for state changes (Origin of another host, cross-site fetch metadata, no origin)", async () => {
    const { cookie } = await login(app, "serg");
    const attempts: Record<string, string>[] = [
      { cookie, origin: "http://evil.example" },
      { cookie, origin: "http://evil.example", "sec-fetch-site": "cross-site" },
      { cookie, origin: app.url, "sec-fetch-site": "cross-site" },
      { cookie, referer: "http://evil.example/page" },
      { cookie },
    ];
    for (const headers of attempts) {
      const res = await change(headers);
      expect(res.status).toBe(403);
      expect((await json(res)).error.code).toBe("csrf_refused");
    }
    const purge = await fetch(`${app.url}/api/media/cache/purge`, {
      method: "POST",
      headers: { cookie, origin: "http://evil.example" },
    });
    expect(purge.status).toBe(403);
    const slot = (await (await api(app, await login(app, "serg"))("GET", "/api/slots/slot-002")).json()) as {
      name: string;
      version: number;
    };
    expect(slot.version).toBe(1);
  });

  test("are accepted from our own pages, and reads are never blocked", async () => {
    const { cookie } = await login(app, "serg");
    expect((await change({ cookie, origin: app.url })).status).toBe(200);
    expect((await change({ cookie, "sec-fetch-site": "same-origin" })).status).toBe(200);
    expect((await change({ cookie, referer: `${app.url}/slots/slot-002` })).status).toBe(200);
    const read = await fetch(`${app.url}/api/slots/slot-002`, {
      headers: { cookie, origin: "http://evil.example", "sec-fetch-site": "cross-site" },
    });
    expect(read.status).toBe(200);
  });

  test("Bearer clients are not subject to the origin check", async () => {
    const { token } = await login(app, "serg");
    expect((await change({ authorization: `Bearer ${token}` })).status).toBe(200);
    expect((await change({ authorization: `Bearer ${token}`, origin: "http://evil.example" })).status).toBe(
      200,
    );
  });
});

describe("login throttling", () => {
  test("5 failures per user+address → 429 login_throttled with Retry-After, even for the right password", async () => {
    for (let i = 0; i < 5; i++) expect((await attempt("igor", `wrong-${i}`)).status).toBe(401);
    const throttled = await attempt("igor", ADMIN_PASSWORDS.igor);
    expect(throttled.status).toBe(429);
    const retryAfter = Number(throttled.headers.get("retry-after"));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(15 * 60);
    const body = await json(throttled);
    expect(body.error.code).toBe("login_throttled");
    expect(body.error.details.retry_after_seconds).toBe(retryAfter);
    // Another user from the same address is not locked out by igor's failures.
    expect((await attempt("serg", ADMIN_PASSWORDS.serg)).status).toBe(200);
  });

  test("an unknown user gets the same answer as a wrong password, and the same throttle", async () => {
    const wrong = await attempt("serg", "not-the-password");
    const unknown = await attempt("mallory", "not-the-password");
    expect(unknown.status).toBe(wrong.status);
    expect(await unknown.json()).toEqual(await wrong.json());
    for (let i = 0; i < 4; i++) await attempt("mallory", "guess");
    const locked = await attempt("mallory", "guess");
    expect(locked.status).toBe(429);
    expect((await json(locked)).error.code).toBe("login_throttled");
    const failures = logLines.filter((l) => l.includes('"auth.login.failure"'));
    expect(failures.some((l) => l.includes('"username":"mallory"'))).toBe(true);
    for (const pw of Object.values(ADMIN_PASSWORDS)) {
      expect(logLines.filter((l) => l.includes(pw))).toEqual([]);
    }
  });
});

describe("the OpenAPI document", () => {
  test("/api/openapi.json describes every ingest, public and admin route", async () => {
    const res = await fetch(`${app.url}/api/openapi.json`);
    expect(res.status).toBe(200);
    const doc = (await res.json()) as {
      openapi: string;
      info: { title: string };
      paths: Record<string, Record<string, { summary?: string; responses?: Record<string, unknown> }>>;
    };
    expect(doc.openapi).toStartWith("3.");
    expect(doc.info.title).toBe("PhotoChanger API");
    const expected: [string, string][] = [
      ["/ingest/{slotId}", "post"],
      ["/api/ingest/{slotId}", "post"],
      ["/public/results/{jobId}", "get"],
      ["/public/results/{jobId}/thumb", "get"],
      ["/public/media/{id}", "get"],
      ["/api/login", "post"],
      ["/api/logout", "post"],
      ["/api/providers", "get"],
      ["/api/slots", "get"],
      ["/api/slots/{id}", "get"],
      ["/api/slots/{id}", "put"],
      ["/api/slots/{id}/test-run", "post"],
      ["/api/slots/{id}/reset_stats", "post"],
      ["/api/slots/{id}/templates", "post"],
      ["/api/slots/{id}/templates/{tid}", "delete"],
      ["/api/slots/{id}/templates/{tid}/preview", "get"],
      ["/api/jobs", "get"],
      ["/api/jobs/{id}", "get"],
      ["/api/jobs/{id}/cancel", "post"],
      ["/api/settings", "get"],
      ["/api/settings", "put"],
      ["/api/media/cache/purge", "post"],
      ["/healthz", "get"],
    ];
    for (const [path, method] of expected) {
      expect(`${method} ${path}: ${typeof doc.paths[path]?.[method]?.summary}`).toBe(
        `${method} ${path}: string`,
      );
    }
    // No route of the app is left undocumented.
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const [method, operation] of Object.entries(ops)) {
        expect(`${method} ${path}: ${typeof operation.summary}`).toBe(`${method} ${path}: string`);
      }
    }
    const put = doc.paths["/api/slots/{id}"]!.put as {
      requestBody: { content: Record<string, { schema: { properties: Record<string, unknown> } }> };
      responses: Record<string, unknown>;
    };
    expect(Object.keys(put.requestBody.content["application/json"]!.schema.properties)).toEqual(
      expect.arrayContaining([
        "name",
        "enabled",
        "provider",
        "operation",
        "settings",
        "size_limit_mb",
        "output_format",
      ]),
    );
    expect(Object.keys(put.responses)).toEqual(expect.arrayContaining(["200", "401", "403", "409", "422"]));
  });
});
