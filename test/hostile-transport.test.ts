/** Transport and headers: CSP, caching, the session cookie behind a TLS proxy, untrusted X-Forwarded-*. */
import { describe, expect, test } from "bun:test";
import { sql } from "drizzle-orm";
import { ADMIN_PASSWORDS, startTestApp } from "./helpers/app";
import { nextAddress, useHostileApp } from "./helpers/hostile-suite";

const h = useHostileApp();

describe("transport and headers", () => {
  test("pages carry a CSP without inline scripts and no framing; admin JSON is no-store + nosniff", async () => {
    const page = await fetch(`${h.app.url}/login`);
    const csp = page.headers.get("content-security-policy")!;
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toMatch(/script-src[^;]*unsafe-inline/);
    const html = await page.text();
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(html).not.toMatch(/\son[a-z]+=/);
    const apiRes = await fetch(`${h.app.url}/api/slots`, {
      headers: { authorization: `Bearer ${h.session.token}` },
    });
    expect(apiRes.headers.get("cache-control")).toBe("no-store");
    expect(apiRes.headers.get("x-content-type-options")).toBe("nosniff");
  });

  test("behind a trusted TLS proxy the session cookie is __Host- and Secure; plain HTTP keeps pc_session", async () => {
    const viaTls = await fetch(`${h.app.url}/api/login`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "x-forwarded-proto": "https",
        "x-forwarded-for": nextAddress(),
      },
      body: JSON.stringify({ username: "serg", password: ADMIN_PASSWORDS.serg }),
    });
    const secure = viaTls.headers.get("set-cookie")!;
    expect(secure).toStartWith("__Host-pc_session=");
    expect(secure).toContain("Secure");
    expect(secure).toContain("Path=/");
    expect(viaTls.headers.get("strict-transport-security")).toContain("max-age=");
    const token = secure.split(";")[0]!.split("=").slice(1).join("=");
    // Over HTTPS only the __Host- cookie counts; over HTTP the plain name still works.
    const page = await fetch(`${h.app.url}/jobs`, {
      headers: { cookie: `__Host-pc_session=${token}`, "x-forwarded-proto": "https" },
      redirect: "manual",
    });
    expect(page.status).toBe(200);
    const plainOverTls = await fetch(`${h.app.url}/jobs`, {
      headers: { cookie: `pc_session=${token}`, "x-forwarded-proto": "https" },
      redirect: "manual",
    });
    expect(plainOverTls.status).toBe(302);
    const plain = await fetch(`${h.app.url}/api/login`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-forwarded-for": nextAddress() },
      body: JSON.stringify({ username: "serg", password: ADMIN_PASSWORDS.serg }),
    });
    expect(plain.headers.get("set-cookie")).toStartWith("pc_session=");
    expect(plain.headers.get("set-cookie")).not.toContain("Secure");
  });

  test("X-Forwarded-* from an untrusted peer are ignored", async () => {
    const other = await startTestApp({ workers: false });
    try {
      const res = await fetch(`${other.url}/api/login`, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "x-forwarded-proto": "https",
          "x-forwarded-for": "10.9.9.9",
        },
        body: JSON.stringify({ username: "serg", password: ADMIN_PASSWORDS.serg }),
      });
      expect(res.headers.get("set-cookie")).toStartWith("pc_session=");
      const [row] = (await other.db.execute(
        sql`select client_ip from admin_session order by created_at desc limit 1`,
      )) as unknown as { client_ip: string }[];
      expect(row!.client_ip).toBe("127.0.0.1");
    } finally {
      await other.stop();
    }
  });
});
