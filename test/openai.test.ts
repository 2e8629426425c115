/** The openai provider end to end against the fake OpenAI Images API. */
import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { job } from "../src/db/schema";
import { ManualClock } from "../src/lib/clock";
import { sniffImage } from "../src/media/images";
import { BACKOFF_TIMER } from "../src/providers/common";
import { FakeOpenAI } from "./fakes/openai";
import { dslrForm, postIngest, startTestApp, type TestApp, whenQueued } from "./helpers/app";
import { makeHeic, makeJpeg, makePng } from "./helpers/images";
import { addTemplate, errorOf, jobOf, sizeOf } from "./helpers/jobs";

const KEY = "sk-test-openai-0123456789abcdef";
let fake: FakeOpenAI;
let app: TestApp;
/** The app's clock: deadline tests move it instead of waiting for T_sync to pass. */
const clock = new ManualClock(new Date(), { elapse: [BACKOFF_TIMER] });
let photo: Uint8Array;

beforeAll(async () => {
  fake = new FakeOpenAI([KEY]);
  app = await startTestApp({ clock, env: { OPENAI_BASE_URL: fake.url, OPENAI_API_KEY: KEY } });
  photo = await makeJpeg(320, 240);
  await app.configureSlot("slot-001", {
    provider: "openai",
    operation: "image_edit",
    settings: { prompt: "Make it a comic book cover", size: "1536x1024" },
  });
  await app.configureSlot("slot-002", {
    provider: "openai",
    operation: "style_transfer",
    settings: { prompt: "In the style of the second image", output_format: "jpeg" },
    output_format: "webp",
  });
  await addTemplate(app, "slot-002", "style", makePng(50, 40));
});
afterAll(async () => {
  await app.stop();
  fake.stop();
});
beforeEach(async () => {
  fake.reset();
  await app.setSyncSeconds(10);
});

describe("openai turns a booth photo into a result", () => {
  test("image_edit: multipart with model, prompt, image[], size, output_format; b64_json decoded", async () => {
    const res = await postIngest(app, "slot-001", dslrForm(photo));
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("image/jpeg");
    const body = new Uint8Array(await res.arrayBuffer());
    expect(sniffImage(body)).toBe("jpeg");
    expect(await sizeOf(body)).toEqual({ width: 44, height: 33 });

    const req = fake.requests[0]!;
    expect(req.auth).toBe(`Bearer ${KEY}`);
    expect(req.fields).toEqual({
      model: "gpt-image-1.5",
      prompt: "Make it a comic book cover",
      size: "1536x1024",
      quality: "auto",
      output_format: "png",
      n: "1",
    });
    expect(req.images).toEqual([{ name: "photo.jpg", type: "image/jpeg", width: 320, height: 240 }]);
    const { row, events } = await jobOf(app, res);
    expect(row.status).toBe("succeeded");
    expect(events).toEqual(["received", "dispatched", "provider_responded", "succeeded"]);
  });

  test("an optional reference template goes after the photo", async () => {
    await addTemplate(app, "slot-001", "reference", await makeJpeg(30, 30));
    const res = await postIngest(app, "slot-001", dslrForm(photo));
    expect(res.status).toBe(200);
    expect(fake.requests[0]!.images.map((i) => [i.name, i.width])).toEqual([
      ["photo.jpg", 320],
      ["template-1-reference.jpg", 30],
    ]);
  });

  test("style_transfer: photo then style template; a JPEG answer is normalized to the slot's WebP", async () => {
    const res = await postIngest(app, "slot-002", dslrForm(photo));
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("image/webp");
    expect(sniffImage(new Uint8Array(await res.arrayBuffer()))).toBe("webp");
    const req = fake.requests[0]!;
    expect(req.fields.output_format).toBe("jpeg");
    expect(req.images.map((i) => [i.type, i.width])).toEqual([
      ["image/jpeg", 320],
      ["image/png", 50],
    ]);
  });
});

describe("openai failures", () => {
  test("429 (with Retry-After) then success", async () => {
    fake.answer({ kind: "error", status: 429, type: "rate_limit_error", retryAfter: "0" });
    const res = await postIngest(app, "slot-001", dslrForm(photo));
    expect(res.status).toBe(200);
    const { log } = await jobOf(app, res);
    const retries = log.filter((l) => l.event === "retry").map((l) => l.details);
    expect(retries).toEqual([
      expect.objectContaining({ provider: "openai", attempt: 2, http_status: 429, delay_ms: 0 }),
    ]);
    expect(fake.requests.map((r) => r.answer)).toEqual(["error", "image"]);
  });

  test("500/503 until no time is left → 502 provider_error", async () => {
    fake.answer(
      { kind: "error", status: 500 },
      ...Array.from({ length: 5 }, () => ({ kind: "error" as const, status: 503 })),
    );
    // 2.4 s left when the job runs: one ~1 s backoff fits (≥ 1 s left after it), a ~2 s one does not.
    const queued = whenQueued(app, () => clock.advance(7_600));
    const res = await postIngest(app, "slot-001", dslrForm(photo));
    await queued;
    expect(res.status).toBe(502);
    expect((await errorOf(res)).code).toBe("provider_error");
    const { row, events } = await jobOf(app, res);
    expect(row.failureReason).toBe("provider_error");
    expect(events).toContain("retry");
  });

  test("400 fails at once", async () => {
    fake.answer({
      kind: "error",
      status: 400,
      type: "invalid_request_error",
      code: "invalid_value",
      message: "Invalid size",
    });
    const res = await postIngest(app, "slot-001", dslrForm(photo));
    expect(res.status).toBe(502);
    const err = await errorOf(res);
    expect(err.code).toBe("provider_error");
    expect(err.message).toContain("HTTP 400 invalid_request_error/invalid_value: Invalid size");
    expect(fake.requests).toHaveLength(1);
    expect((await jobOf(app, res)).events).not.toContain("retry");
  });

  test("a wrong key → 502; neither the key nor OpenAI's masked echo reaches the booth", async () => {
    const wrong = "sk-wrong-key-abcdefghijklmnop";
    await app.runtime.settings.setProviderKey("openai", wrong, "test");
    try {
      const res = await postIngest(app, "slot-001", dslrForm(photo));
      expect(res.status).toBe(502);
      const err = await errorOf(res);
      expect(err.message).toContain("check the OpenAI API key");
      expect(err.message).not.toContain("sk-wrong");
      expect(fake.requests[0]!.rejection).toContain("sk-wrong");
      expect((await jobOf(app, res)).row.errorMessage).not.toContain("sk-wrong");
    } finally {
      await app.runtime.settings.setProviderKey("openai", null, "test");
    }
  });

  test("a moderation refusal → 422 provider_blocked", async () => {
    fake.answer({ kind: "blocked" });
    const res = await postIngest(app, "slot-001", dslrForm(photo));
    expect(res.status).toBe(422);
    expect((await errorOf(res)).code).toBe("provider_blocked");
    const { row } = await jobOf(app, res);
    expect(row.status).toBe("failed");
    expect(row.failureReason).toBe("provider_blocked");
  });

  test("a malformed answer → 502 provider_error", async () => {
    fake.answer({ kind: "malformed" });
    const res = await postIngest(app, "slot-001", dslrForm(photo));
    expect(res.status).toBe(502);
    expect((await errorOf(res)).message).toContain("could not be read");
  });

  test("a HEIC photo (which OpenAI cannot read) → 415 at ingest with a hint, no job, OpenAI not called", async () => {
    const before = (await app.db.select().from(job)).length;
    const res = await postIngest(
      app,
      "slot-001",
      dslrForm(makeHeic(), undefined, "fileToUpload", "IMG.HEIC", "image/heic"),
    );
    expect(res.status).toBe(415);
    const err = await errorOf(res);
    expect(err.code).toBe("unsupported_media_type");
    expect(err.message).toContain("openai");
    expect(String(err.details.hint)).toContain("JPEG");
    expect((await app.db.select().from(job)).length).toBe(before);
    expect(fake.requests).toHaveLength(0);
  });

  test("slower than the deadline → 504 sync_timeout, job timeout", async () => {
    fake.answer({ kind: "delay", ms: 5000 });
    const asked = fake.nextRequest();
    const pending = postIngest(app, "slot-001", dslrForm(photo));
    await asked;
    clock.advance(10_000); // T_sync passes while OpenAI is still working
    const res = await pending;
    expect(res.status).toBe(504);
    const { row } = await jobOf(app, res);
    expect(row.status).toBe("timeout");
    expect(row.failureReason).toBe("timeout");
  });
});
