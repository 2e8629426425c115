/**
 * One rule for an admin's password wherever it is changed: at least MIN_ADMIN_PASSWORD characters;
 * the account page checks the current password like a login (same throttle, so a stolen session
 * cannot guess faster than the login page allows) and keeps its own session; the CLI ends every
 * session of that admin.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { MIN_ADMIN_PASSWORD } from "../src/domain/passwords";
import { ADMIN_PASSWORDS, startTestApp, type TestApp } from "./helpers/app";
import { runCli } from "./helpers/cli";

let app: TestApp;

beforeAll(async () => {
  app = await startTestApp({ workers: false });
});

afterAll(async () => {
  await app.stop();
});

async function signIn(username: "serg" | "igor", password: string = ADMIN_PASSWORDS[username]) {
  const res = await fetch(`${app.url}/login`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", origin: app.url },
    body: new URLSearchParams({ username, password }),
    redirect: "manual",
  });
  return { status: res.status, cookie: res.headers.get("set-cookie")?.split(";")[0] ?? "" };
}

function changeOwn(cookie: string, current: string, next: string) {
  return fetch(`${app.url}/account/password`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", origin: app.url, cookie },
    body: new URLSearchParams({ current, next, repeat: next }),
  });
}

const account = (cookie: string) => fetch(`${app.url}/account`, { headers: { cookie }, redirect: "manual" });

describe("admin passwords", () => {
  test("the CLI sets a password and ends every session of that admin; too short is refused", async () => {
    const env = { DATABASE_URL: app.databaseUrl, PHOTOCHANGER_DATA_DIR: app.dataDir };
    const { cookie } = await signIn("serg");
    expect((await account(cookie)).status).toBe(200);
    const short = await runCli(
      ["admin", "set-password", "serg", "--value", "x".repeat(MIN_ADMIN_PASSWORD - 1)],
      env,
    );
    expect(short.code).toBe(2);
    expect(short.stderr).toContain(`at least ${MIN_ADMIN_PASSWORD} characters`);
    const set = await runCli(["admin", "set-password", "serg", "--value", ADMIN_PASSWORDS.serg], env);
    expect(set.code).toBe(0);
    expect(set.stdout).toContain("1 session ended");
    expect((await account(cookie)).status).toBe(302);
    expect((await signIn("serg")).status).toBe(303);
  });

  test("wrong current passwords on the account page are throttled like logins, the right one too once blocked", async () => {
    const { cookie } = await signIn("igor");
    for (let i = 0; i < 5; i++) {
      const wrong = await changeOwn(cookie, `guess-${i}-not-it`, "another-igor-password");
      expect(wrong.status).toBe(422);
    }
    const blocked = await changeOwn(cookie, ADMIN_PASSWORDS.igor, "another-igor-password");
    expect(blocked.status).toBe(429);
    expect(await blocked.text()).toMatch(/мин/);
    // The same counter as the login page's: no second door for guesses.
    expect((await signIn("igor")).status).toBe(429);
    const row = await app.runtime.store.auth.user("igor");
    expect(await Bun.password.verify(ADMIN_PASSWORDS.igor, row!.passwordHash)).toBe(true);
  });
});
