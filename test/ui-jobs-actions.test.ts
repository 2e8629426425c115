/**
 * The console's side of the fallback provider, job deletion and re-runs (SPEC §11), rendered over
 * plain HTTP: the slot page's fallback section (the same provider-driven form, saved through the
 * page's own POST), the job page's fallback note, delete and run-again actions and their links, the
 * gallery's delete (with the console's confirmation), the settings field and the statistics column.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { eq } from "drizzle-orm";
import { job } from "../src/db/schema";
import { FakeGemini } from "./fakes/gemini";
import {
  ADMIN_PASSWORDS,
  dslrForm,
  eventually,
  postIngest,
  startTestApp,
  type TestApp,
  whenFinal,
} from "./helpers/app";
import { makeJpeg } from "./helpers/images";

const KEY = "AIzaTestKey-ui-actions-0123456789";
let fake: FakeGemini;
let app: TestApp;
let cookie: string;
let photo: Uint8Array;

beforeAll(async () => {
  // Gemini refuses every request (400): a Gemini primary fails at once, without retries.
  fake = new FakeGemini([KEY]);
  fake.unscripted = { kind: "error", status: 400, rpcStatus: "INVALID_ARGUMENT", message: "Bad request" };
  app = await startTestApp({ env: { GEMINI_BASE_URL: fake.url, GEMINI_API_KEY: KEY } });
  photo = await makeJpeg(160, 120);
  const res = await fetch(`${app.url}/login`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", origin: app.url },
    body: new URLSearchParams({ username: "serg", password: ADMIN_PASSWORDS.serg, next: "/" }),
    redirect: "manual",
  });
  cookie = res.headers.get("set-cookie")!.split(";")[0]!;
});
afterAll(async () => {
  await app.stop();
  fake.stop();
});

function page(path: string) {
  return fetch(`${app.url}${path}`, { headers: { cookie }, redirect: "manual" });
}

function post(
  path: string,
  form: Record<string, string> | URLSearchParams,
  headers: Record<string, string> = {},
) {
  return fetch(`${app.url}${path}`, {
    method: "POST",
    headers: { cookie, origin: app.url, "content-type": "application/x-www-form-urlencoded", ...headers },
    body: form instanceof URLSearchParams ? form : new URLSearchParams(form),
    redirect: "manual",
  });
}

async function row(id: string) {
  const [r] = await app.db.select().from(job).where(eq(job.id, id));
  return r!;
}

describe("slot page: the fallback section", () => {
  test("renders the provider-driven form under its own names, re-renders for the chosen provider, and saves", async () => {
    const html = await (await page("/slots/slot-001")).text();
    expect(html).toContain("Резервный провайдер");
    expect(html).toContain('name="fb.provider"');
    expect(html).toContain("Нет — без резервного");

    // choosing Gemini as the fallback brings its operations, prompt and settings (htmx re-render)
    const form = await (
      await page("/slots/slot-001/form?provider=local&operation=passthrough&fb.provider=gemini&version=1")
    ).text();
    expect(form).toContain('name="fb.operation"');
    expect(form).toContain('name="fb.prompt"');
    expect(form).toContain('name="fb.s.model"');

    // a Gemini fallback without its prompt is refused against the fallback's own field
    const bad = await post(
      "/slots/slot-001",
      {
        version: "1",
        name: "Booth",
        enabled: "true",
        provider: "local",
        operation: "passthrough",
        "fb.provider": "gemini",
        "fb.operation": "image_edit",
        output_format: "jpeg",
        size_limit_mb: "15",
      },
      { "hx-request": "true" },
    );
    expect(bad.status).toBe(422);
    expect(await bad.text()).toContain('data-field="fallback.settings.prompt"');
    expect((await row0("slot-001")).fallback).toBeNull();

    const saved = await post(
      "/slots/slot-001",
      {
        version: "1",
        name: "Booth",
        enabled: "true",
        provider: "gemini",
        operation: "image_edit",
        prompt: "Watercolour",
        "fb.provider": "local",
        "fb.operation": "greyscale",
        output_format: "jpeg",
        size_limit_mb: "15",
      },
      { "hx-request": "true" },
    );
    expect(saved.status).toBe(200);
    expect((await row0("slot-001")).fallback).toEqual({
      provider: "local",
      operation: "greyscale",
      settings: {},
    });
    const again = await (await page("/slots/slot-001")).text();
    expect(again).toMatch(/<option value="local" selected>[^<]*<\/option>[\s\S]*name="fb.operation"/);
  });

  test("the page's test run goes to the fallback when the primary fails, and says so", async () => {
    const form = new FormData();
    form.append("test_image", new File([photo as Uint8Array<ArrayBuffer>], "t.jpg", { type: "image/jpeg" }));
    const res = await fetch(`${app.url}/slots/slot-001/test`, {
      method: "POST",
      headers: { cookie, origin: app.url },
      body: form,
    });
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain('id="test-fallback"');
    expect(html).toContain("резервный");
  });
});

async function row0(slotId: string) {
  return (await app.runtime.store.slots.get(slotId))!;
}

describe("job page and gallery actions", () => {
  let served: string;
  let failed: string;
  beforeAll(async () => {
    await app.configureSlot("slot-002", {
      provider: "gemini",
      operation: "image_edit",
      settings: { prompt: "x" },
    });
    const f = await postIngest(app, "slot-002", dslrForm(photo));
    expect(f.status).toBe(502);
    failed = f.headers.get("x-job-id")!;
    await app.configureSlot("slot-003", { provider: "local", operation: "greyscale", settings: {} });
    const ok = await postIngest(app, "slot-003", dslrForm(photo));
    served = ok.headers.get("x-job-id")!;
  });

  test("a failed job offers “Перезапустить”; running it again leads to the new job, which links back", async () => {
    const html = await (await page(`/jobs/${failed}`)).text();
    expect(html).toContain(`action="/jobs/${failed}/rerun"`);
    expect(html).toContain("Перезапустить");
    expect(html).toContain(`action="/jobs/${failed}/delete"`);
    expect(html).toContain('data-confirm="Удалить фото гостя');

    await app.configureSlot("slot-002", { provider: "local", operation: "greyscale", settings: {} });
    const res = await post(`/jobs/${failed}/rerun`, {});
    expect(res.status).toBe(303);
    const location = res.headers.get("location")!;
    const newId = /^\/jobs\/([0-9a-f-]{36})\?done=rerun$/.exec(location)?.[1];
    expect(newId).toBeDefined();
    await whenFinal(app, newId!);
    const fresh = await (await page(location)).text();
    expect(fresh).toContain("Задача перезапущена");
    expect(fresh).toContain(`href="/jobs/${failed}"`); // "Перезапуск задачи <old>"
    const old = await (await page(`/jobs/${failed}`)).text();
    expect(old).toContain("перезапущено →");
    expect(old).toContain(`href="/jobs/${newId}"`);
    // a success offers no re-run
    expect(await (await page(`/jobs/${served}`)).text()).not.toContain(`/jobs/${served}/rerun`);
  });

  test("a fallback-served job says which provider made the photo, in the list and on its page", async () => {
    await app.configureSlot("slot-004", {
      provider: "local",
      operation: "greyscale",
      settings: {},
      fallback: { provider: "local", operation: "passthrough", settings: {} },
    });
    // the primary is not failing here: the fallback note must only appear when the fallback ran
    const ok = await postIngest(app, "slot-004", dslrForm(photo));
    const plain = await (await page(`/jobs/${ok.headers.get("x-job-id")}`)).text();
    expect(plain).not.toContain("резервный");

    const viaFallback = (await app.db.select().from(job).where(eq(job.fallbackUsed, true)))[0]!;
    const detail = await (await page(`/jobs/${viaFallback.id}`)).text();
    expect(detail).toContain("фото сделал резервный");
    expect(detail).toContain("переход на резервный провайдер");
    const list = await (await page("/jobs")).text();
    expect(list).toMatch(new RegExp(`data-job-id="${viaFallback.id}"[\\s\\S]*?data-fallback`));
  });

  test("the gallery deletes a result after the console's confirmation; the job page then says it was removed", async () => {
    const gallery = await (await page("/gallery")).text();
    expect(gallery).toContain(`hx-post="/jobs/${served}/delete"`);
    expect(gallery).toContain('data-confirm="Удалить фото гостя');
    const res = await post(`/jobs/${served}/delete`, {}, { "hx-request": "true" });
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('data-deleted="true"');
    expect((await row(served)).deletedAt).not.toBeNull();
    expect(await (await page("/gallery")).text()).not.toContain(`/public/results/${served}/thumb`);
    const detail = await (await page(`/jobs/${served}`)).text();
    expect(detail).toContain("Фото удалено по просьбе студии (serg");
    expect(detail).not.toContain(`action="/jobs/${served}/delete"`);
    const list = await (await page("/jobs?slot=slot-003")).text();
    expect(list).toContain("data-deleted");
  });

  test("the job page's delete: 303 back with a note; a running job is refused with the reason", async () => {
    const res = await post(`/jobs/${failed}/delete`, {});
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe(`/jobs/${failed}?done=deleted`);
    expect(await (await page(res.headers.get("location")!)).text()).toContain(
      "Фото, результат и миниатюра удалены",
    );

    await app.configureSlot("slot-005", {
      provider: "local",
      operation: "passthrough",
      settings: { simulate_delay_ms: 1500 },
    });
    const slow = postIngest(app, "slot-005", dslrForm(photo));
    const running = await eventually(async () => {
      const [r] = await app.sql<
        { id: string }[]
      >`select id::text from job where slot_id = 'slot-005' and status = 'processing'`;
      return r?.id;
    }, 4_000).catch(() => undefined);
    const refused = await post(`/jobs/${running}/delete`, {});
    expect(refused.status).toBe(303);
    expect(refused.headers.get("location")).toBe(`/jobs/${running}?error=job_active`);
    expect(await (await page(refused.headers.get("location")!)).text()).toContain("Задача ещё выполняется");
    await slow;
  });
});

describe("settings and statistics", () => {
  test("the settings page sets fallback_min_seconds; the statistics show successes via the fallback", async () => {
    const html = await (await page("/settings")).text();
    expect(html).toContain('name="fallback_min_seconds"');
    const res = await post(
      "/settings",
      {
        sync_response_seconds: "48",
        result_retention_hours: "72",
        max_in_flight_jobs: "16",
        fallback_min_seconds: "12",
      },
      { "hx-request": "true" },
    );
    expect(res.status).toBe(200);
    expect((await app.runtime.settings.current()).fallbackMinSeconds).toBe(12);
    const stats = await (await page("/stats")).text();
    expect(stats).toContain("Через резервный");
    expect(stats).toContain("data-fallback-success");
  });
});
