/** Hostile input on the sign-in routes (test/hostile/login.ts holds the cases), and where a login redirects. */
import { describe, expect, test } from "bun:test";
import { ADMIN_PASSWORDS } from "./helpers/app";
import { describeCases, nextAddress, useHostileApp } from "./helpers/hostile-suite";
import { LOGIN_CASES } from "./hostile/login";

const h = useHostileApp();

describeCases("hostile input on login", LOGIN_CASES);

describe("the issue's findings that need more than one request", () => {
  test("after login, next=/%09/evil.example and CR/LF in next land on / (no open redirect, no 500)", async () => {
    for (const next of [
      "/%09/evil.example",
      "/%0d%0aSet-Cookie:%20x=1",
      "%2F%2Fevil.example",
      "/%5C%5Cevil.example",
    ]) {
      const res = await fetch(`${h.app.url}/login`, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded", "x-forwarded-for": nextAddress() },
        body: `username=serg&password=${ADMIN_PASSWORDS.serg}&next=${next}`,
        redirect: "manual",
      });
      expect(res.status).toBe(303);
      expect(res.headers.get("location")).toBe("/");
    }
    const ok = await fetch(`${h.app.url}/login`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", "x-forwarded-for": nextAddress() },
      body: `username=serg&password=${ADMIN_PASSWORDS.serg}&next=${encodeURIComponent("/jobs?status=failed")}`,
      redirect: "manual",
    });
    expect(ok.headers.get("location")).toBe("/jobs?status=failed");
  });
});
