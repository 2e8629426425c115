/**
 * `{field}` placeholders end to end (SPEC §11): the booth's form fields and its URL's query
 * parameters are kept with the job and fill the prompt the provider gets (the fake Gemini shows
 * the text part it received); the test run takes field values; the slot page lists what the booth
 * has been sending and previews the filled prompt.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { FakeGemini } from "./fakes/gemini";
import { api, fileForm, login } from "./helpers/admin";
import { dslrFields, dslrForm, json, startTestApp, type TestApp } from "./helpers/app";
import { makeJpeg } from "./helpers/images";

const KEY = "AIzaTestKey-placeholders-0123456789";
let fake: FakeGemini;
let app: TestApp;
let photo: Uint8Array;
let cookie: string;
let serg: ReturnType<typeof api>;

const PROMPT = "Paint {name} in {style} style, {mood} mood";

beforeAll(async () => {
  fake = new FakeGemini([KEY]);
  app = await startTestApp({ env: { GEMINI_BASE_URL: fake.url, GEMINI_API_KEY: KEY } });
  photo = await makeJpeg(320, 240);
  await app.configureSlot("slot-001", {
    provider: "gemini",
    operation: "image_edit",
    settings: { prompt: PROMPT },
  });
  const session = await login(app, "serg");
  cookie = session.cookie;
  serg = api(app, session);
});
afterAll(async () => {
  await app.stop();
  fake.stop();
});
beforeEach(() => fake.reset());

async function jobOf(app: TestApp, id: string) {
  const row = await app.runtime.store.jobs.getJob(id);
  if (!row) throw new Error(`no job ${id}`);
  return row;
}

function promptSeen(): string | undefined {
  return fake.requests.at(-1)?.parts.find((p) => p.kind === "text")?.text;
}

describe("booth fields fill the prompt", () => {
  test("form fields and query parameters are kept with the job and fill the prompt, cleaned", async () => {
    const form = dslrForm(photo, dslrFields({ name: "Anna\u0007 \nK.", mood: "x".repeat(300) }));
    const res = await fetch(`${app.url}/ingest/slot-001?style=gold&name=FromUrl&password=x`, {
      method: "POST",
      body: form,
    });
    expect(res.status).toBe(200);
    // the form field wins over the query parameter of the same name; control characters go; 200 max
    expect(promptSeen()).toBe(`Paint Anna K. in gold style, ${"x".repeat(200)} mood`);
    const job = await jobOf(app, res.headers.get("x-job-id")!);
    expect(job.clientMeta.style).toBe("gold");
    // kept as sent (multipart may turn the line break into CRLF); cleaned only on its way to the prompt
    expect(job.clientMeta.name).toStartWith("Anna\u0007 ");
    // the URL's password is never kept; the job's snapshot keeps the prompt as written
    expect(job.clientMeta.password).toBeUndefined();
    expect(job.settings.prompt).toBe(PROMPT);
  });

  test("a field the booth did not send becomes empty", async () => {
    const res = await fetch(`${app.url}/ingest/slot-001`, { method: "POST", body: dslrForm(photo) });
    expect(res.status).toBe(200);
    // DSLR Remote Pro sends `name` (the PC's name) itself
    expect(promptSeen()).toBe("Paint BOOTH-PC in  style,  mood");
  });

  test("a prompt left empty by its placeholders fails as the slot's configuration, not the provider's", async () => {
    await app.configureSlot("slot-002", {
      provider: "gemini",
      operation: "image_edit",
      settings: { prompt: "{theme}" },
    });
    const res = await fetch(`${app.url}/ingest/slot-002`, { method: "POST", body: dslrForm(photo) });
    expect(res.status).toBe(502);
    const job = await jobOf(app, (await json(res)).error.details.job_id as string);
    expect(job.failureReason).toBe("invalid_config");
    expect(fake.requests).toHaveLength(0);
  });
});

describe("the test run and the slot page", () => {
  test("the test run takes field values; bad ones are refused without a job", async () => {
    const res = await serg("POST", "/api/slots/slot-001/test-run", {
      form: fileForm("test_image", photo, { fields: JSON.stringify({ name: "Test", style: "neon" }) }),
    });
    expect(res.status).toBe(200);
    expect(promptSeen()).toBe("Paint Test in neon style,  mood");
    const { job_id } = (await res.json()) as { job_id: string };
    expect((await jobOf(app, job_id)).clientMeta).toEqual({ name: "Test", style: "neon" });

    const count = async () => (await app.sql<{ n: number }[]>`select count(*)::int as n from job`)[0]!.n;
    const before = await count();
    for (const fields of [
      "[1]",
      "{oops",
      JSON.stringify({ a: 1 }),
      JSON.stringify({ ["k".repeat(65)]: "v" }),
    ]) {
      const bad = await serg("POST", "/api/slots/slot-001/test-run", {
        form: fileForm("test_image", photo, { fields }),
      });
      expect(bad.status).toBe(422);
      expect((await json(bad)).error.details.fields).toBeDefined();
    }
    expect(await count()).toBe(before);
  });

  test("the slot page lists the booth's fields and previews the filled prompt", async () => {
    const page = await fetch(`${app.url}/slots/slot-001`, { headers: { cookie } });
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('data-field="style"');
    expect(html).toContain('data-field="user_id"');
    // test runs are not the booth: their values are not listed
    expect(html).not.toContain("neon");
    expect(html).toContain("Paint BOOTH-PC in gold style,");

    const preview = await fetch(
      `${app.url}/slots/slot-001/prompt-preview?prompt=${encodeURIComponent("{user_id} / {nope}")}`,
      { headers: { cookie } },
    );
    expect(preview.status).toBe(200);
    const fragment = await preview.text();
    expect(fragment).toContain("Acer / ");
    expect(fragment).toContain("{nope}");
  });
});

describe("the slot page's test run", () => {
  test("name/value rows become the test job's booth fields", async () => {
    const form = new FormData();
    form.append("test_image", new File([photo as Uint8Array<ArrayBuffer>], "t.jpg", { type: "image/jpeg" }));
    for (const [name, value] of [
      ["name", "Row"],
      ["style", "pastel"],
      ["", "ignored without a name"],
    ]) {
      form.append("test_field_name", name!);
      form.append("test_field_value", value!);
    }
    const res = await fetch(`${app.url}/slots/slot-001/test`, {
      method: "POST",
      headers: { cookie, origin: app.url, "hx-request": "true" },
      body: form,
    });
    expect(res.status).toBe(200);
    const html = await res.text();
    const jobId = /data-job-id="([0-9a-f-]{36})"/.exec(html)?.[1];
    expect(jobId).toBeDefined();
    expect(promptSeen()).toBe("Paint Row in pastel style,  mood");
    expect((await jobOf(app, jobId!)).clientMeta).toEqual({ name: "Row", style: "pastel" });
  });
});
