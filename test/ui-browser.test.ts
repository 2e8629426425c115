/**
 * The operator's path through the web UI in a real browser (Debian's Chromium via playwright-core):
 * sign in, set up a slot with the local provider, run a test photo and see the result, copy the
 * booth URL, rotate the ingest password, find the result in the gallery and open its guest page,
 * watch the jobs and statistics pages — with a screenshot of every page at desktop and phone width.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { eq } from "drizzle-orm";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { slot } from "../src/db/schema";
import { dslrFields, dslrForm, INGEST_PASSWORD, postIngest, startTestApp, type TestApp } from "./helpers/app";
import { launchChromium, screenshot } from "./helpers/browser";
import { colourfulness, makeJpeg } from "./helpers/images";

// Real servers, real PostgreSQL, a real browser: far beyond the 5 s default on a 2-core box.
setDefaultTimeout(60_000);

let app: TestApp;
let browser: Browser;
let ctx: BrowserContext;
let page: Page;
const errors: string[] = [];
let photoPath: string;

beforeAll(async () => {
  app = await startTestApp();
  browser = await launchChromium();
  ctx = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: "ru-RU" });
  await ctx.grantPermissions(["clipboard-read", "clipboard-write"], { origin: app.url });
  page = await ctx.newPage();
  page.on("pageerror", (e) => errors.push(e.message));
  page.on("dialog", (d) => d.accept());
  const dir = mkdtempSync(join(tmpdir(), "photochanger-ui-"));
  photoPath = join(dir, "photo.jpg");
  writeFileSync(photoPath, await makeJpeg(320, 240)); // a colourful gradient
});

afterAll(async () => {
  await browser?.close();
  await app?.stop();
});

describe("an operator in the browser", () => {
  test("signs in (with show/hide password)", async () => {
    await page.goto(`${app.url}/`);
    expect(new URL(page.url()).pathname).toBe("/login");
    await screenshot(page, "login");
    await page.fill("#username", "serg");
    await page.fill("#password", "wrong-password");
    await page.click("[data-toggle-password=password]");
    expect(await page.getAttribute("#password", "type")).toBe("text");
    await page.click("[data-toggle-password=password]");
    expect(await page.getAttribute("#password", "type")).toBe("password");
    await page.click("#login-form button[type=submit]");
    await page.waitForSelector("#login-error");
    expect(await page.textContent("#login-error")).toContain("Неверное имя пользователя или пароль");
    await page.fill("#password", "serg-password-1");
    await page.click("#login-form button[type=submit]");
    await page.waitForURL(`${app.url}/`);
    expect(await page.locator(".slot-row").count()).toBe(15);
    await screenshot(page, "dashboard");
  });

  test("copies a slot's booth URL with visible feedback", async () => {
    await page.click("#slot-slot-001 [data-copy-target]");
    await page.waitForSelector("#slot-slot-001 .btn.copied");
    expect(await page.textContent("#slot-slot-001 .btn.copied")).toContain("Скопировано");
    const copied = await page.evaluate(() => navigator.clipboard.readText());
    expect(copied).toBe(`${app.url}/ingest/slot-001`);
  });

  test("sets up slot-001 with the local provider's greyscale operation", async () => {
    await page.click("#slot-slot-001 a.slot-title");
    await page.waitForURL(`${app.url}/slots/slot-001`);
    await page.fill("#f-name", "Чёрно-белый портрет");
    await page.selectOption("#f-operation", "greyscale");
    // htmx re-renders the form for the new operation, keeping what was typed
    await page.waitForFunction(
      () => (document.querySelector("#f-operation") as HTMLSelectElement | null)?.value === "greyscale",
    );
    expect(await page.inputValue("#f-name")).toBe("Чёрно-белый портрет");
    await page.click("#slot-form button[type=submit]");
    await page.waitForSelector("#slot-form .alert.success");
    expect(await page.textContent("#slot-form .alert.success")).toContain("Слот сохранён");
    const [row] = await app.db.select().from(slot).where(eq(slot.id, "slot-001"));
    expect(row).toMatchObject({
      name: "Чёрно-белый портрет",
      provider: "local",
      operation: "greyscale",
      version: 2,
    });
  });

  test("runs a test photo and sees the greyscale result inline with timings", async () => {
    await page.setInputFiles("#drop-test input[type=file]", photoPath);
    await page.waitForSelector("#drop-test .preview:not([hidden])");
    await page.click("#test-form button[type=submit]");
    await page.waitForSelector("#test-result img", { timeout: 30_000 });
    const jobId = await page.getAttribute("#test-result", "data-job-id");
    expect(jobId).toBeTruthy();
    await page.waitForFunction(
      () => (document.querySelector("#test-result img") as HTMLImageElement).naturalWidth > 0,
    );
    expect(await page.textContent("#test-result")).toContain("Готово за");
    const job = await app.rt.queue.get(jobId!);
    expect(job?.status).toBe("succeeded");
    expect(job?.operation).toBe("greyscale");
    const result = await (await fetch(`${app.url}/public/results/${jobId}`)).bytes();
    expect(await colourfulness(result)).toBeLessThan(2);
    await screenshot(page, "slot-page");
  });

  test("rotates the ingest password: shown once, the booth's old password stops working", async () => {
    await page.goto(`${app.url}/settings`);
    await page.click("#generate-password");
    await page.waitForSelector("#new-ingest-password");
    const fresh = await page.inputValue("#new-ingest-password");
    expect(fresh.length).toBeGreaterThanOrEqual(8);
    await screenshot(page, "settings");
    const photo = await makeJpeg(64, 48);
    const old = await postIngest(app, "slot-001", dslrForm(photo, dslrFields({ password: INGEST_PASSWORD })));
    expect(old.status).toBe(401);
    const booth = await postIngest(app, "slot-001", dslrForm(photo, dslrFields({ password: fresh })));
    expect(booth.status).toBe(200);
    // shown once: a reload no longer contains it
    await page.reload();
    expect(await page.content()).not.toContain(fresh);
  });

  test("finds the results in the gallery, opens the QR code and the guest page", async () => {
    await page.goto(`${app.url}/gallery`);
    const card = page.locator('details[data-slot="slot-001"] .result-card').first();
    await card.waitFor();
    expect(await page.locator('details[data-slot="slot-001"] .result-card').count()).toBeGreaterThanOrEqual(
      2,
    );
    const jobId = (await card.getAttribute("data-job-id"))!;
    await card.locator("[data-dialog]").click();
    const qr = page.locator(`#qr-${jobId} img.qr`);
    await qr.waitFor();
    await page.waitForFunction(
      (id) => (document.querySelector(`#qr-${id} img.qr`) as HTMLImageElement).naturalWidth > 0,
      jobId,
    );
    await screenshot(page, "gallery");
    await page.keyboard.press("Escape");

    await page.click("#share-card button[type=submit]");
    await page.waitForSelector("#share-card [data-share-id]");
    const shareUrl = await page.inputValue("#share-card input[id^=share-]");
    expect(shareUrl).toContain("/g/");

    const phone = await ctx.newPage();
    await phone.setViewportSize({ width: 390, height: 844 });
    await phone.goto(`${app.url}/r/${jobId}`);
    await phone.waitForFunction(
      () => (document.querySelector("img.result") as HTMLImageElement)?.naturalWidth > 0,
    );
    expect(await phone.textContent("body")).toContain("Фото доступно до");
    const download = await phone.getAttribute("a[download]", "href");
    expect(download).toBe(`/public/results/${jobId}?download=1`);
    const noOverflow = await phone.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth);
    expect(noOverflow).toBe(true);
    await screenshot(phone, "share-page-phone");
    await phone.goto(shareUrl);
    // guests see the booth's photo (the test shot stays private)
    expect(await phone.locator(".slot-group.guest [data-result]").count()).toBe(1);
    await screenshot(phone, "public-gallery-phone");
    await phone.close();
  });

  test("watches the jobs page: the finished jobs with their timeline", async () => {
    await page.goto(`${app.url}/jobs`);
    await page.waitForSelector("#live-queue");
    expect(await page.locator("#job-list tr[data-job-id]").count()).toBeGreaterThanOrEqual(2);
    await page.selectOption("#flt-source", "test_run");
    await page.click(".filters button[type=submit]");
    await page.waitForURL(/source=test_run/);
    await page.waitForFunction(() => document.querySelectorAll("#job-list tr[data-job-id]").length === 1);
    await screenshot(page, "jobs");
    await page.click("#job-list tr[data-job-id] a");
    await page.waitForSelector(".timeline li");
    expect(await page.textContent(".timeline")).toContain("получено");
    await screenshot(page, "job-detail");
  });

  test("sees the statistics page with KPIs, the SLA table and the chart", async () => {
    await page.goto(`${app.url}/stats`);
    await page.waitForSelector("#sla-table");
    expect(await page.locator("#sla-table tbody tr").count()).toBe(15);
    await page.waitForSelector("#stats-chart rect");
    const slot1 = await page.textContent('#sla-table tr[data-slot="slot-001"]');
    expect(slot1).toContain("Чёрно-белый портрет");
    await page.click(".segmented a:has-text('7')");
    await page.waitForURL(/period=7d/);
    await page.waitForSelector("#stats-chart rect");
    await screenshot(page, "stats");
  });

  test("every page fits a 390 px phone screen", async () => {
    const phone = await ctx.newPage();
    await phone.setViewportSize({ width: 390, height: 844 });
    for (const path of ["/", "/slots/slot-001", "/gallery", "/jobs", "/settings", "/stats"]) {
      await phone.goto(`${app.url}${path}`);
      const overflow = await phone.evaluate(() => {
        // wide tables scroll inside their own box; the page itself must not
        return document.documentElement.scrollWidth - window.innerWidth;
      });
      expect({ path, overflow }).toEqual({ path, overflow: 0 });
      await screenshot(phone, `phone${path === "/" ? "-dashboard" : path.replaceAll("/", "-")}`);
    }
    await phone.close();
  });

  test("signs out, and the pages ask for a login again; no script errors happened", async () => {
    await page.goto(`${app.url}/`);
    await page.click("form[action='/logout'] button");
    await page.waitForURL(/\/login/);
    expect(await page.textContent("body")).toContain("Вы вышли");
    await page.goto(`${app.url}/settings`);
    expect(new URL(page.url()).pathname).toBe("/login");
    expect(errors).toEqual([]);
  });
});
