/**
 * A booth locked out by wrong passwords (issue 20, item 1): while blocked, one attempt is still
 * verified every 30 s and the right password lifts the block at once; a wrong one keeps it; a
 * guessing client stays under ~3,000 tries a day. Blocks are listed and lifted by the API
 * (`/api/blocks`) and the CLI (`photochanger unblock`), audited.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { ManualClock } from "../src/lib/clock";
import { ATTENTION_WINDOW_MS } from "../src/modules/attention/service";
import {
  INGEST_PASSWORD_RULE,
  LOGIN_RULE,
  recordFailure,
  reserveAttempt,
} from "../src/modules/auth/throttle";
import { localProvider } from "../src/providers/local";
import { api, changeScopes, login } from "./helpers/admin";
import {
  ADMIN_PASSWORDS,
  dslrFields,
  dslrForm,
  INGEST_PASSWORD,
  json,
  postIngest,
  startTestApp,
  type TestApp,
} from "./helpers/app";
import { runCli } from "./helpers/cli";
import { makeJpeg } from "./helpers/images";

let app: TestApp;
const clock = new ManualClock();
let photo: Uint8Array;

beforeAll(async () => {
  app = await startTestApp({ clock, providers: [localProvider] });
  photo = await makeJpeg(64, 48);
  await app.configureSlot("slot-001", { provider: "local", operation: "passthrough", settings: {} });
});
afterAll(() => app.stop());

const wrong = (i: number) =>
  postIngest(app, "slot-001", dslrForm(photo, dslrFields({ password: `old-${i}` })));
const right = () => postIngest(app, "slot-001", dslrForm(photo));

async function auditOf(action: string) {
  return app.sql<{ actor: string; details: Record<string, unknown> }[]>`
    select actor, details from audit_log where action = ${action} order by id`;
}

describe("a blocked booth address", () => {
  test("gets one attempt every 30 s: a wrong one keeps the block, the right one lifts it at once", async () => {
    const admin = api(app, await login(app, "serg"));
    for (let i = 0; i < 10; i++) expect((await wrong(i)).status).toBe(401);
    // blocked: even the right password waits for the next probe, at most 30 s away
    const refused = await right();
    expect(refused.status).toBe(429);
    expect((await json(refused)).error.code).toBe("too_many_attempts");
    expect(Number(refused.headers.get("retry-after"))).toBe(30);

    let blocks = (await (await admin("GET", "/api/blocks")).json()) as {
      data: { scope: string; key: string; failures: number; until: string }[];
    };
    expect(blocks.data).toEqual([
      {
        scope: "ingest",
        key: "127.0.0.1",
        failures: 10,
        until: new Date(clock.now().getTime() + 10 * 60_000).toISOString(),
      },
    ]);

    // the probe comes 30 s later: a wrong password is verified (401) and keeps the address blocked
    clock.advance(29_000);
    expect((await right()).status).toBe(429);
    clock.advance(1_000);
    expect((await wrong(10)).status).toBe(401);
    expect((await right()).status).toBe(429);
    blocks = (await (await admin("GET", "/api/blocks")).json()) as typeof blocks;
    expect(blocks.data[0]!.failures).toBe(11);
    // the block runs 10 minutes from the last wrong try, not from the first
    expect(blocks.data[0]!.until).toBe(new Date(clock.now().getTime() + 10 * 60_000).toISOString());

    // the booth now has the right password: its next probe gets in, and the block is gone
    clock.advance(30_000);
    expect((await right()).status).toBe(200);
    expect((await right()).status).toBe(200);
    blocks = (await (await admin("GET", "/api/blocks")).json()) as typeof blocks;
    expect(blocks.data).toEqual([]);
  });

  test("a client guessing as fast as it can gets at most 10 + one per 30 s (under 3,000 a day)", async () => {
    const { auth } = app.runtime.store;
    const key = "203.0.113.7";
    const start = clock.now().getTime();
    let verified = 0;
    // an attempt every 5 s for two hours: 1,440 tries
    for (let t = 0; t < 2 * 3600_000; t += 5_000) {
      const now = new Date(start + t);
      if ((await reserveAttempt(auth, INGEST_PASSWORD_RULE, key, now)) === 0) {
        verified++;
        await recordFailure(auth, INGEST_PASSWORD_RULE, key, now);
      }
    }
    // 10 at once, then one per 30 s (a day: 10 + 2,880)
    expect(verified).toBeGreaterThan(200);
    expect(verified).toBeLessThanOrEqual(10 + (2 * 3600) / 30);
    const [row] = await auth.blocked(new Date(start + 2 * 3600_000));
    expect(row?.key).toBe(key);
    await auth.clearAttempts("ingest", key);
  });

  test("a login block is unchanged: 5 failures lock user+address until the window ends, no probes", async () => {
    const { auth } = app.runtime.store;
    const key = "igor|198.51.100.9";
    const start = clock.now().getTime();
    for (let i = 0; i < 5; i++) {
      expect(await reserveAttempt(auth, LOGIN_RULE, key, new Date(start))).toBe(0);
      await recordFailure(auth, LOGIN_RULE, key, new Date(start));
    }
    const wait = await reserveAttempt(auth, LOGIN_RULE, key, new Date(start + 60_000));
    expect(wait).toBe(14 * 60);
    expect(await reserveAttempt(auth, LOGIN_RULE, key, new Date(start + 15 * 60_000))).toBe(0);
    await auth.clearAttempts("login", key);
  });
});

describe("lifting blocks", () => {
  test("DELETE /api/blocks/{scope}/{key}: 204 and audited; 404 for an unknown block; scopes enforced", async () => {
    for (let i = 0; i < 10; i++) expect((await wrong(100 + i)).status).toBe(401);
    for (let i = 0; i < 5; i++) {
      const res = await fetch(`${app.url}/api/login`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ username: "igor", password: `nope-${i}` }),
      });
      expect(res.status).toBe(401);
    }
    const serg = api(app, await login(app, "serg"));
    const list = (await (await serg("GET", "/api/blocks")).json()) as {
      data: { scope: string; key: string }[];
    };
    expect(list.data.map((b) => `${b.scope}:${b.key}`).sort()).toEqual([
      "ingest:127.0.0.1",
      "login:igor|127.0.0.1",
    ]);

    // without settings:write: 403, and the block stays
    await changeScopes(app, "serg", { remove: ["settings:write"] });
    expect((await serg("DELETE", "/api/blocks/ingest/127.0.0.1")).status).toBe(403);
    await changeScopes(app, "serg", { add: ["settings:write"] });
    expect((await right()).status).toBe(429);

    const unknown = await serg("DELETE", "/api/blocks/ingest/192.0.2.55");
    expect(unknown.status).toBe(404);
    expect((await json(unknown)).error.code).toBe("block_not_found");
    expect((await serg("DELETE", "/api/blocks/nonsense/127.0.0.1")).status).toBe(404);

    const lifted = await serg("DELETE", "/api/blocks/ingest/127.0.0.1");
    expect(lifted.status).toBe(204);
    expect((await right()).status).toBe(200);
    expect((await serg("DELETE", `/api/blocks/login/${encodeURIComponent("igor|127.0.0.1")}`)).status).toBe(
      204,
    );
    expect((await serg("DELETE", "/api/blocks/ingest/127.0.0.1")).status).toBe(404);
    const loginOk = await fetch(`${app.url}/api/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ username: "igor", password: ADMIN_PASSWORDS.igor }),
    });
    expect(loginOk.status).toBe(200);

    const audit = await auditOf("block.lifted");
    expect(audit.map((a) => [a.actor, a.details.scope, a.details.key, a.details.failures])).toEqual([
      ["serg", "ingest", "127.0.0.1", 10],
      ["serg", "login", "igor|127.0.0.1", 5],
    ]);
  });

  test("photochanger unblock <address> | --all", async () => {
    const env = { DATABASE_URL: app.databaseUrl, PHOTOCHANGER_DATA_DIR: app.dataDir };
    const { auth } = app.runtime.store;
    // blocked by the real clock's reckoning too: the CLI reads the system clock
    const now = new Date(Math.max(Date.now(), clock.now().getTime()));
    for (const key of ["192.0.2.10", "192.0.2.11"]) {
      for (let i = 0; i < 10; i++) {
        await reserveAttempt(auth, INGEST_PASSWORD_RULE, key, now);
        await recordFailure(auth, INGEST_PASSWORD_RULE, key, now);
      }
    }
    const one = await runCli(["unblock", "192.0.2.10"], env);
    expect(one).toMatchObject({ code: 0 });
    expect(one.stdout).toContain("unblocked booth address 192.0.2.10 (10 wrong passwords)");
    const again = await runCli(["unblock", "192.0.2.10"], env);
    expect(again.code).toBe(1);
    expect(again.stdout).toContain("192.0.2.10 is not blocked");
    expect((await auth.blocked(now)).map((b) => b.key)).toEqual(["192.0.2.11"]);

    const usage = await runCli(["unblock"], env);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain("expected an address or --all");
    expect((await runCli(["unblock", "192.0.2.11", "--all"], env)).code).toBe(2);
    expect((await auth.blocked(now)).map((b) => b.key)).toEqual(["192.0.2.11"]);

    const all = await runCli(["unblock", "--all"], env);
    expect(all.code).toBe(0);
    expect(all.stdout).toContain("unblocked booth address 192.0.2.11");
    expect(await auth.blocked(now)).toEqual([]);
    const audit = await auditOf("block.lifted");
    expect(audit.filter((a) => a.actor === "cli").map((a) => a.details.key)).toEqual([
      "192.0.2.10",
      "192.0.2.11",
    ]);
  });
});

describe("the console", () => {
  let cookie: string;
  const page = (path: string, lang = "ru") =>
    fetch(`${app.url}${path}${path.includes("?") ? "&" : "?"}lang=${lang}`, { headers: { cookie } }).then(
      (r) => r.text(),
    );
  const post = (path: string, form: Record<string, string>) =>
    fetch(`${app.url}${path}`, {
      method: "POST",
      headers: {
        cookie,
        origin: app.url,
        "hx-request": "true",
        "content-type": "application/x-www-form-urlencoded",
      },
      body: new URLSearchParams(form),
    });

  beforeAll(async () => {
    // an hour on: the refusals of the tests above are out of the banner's window
    clock.advance(ATTENTION_WINDOW_MS + 60_000);
    const res = await fetch(`${app.url}/login`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", origin: app.url },
      body: new URLSearchParams({ username: "serg", password: ADMIN_PASSWORDS.serg }),
      redirect: "manual",
    });
    cookie = res.headers.get("set-cookie")!.split(";")[0]!;
  });

  test("a fresh install's password is no rotation: the banner says what happened, not that it was changed", async () => {
    // as the first start sets it: nobody has rotated it since
    await app.runtime.settings.setIngestPassword(INGEST_PASSWORD, "first-start");
    expect((await wrong(200)).status).toBe(401);
    let dash = await page("/");
    expect(dash).toContain("Будка присылает неверный пароль");
    expect(dash).not.toContain("недавно сменили");
    for (let i = 1; i < 10; i++) expect((await wrong(200 + i)).status).toBe(401);
    dash = await page("/");
    expect(dash).toContain('data-banner="blocked"');
    expect(dash).toMatch(/127\.0\.0\.1: 10 неверных паролей с \d{2}:\d{2}</);
    expect(dash).not.toContain("старый?");
    expect(dash).toContain('data-unblock="ingest:127.0.0.1"');
    expect(dash).toContain("data-confirm=");
    expect(dash).not.toContain("недавно сменили");
    const en = await page("/", "en");
    expect(en).toMatch(/127\.0\.0\.1: 10 wrong passwords since \d{2}:\d{2}/);
  });

  test("after a real rotation the banner asks whether the booth still sends the old password", async () => {
    await app.runtime.settings.setIngestPassword(INGEST_PASSWORD, "serg");
    const dash = await page("/");
    expect(dash).toContain("127.0.0.1: 10 неверных паролей с");
    expect(dash).toContain(" — будка всё ещё отправляет старый?");
    expect(await page("/", "en")).toContain(" — does the booth still send the old one?");
  });

  test("/system lists the block; the banner's unblock lifts it (audited) and the banner drops it", async () => {
    const system = await page("/system");
    expect(system).toContain('id="blocks"');
    expect(system).toContain('data-block="ingest:127.0.0.1"');
    expect(system).toContain("Блокировки после неверных паролей");

    const res = await post("/attention/unblock", { scope: "ingest", key: "127.0.0.1" });
    expect(res.status).toBe(200);
    const banner = await res.text();
    expect(banner).toContain('id="attention"');
    expect(banner).not.toContain('data-banner="blocked"');
    expect((await right()).status).toBe(200);
    // lifted meanwhile elsewhere: no error, the banner just comes back without it
    expect((await post("/attention/unblock", { scope: "ingest", key: "127.0.0.1" })).status).toBe(200);
    const audit = await auditOf("block.lifted");
    expect(audit.at(-1)).toMatchObject({ actor: "serg", details: { scope: "ingest", key: "127.0.0.1" } });
    expect(await page("/audit")).toContain("блокировка после неверных паролей снята");
  });

  test("/system's own unblock answers with the card and a message", async () => {
    for (let i = 0; i < 10; i++) expect((await wrong(300 + i)).status).toBe(401);
    const res = await post("/system/blocks/unblock", { scope: "ingest", key: "127.0.0.1" });
    const card = await res.text();
    expect(card).toContain("Адрес 127.0.0.1 разблокирован.");
    expect(card).toContain("Сейчас никто не заблокирован.");
    const gone = await (await post("/system/blocks/unblock", { scope: "ingest", key: "127.0.0.1" })).text();
    expect(gone).toContain("Этой блокировки уже нет.");
  });
});
