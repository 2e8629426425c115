import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { ADMIN_PASSWORDS, json, startTestApp, type TestApp } from "./helpers/app";

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp({ workers: false });
});
afterAll(() => app.stop());

async function login(username: string, password: string) {
  return fetch(`${app.url}/api/login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ username, password }),
  });
}

describe("login and sessions", () => {
  test("a token works as Bearer and as the HttpOnly cookie; logout revokes it", async () => {
    const res = await login("serg", ADMIN_PASSWORDS.serg);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { access_token: string; token_type: string; expires_in: number };
    expect(body.token_type).toBe("bearer");
    expect(body.expires_in).toBeGreaterThan(0);
    const setCookie = res.headers.get("set-cookie")!;
    expect(setCookie).toContain("HttpOnly");
    expect(setCookie.toLowerCase()).toContain("samesite=strict");

    const bearer = await fetch(`${app.url}/api/providers`, {
      headers: { authorization: `Bearer ${body.access_token}` },
    });
    expect(bearer.status).toBe(200);
    const catalogue = (await bearer.json()) as { data: { id: string; operations: { id: string }[] }[] };
    expect(catalogue.data.find((p) => p.id === "local")!.operations.map((o) => o.id)).toContain("greyscale");

    const cookie = setCookie.split(";")[0]!;
    expect((await fetch(`${app.url}/api/providers`, { headers: { cookie } })).status).toBe(200);

    const out = await fetch(`${app.url}/api/logout`, {
      method: "POST",
      headers: { authorization: `Bearer ${body.access_token}` },
    });
    expect(out.status).toBe(204);
    const after = await fetch(`${app.url}/api/providers`, {
      headers: { authorization: `Bearer ${body.access_token}` },
    });
    expect(after.status).toBe(401);
    expect((await json(after)).error.code).toBe("unauthorized");
  });

  test("no token, a forged token and a wrong password are refused", async () => {
    expect((await fetch(`${app.url}/api/providers`)).status).toBe(401);
    const forged = await fetch(`${app.url}/api/providers`, {
      headers: { authorization: "Bearer abc.def.ghi" },
    });
    expect(forged.status).toBe(401);
    const bad = await login("igor", "wrong");
    expect(bad.status).toBe(401);
    expect((await json(bad)).error.code).toBe("invalid_credentials");
    const unknown = await login("mallory", "whatever");
    expect(unknown.status).toBe(401);
  });
});
