/**
 * Failures the operator cannot miss: booth refusals counted per slot/reason/hour (a flood only bumps
 * a counter), failing slots on the dashboard and the slot page, the banner on every page (and after
 * a password rotation), a guest gallery without test shots or internals, HTML error pages for
 * browsers while programs keep JSON.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { ingestRefusal } from "../src/db/schema";
import { ManualClock } from "../src/lib/clock";
import { ATTENTION_WINDOW_MS } from "../src/modules/attention/service";
import { localProvider } from "../src/providers/local";
import { SCRIPTED_ID, scriptedProvider } from "./fakes/scripted-provider";
import {
  ADMIN_PASSWORDS,
  dslrFields,
  dslrForm,
  eventually,
  postIngest,
  startTestApp,
  type TestApp,
} from "./helpers/app";
import { makeJpeg } from "./helpers/images";

let app: TestApp;
/** The app's clock: the test lets an hour pass instead of deleting the throttle's rows. */
const clock = new ManualClock();
let cookie: string;
let photo: Uint8Array;

beforeAll(async () => {
  app = await startTestApp({ clock, providers: [localProvider, scriptedProvider] });
  const res = await fetch(`${app.url}/login`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", origin: app.url },
    body: new URLSearchParams({ username: "serg", password: ADMIN_PASSWORDS.serg }),
    redirect: "manual",
  });
  cookie = res.headers.get("set-cookie")!.split(";")[0]!;
  photo = await makeJpeg(64, 48);
});
afterAll(() => app.stop());

function page(path: string, lang = "ru"): Promise<string> {
  return fetch(`${app.url}${path}${path.includes("?") ? "&" : "?"}lang=${lang}`, {
    headers: { cookie },
  }).then((r) => r.text());
}

/** One slot's card on the dashboard, from `<article` to `</article>`. */
function cardOf(html: string, slotId: string): string {
  const at = html.indexOf(`id="slot-${slotId}"`);
  const start = html.lastIndexOf("<article", at);
  return html.slice(start, html.indexOf("</article>", at));
}

async function refusalRows() {
  return app.db.select().from(ingestRefusal);
}

/** The refusal counter is written after the answer: wait until it shows `n`. */
async function refusalsReach(slotId: string, reason: string, n: number) {
  const rowsOf = async () => (await refusalRows()).filter((r) => r.slotId === slotId && r.reason === reason);
  const total = (rows: { count: number }[]) => rows.reduce((a, r) => a + r.count, 0);
  return eventually(async () => {
    const rows = await rowsOf();
    return total(rows) >= n && rows;
  }, 10_000).catch(async () => {
    throw new Error(`refusals of ${slotId}/${reason}: ${total(await rowsOf())}, expected ${n}`);
  });
}

describe("refused booth requests", () => {
  test("a flood of wrong passwords is one counter row, and shows on the dashboard, slot page and banner", async () => {
    for (let i = 0; i < 25; i++) {
      const res = await postIngest(app, "slot-002", dslrForm(photo, dslrFields({ password: `wrong-${i}` })));
      expect([401, 429]).toContain(res.status);
    }
    const rows = await refusalsReach("slot-002", "invalid_credentials", 5);
    expect(rows).toHaveLength(1);
    // the throttle turns later attempts into too_many_attempts; both are counted, each in one row
    const ofSlot = async () => (await refusalRows()).filter((r) => r.slotId === "slot-002");
    const all = await eventually(async () => {
      const rows = await ofSlot();
      return rows.reduce((a, r) => a + r.count, 0) >= 25 && rows;
    }, 10_000).catch(ofSlot);
    expect(all.length).toBeLessThanOrEqual(2);
    expect(all.reduce((a, r) => a + r.count, 0)).toBe(25);

    const dash = await page("/");
    const card = cardOf(dash, "slot-002");
    expect(card).toContain("Отказы будке за час:");
    expect(card).toContain("неверный пароль");
    expect(dash).toContain('data-banner="refusals"');
    expect(dash).toContain("Будка получает отказ: неверный пароль");

    const slotPage = await page("/slots/slot-002");
    expect(slotPage).toContain('id="refusals"');
    expect(slotPage).toContain('data-reason="invalid_credentials"');
    // every admin page carries the banner
    for (const p of ["/jobs", "/gallery", "/settings", "/stats"]) {
      expect({ p, has: (await page(p)).includes('data-banner="refusals"') }).toEqual({ p, has: true });
    }
    // the rest of the file is not about the wrong-password throttle of 127.0.0.1: an hour passes,
    // past the throttle's window and the attention window
    clock.advance(ATTENTION_WINDOW_MS + 60_000);
  });

  test("after a password rotation the banner says the booth still sends the old password", async () => {
    await app.runtime.settings.setIngestPassword("a-brand-new-password", "serg");
    clock.advance(1000); // the booth sends its next photo a second later
    const res = await postIngest(
      app,
      "slot-004",
      dslrForm(photo, dslrFields({ password: "booth-secret-42" })),
    );
    expect(res.status).toBe(401);
    await refusalsReach("slot-004", "invalid_credentials", 1);
    const dash = await page("/");
    expect(dash).toContain("Пароль будки недавно сменили");
    const en = await page("/", "en");
    expect(en).toContain("The booth password was changed recently");
  });

  test("a disabled slot's refusals are recorded under slot_disabled; unknown slots are not", async () => {
    await app.configureSlot("slot-005", { enabled: false });
    const res = await postIngest(app, "slot-005", dslrForm(photo));
    expect(res.status).toBe(404);
    await refusalsReach("slot-005", "slot_disabled", 1);
    const bogus = await postIngest(app, "slot-999", dslrForm(photo));
    expect(bogus.status).toBe(404);
    // A refusal row that must not appear has no event of its own: a later slot-005 refusal, recorded
    // after it, shows the bogus one was handled by then.
    expect((await postIngest(app, "slot-005", dslrForm(photo))).status).toBe(404);
    await refusalsReach("slot-005", "slot_disabled", 2);
    expect((await refusalRows()).some((r) => r.slotId === "slot-999" || r.slotId === "unknown")).toBe(false);
    expect(await page("/")).toContain("слот выключен");
  });
});

describe("failing slots", () => {
  test("a slot whose booth jobs fail is marked failing with count and reason; a success clears it", async () => {
    await app.configureSlot("slot-003", { provider: SCRIPTED_ID, operation: "broken", settings: {} });
    await app.setSetting("public_base_url", "http://127.0.0.1:1");
    for (let i = 0; i < 2; i++) {
      const res = await postIngest(
        app,
        "slot-003",
        dslrForm(photo, dslrFields({ password: "a-brand-new-password" })),
      );
      expect(res.status).toBeGreaterThanOrEqual(500);
    }
    const dash = await page("/");
    const card = cardOf(dash, "slot-003");
    expect(card).toContain("card slot-row failing");
    expect(card).toContain('data-failing="true"');
    expect(card).toContain("ошибок за час: 2");
    expect(card).toContain("ошибка провайдера");
    expect(card).not.toContain("Свободен");
    expect(dash).toContain('data-banner="failing"');
    expect(await page("/slots/slot-003")).toContain('class="slot-trouble failing"');

    await app.configureSlot("slot-003", { provider: "local", operation: "passthrough", settings: {} });
    const ok = await postIngest(
      app,
      "slot-003",
      dslrForm(photo, dslrFields({ password: "a-brand-new-password" })),
    );
    expect(ok.status).toBe(200);
    const after = await page("/");
    const card2 = cardOf(after, "slot-003");
    expect(card2).not.toContain("card slot-row failing");
    expect(card2).toContain("Были ошибки:");
    expect(after).not.toContain('data-banner="failing"');
  });

  test("the banner partial answers htmx polls", async () => {
    const res = await fetch(`${app.url}/partials/attention`, { headers: { cookie, "hx-request": "true" } });
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain('id="attention"');
    expect(html).toContain('data-banner="refusals"');
  });
});

describe("the guests' gallery", () => {
  test("shows booth photos only, without provider, slot ids, on/off state or test shots", async () => {
    const form = new FormData();
    form.append("test_image", new File([photo as Uint8Array<ArrayBuffer>], "t.jpg", { type: "image/jpeg" }));
    const test = await fetch(`${app.url}/slots/slot-003/test`, {
      method: "POST",
      headers: { cookie, origin: app.url, "hx-request": "true" },
      body: form,
    });
    const testHtml = await test.text();
    const testJob = testHtml.match(/data-job-id="([0-9a-f-]{36})"/)?.[1];
    expect(testJob).toBeTruthy();
    const share = await fetch(`${app.url}/gallery/share`, {
      method: "POST",
      headers: {
        cookie,
        origin: app.url,
        "hx-request": "true",
        "content-type": "application/x-www-form-urlencoded",
      },
      body: "minutes=60",
    });
    const shareId = (await share.text()).match(/\/g\/([A-Za-z0-9_-]+)/)?.[1];
    expect(shareId).toBeTruthy();
    const guest = await (await fetch(`${app.url}/g/${shareId}`)).text();
    expect(guest).toContain("data-result");
    expect(guest).not.toContain(testJob!);
    for (const internal of ["slot-003", "Локальн", "local", "Включён", "Выключен", "будка", "тест"]) {
      expect({ internal, found: guest.includes(internal) }).toEqual({ internal, found: false });
    }
  });
});

describe("error pages", () => {
  test("a browser gets a branded HTML 404 page with the phone viewport; programs keep JSON", async () => {
    const html = await fetch(`${app.url}/no/such/page`, { headers: { accept: "text/html,*/*" } });
    expect(html.status).toBe(404);
    expect(html.headers.get("content-type")).toContain("text/html");
    const body = await html.text();
    expect(body).toContain('name="viewport"');
    expect(body).toContain("Страница не найдена");
    expect(body).toContain('class="brand"');

    const en = await fetch(`${app.url}/no/such/page?lang=en`, { headers: { accept: "text/html" } });
    expect(await en.text()).toContain("Page not found");

    const api = await fetch(`${app.url}/api/no-such`, { headers: { accept: "text/html" } });
    expect(api.status).toBe(404);
    expect(api.headers.get("content-type")).toContain("application/json");
    const plain = await fetch(`${app.url}/no/such/page`);
    expect(plain.headers.get("content-type")).toContain("application/json");
  });

  test("an unknown guest photo gets the branded not-found page", async () => {
    const res = await fetch(`${app.url}/r/00000000-0000-4000-8000-000000000000`, {
      headers: { accept: "text/html" },
    });
    expect(res.status).toBe(404);
    const body = await res.text();
    expect(body).toContain("Фото не найдено");
    expect(body).toContain('class="guest-head"');
  });
});
