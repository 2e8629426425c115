/**
 * The attention banner an admin can acknowledge (issue 20, item 6): hidden for that admin only,
 * until its condition changes (a new failure brings it back); a stale acknowledgement (the page
 * drawn before the condition changed) hides nothing; on a phone one collapsed line that opens
 * (a <details>, no script needed); it names the slots without repeating their cards.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { localProvider } from "../src/providers/local";
import { SCRIPTED_ID, scriptedProvider } from "./fakes/scripted-provider";
import { ADMIN_PASSWORDS, dslrForm, postIngest, startTestApp, type TestApp } from "./helpers/app";
import { makeJpeg } from "./helpers/images";

let app: TestApp;
let photo: Uint8Array;
const cookies: Record<string, string> = {};

async function signIn(username: "serg" | "igor"): Promise<string> {
  const res = await fetch(`${app.url}/login`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", origin: app.url },
    body: new URLSearchParams({ username, password: ADMIN_PASSWORDS[username] }),
    redirect: "manual",
  });
  return res.headers.get("set-cookie")!.split(";")[0]!;
}

beforeAll(async () => {
  app = await startTestApp({ providers: [localProvider, scriptedProvider] });
  photo = await makeJpeg(64, 48);
  cookies.serg = await signIn("serg");
  cookies.igor = await signIn("igor");
  await app.configureSlot("slot-003", { provider: SCRIPTED_ID, operation: "broken", settings: {} });
  await app.setSetting("public_base_url", "http://studio.example:8080");
});
afterAll(() => app.stop());

const page = (who: "serg" | "igor", path = "/", lang = "ru") =>
  fetch(`${app.url}${path}?lang=${lang}`, { headers: { cookie: cookies[who]! } }).then((r) => r.text());

/** The banner's section of a page. */
function bannerOf(html: string): string {
  const start = html.indexOf('<section id="attention"');
  return html.slice(start, html.indexOf("</section>", start));
}

/** The "got it" button's values for a banner, as the page carries them. */
function ackValues(html: string, key: string): Record<string, string> {
  const m = html.match(new RegExp(`hx-vals="([^"]+)"[^>]*data-ack="${key}"`));
  if (!m) throw new Error(`no ack button for ${key}`);
  return JSON.parse(m[1]!.replaceAll("&#34;", '"').replaceAll("&quot;", '"'));
}

function ack(who: "serg" | "igor", values: Record<string, string>) {
  return fetch(`${app.url}/attention/ack`, {
    method: "POST",
    headers: {
      cookie: cookies[who]!,
      origin: app.url,
      "hx-request": "true",
      "content-type": "application/x-www-form-urlencoded",
    },
    body: new URLSearchParams(values),
  });
}

const fail = async () => expect((await postIngest(app, "slot-003", dslrForm(photo))).status).toBe(502);

describe("the banner", () => {
  test("on a phone one collapsed line that opens: a <details> drawn closed, its gist kept to one line", async () => {
    await fail();
    const banner = bannerOf(await page("serg"));
    expect(banner).toContain('<details class="attention-box" data-attention>');
    expect(banner).not.toMatch(/<details[^>]* open/);
    expect(banner).toMatch(
      /<summary>.*<h2>Требует внимания<\/h2><span class="attention-gist">Слоты не обрабатывают фото с будки<\/span><\/summary>/,
    );
    const css = readFileSync(join(import.meta.dir, "../templates/assets/app.css"), "utf8");
    const phone = css.slice(css.indexOf("@media (max-width: 600px)"));
    expect(phone).toMatch(/\.attention-gist \{[^}]*white-space: nowrap;[^}]*text-overflow: ellipsis;/);
  });

  test("it names the failing slot without repeating its card's counts and reasons", async () => {
    const html = await page("serg");
    const banner = bannerOf(html);
    expect(banner).toContain('data-banner="failing"');
    expect(banner).toContain('href="/slots/slot-003"');
    expect(banner).not.toContain("ошибок за час");
    expect(banner).not.toContain("ошибка провайдера");
    // the card still says it
    expect(html).toContain("ошибок за час: 1");
  });

  test("acknowledged by one admin: hidden for them until a new failure; the other still sees it", async () => {
    const values = ackValues(await page("serg"), "failing");
    const res = await ack("serg", values);
    expect(res.status).toBe(200);
    expect(await res.text()).not.toContain('data-banner="failing"');
    expect(bannerOf(await page("serg"))).not.toContain('data-banner="failing"');
    expect(bannerOf(await page("serg", "/jobs"))).not.toContain('data-banner="failing"');
    expect(bannerOf(await page("igor"))).toContain('data-banner="failing"');
    const partial = await fetch(`${app.url}/partials/attention`, {
      headers: { cookie: cookies.serg!, "hx-request": "true" },
    });
    expect(await partial.text()).not.toContain('data-banner="failing"');

    // a new failure: back for serg too
    await fail();
    expect(bannerOf(await page("serg"))).toContain('data-banner="failing"');
    const rows = await app.sql<{ username: string }[]>`select username from attention_ack`;
    expect(rows).toHaveLength(0); // the outdated acknowledgement is forgotten
  });

  test("an acknowledgement of a condition that has changed since the page was drawn hides nothing", async () => {
    const before = ackValues(await page("igor"), "failing");
    await fail();
    await ack("igor", before);
    expect(bannerOf(await page("igor"))).toContain('data-banner="failing"');
    // made-up keys and fingerprints change nothing either
    await ack("igor", { key: "failing", fingerprint: "nonsense" });
    await ack("igor", { key: "disk", fingerprint: "1" });
    await ack("igor", {});
    expect(bannerOf(await page("igor"))).toContain('data-banner="failing"');
    expect(await app.sql`select 1 from attention_ack`).toHaveLength(0);
  });

  test("a slot that works again ends the banner; in English the button says Got it", async () => {
    const en = await page("igor", "/", "en");
    expect(bannerOf(en)).toContain(">Got it<");
    await app.configureSlot("slot-003", { provider: "local", operation: "passthrough", settings: {} });
    expect((await postIngest(app, "slot-003", dslrForm(photo))).status).toBe(200);
    expect(bannerOf(await page("igor"))).not.toContain('data-banner="failing"');
  });
});
