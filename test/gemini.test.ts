/**
 * The gemini provider end to end: a DSLR-shaped upload → POST /ingest → worker → @google/genai →
 * the fake Gemini server (real HTTP, real wire format) → result. Also the worker's provider
 * wiring that Gemini exercises: input downscaling, keys from settings, concurrency limits.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { ManualClock } from "../src/lib/clock";
import { sniffImage } from "../src/media/images";
import { BACKOFF_TIMER } from "../src/providers/common";
import { FakeGemini } from "./fakes/gemini";
import { dslrForm, postIngest, startTestApp, type TestApp, whenQueued } from "./helpers/app";
import { makeJpeg, makePng } from "./helpers/images";
import { addTemplate, errorOf, jobOf, sizeOf } from "./helpers/jobs";
import { parseExposition } from "./helpers/prometheus";

const KEY = "AIzaTestKey-env-0123456789";
const SETTINGS_KEY = "AIzaTestKey-settings-0123456789";
let fake: FakeGemini;
let app: TestApp;
/** The app's clock: deadline tests move it instead of waiting for T_sync to pass. */
const clock = new ManualClock(new Date(), { elapse: [BACKOFF_TIMER] });
let photo: Uint8Array;
let style: Uint8Array;
let face: Uint8Array;

beforeAll(async () => {
  fake = new FakeGemini([KEY, SETTINGS_KEY]);
  app = await startTestApp({ clock, env: { GEMINI_BASE_URL: fake.url, GEMINI_API_KEY: KEY } });
  photo = await makeJpeg(320, 240);
  style = makePng(90, 60);
  face = await makeJpeg(80, 100);
  await app.configureSlot("slot-001", {
    provider: "gemini",
    operation: "image_edit",
    settings: { prompt: "Turn this into a watercolour painting" },
  });
  await app.configureSlot("slot-002", {
    provider: "gemini",
    operation: "style_transfer",
    settings: { prompt: "Paint the photo in this style", aspect_ratio: "3:4", image_size: "2K" },
  });
  await addTemplate(app, "slot-002", "style", style);
  await app.configureSlot("slot-003", {
    provider: "gemini",
    operation: "identity_transfer",
    settings: {
      prompt: "Put this face on the person",
      model: "gemini-3-pro-image-preview",
      image_size: "4K",
    },
  });
  await addTemplate(app, "slot-003", "face", face);
});
afterAll(async () => {
  await app.stop();
  fake.stop();
});
beforeEach(async () => {
  fake.reset();
  await app.setSyncSeconds(10);
});

describe("gemini turns a booth photo into a result", () => {
  test("image_edit: photo then prompt, only an image asked for; thought and text parts are skipped", async () => {
    fake.answer({ kind: "image", withText: true, withThought: true });
    const res = await postIngest(app, "slot-001", dslrForm(photo));
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("image/jpeg");
    const body = new Uint8Array(await res.arrayBuffer());
    expect(sniffImage(body)).toBe("jpeg");
    // The fake's real image is 40×30; its thought image is 12×12.
    expect(await sizeOf(body)).toEqual({ width: 40, height: 30 });

    expect(fake.requests).toHaveLength(1);
    const req = fake.requests[0]!;
    expect(req.model).toBe("gemini-2.5-flash-image");
    expect(req.apiKey).toBe(KEY);
    expect(req.parts).toEqual([
      { kind: "image", mime: "image/jpeg", width: 320, height: 240 },
      { kind: "text", text: "Turn this into a watercolour painting" },
    ]);
    expect(req.generationConfig.responseModalities).toEqual(["IMAGE"]);
    expect(req.generationConfig.imageConfig).toBeUndefined();

    const { row, events } = await jobOf(app, res);
    expect(row.status).toBe("succeeded");
    expect(row.provider).toBe("gemini");
    expect(events).toEqual(["received", "dispatched", "provider_responded", "succeeded"]);
  });

  test("style_transfer: photo, style template, prompt; aspect ratio sent, imageSize never sent to 2.5", async () => {
    const res = await postIngest(app, "slot-002", dslrForm(photo));
    expect(res.status).toBe(200);
    const req = fake.requests[0]!;
    expect(req.parts.map((p) => [p.kind, p.width])).toEqual([
      ["image", 320],
      ["image", 90],
      ["text", undefined],
    ]);
    expect(req.parts[1]!.mime).toBe("image/png");
    expect(req.generationConfig.imageConfig).toEqual({ aspectRatio: "3:4" });
  });

  test("identity_transfer on gemini-3-pro-image-preview sends imageSize", async () => {
    const res = await postIngest(app, "slot-003", dslrForm(photo));
    expect(res.status).toBe(200);
    const req = fake.requests[0]!;
    expect(req.model).toBe("gemini-3-pro-image-preview");
    expect(req.parts.map((p) => p.kind)).toEqual(["image", "image", "text"]);
    expect(req.parts[1]).toMatchObject({ width: 80, height: 100 });
    expect(req.generationConfig.imageConfig).toEqual({ imageSize: "4K" });
  });

  test("any model id typed by the admin is used as is", async () => {
    await app.configureSlot("slot-004", {
      provider: "gemini",
      operation: "image_edit",
      settings: { prompt: "x", model: "gemini-9-imaginary" },
    });
    const res = await postIngest(app, "slot-004", dslrForm(photo));
    // The fake (like Google) does not know this model: 404 → provider_error at once, no retry.
    expect(res.status).toBe(502);
    const err = await errorOf(res);
    expect(err.code).toBe("provider_error");
    expect(err.message).toContain("model id");
    expect(fake.requests.map((r) => r.model)).toEqual(["gemini-9-imaginary"]);
    const { row, events } = await jobOf(app, res);
    expect(row.failureReason).toBe("provider_error");
    expect(events).not.toContain("retry");
  });

  test("a missing required template is an invalid_config the operator can fix; Gemini is not called", async () => {
    await app.configureSlot("slot-005", {
      provider: "gemini",
      operation: "identity_transfer",
      settings: { prompt: "x" },
    });
    const res = await postIngest(app, "slot-005", dslrForm(photo));
    expect(res.status).toBe(502);
    const err = await errorOf(res);
    expect(err.code).toBe("invalid_config");
    expect(err.message).toContain("Face template");
    expect(fake.requests).toHaveLength(0);
    expect((await jobOf(app, res)).row.failureReason).toBe("invalid_config");
  });

  test("photos and templates above max_input_side are downscaled before upload", async () => {
    await app.configureSlot("slot-006", {
      provider: "gemini",
      operation: "style_transfer",
      settings: { prompt: "x", max_input_side: 512 },
    });
    await addTemplate(app, "slot-006", "style", makePng(1000, 1000));
    const big = await makeJpeg(1600, 1200);
    const res = await postIngest(app, "slot-006", dslrForm(big));
    expect(res.status).toBe(200);
    const [p, t] = fake.requests[0]!.parts;
    expect(p).toMatchObject({ mime: "image/jpeg", width: 512, height: 384 });
    expect(t).toMatchObject({ mime: "image/png", width: 512, height: 512 });

    // The default (2048) leaves a 1600 px photo alone.
    fake.reset();
    await app.configureSlot("slot-006", { settings: { prompt: "x" } });
    expect((await postIngest(app, "slot-006", dslrForm(big))).status).toBe(200);
    expect(fake.requests[0]!.parts[0]).toMatchObject({ width: 1600, height: 1200 });
  });
});

describe("gemini failures land on the right status, job row and log", () => {
  test("NO_IMAGE is retried 3 s apart and then succeeds", async () => {
    await app.setSyncSeconds(15);
    fake.answer({ kind: "no_image" }, { kind: "no_image" });
    const res = await postIngest(app, "slot-001", dslrForm(photo));
    expect(res.status).toBe(200);
    expect(fake.requests.map((r) => r.answer)).toEqual(["no_image", "no_image", "image"]);
    const { row, log } = await jobOf(app, res);
    expect(row.status).toBe("succeeded");
    const retries = log.filter((l) => l.event === "retry");
    expect(retries.map((r) => r.details)).toEqual([
      { provider: "gemini", attempt: 2, reason: "no_image", delay_ms: 3000 },
      { provider: "gemini", attempt: 3, reason: "no_image", delay_ms: 3000 },
    ]);
  });

  test("NO_IMAGE five times → 502 provider_no_image, not a timeout; each retry counted", async () => {
    await app.setSyncSeconds(20);
    const retries = async () =>
      parseExposition(await (await fetch(`${app.url}/metrics`)).text()).value(
        "photochanger_provider_retries_total",
        { provider: "gemini", reason: "no_image" },
      ) ?? 0;
    const before = await retries();
    fake.answer(...Array.from({ length: 5 }, () => ({ kind: "no_image" as const })));
    const res = await postIngest(app, "slot-001", dslrForm(photo));
    expect(res.status).toBe(502);
    const err = await errorOf(res);
    expect(err.code).toBe("provider_no_image");
    expect(err.message).toContain("without an image");
    const { row, log } = await jobOf(app, res);
    expect(row.status).toBe("failed");
    expect(row.failureReason).toBe("provider_no_image");
    // Answered before the deadline: the booth did not wait for a 504.
    expect(row.finalizedAt!.getTime()).toBeLessThan(row.expiresAt.getTime());
    expect(fake.requests).toHaveLength(5);
    expect(log.filter((l) => l.event === "retry")).toHaveLength(4);
    expect(await retries()).toBe(before + 4);
  });

  test("NO_IMAGE until no time is left → still 502 provider_no_image", async () => {
    fake.answer(...Array.from({ length: 5 }, () => ({ kind: "no_image" as const })));
    // T_sync 10 s: attempts at 0, 3, 6 and 9 s on the clock (each 3 s pause elapses at once);
    // at 9 s no time is left for another pause.
    const res = await postIngest(app, "slot-001", dslrForm(photo));
    expect(res.status).toBe(502);
    expect((await errorOf(res)).code).toBe("provider_no_image");
    const { row } = await jobOf(app, res);
    expect(row.failureReason).toBe("provider_no_image");
    expect(row.resultPath).toBeNull();
    expect(fake.requests).toHaveLength(4);
  });

  test("safety finishes and prompt blocks → 422 provider_blocked", async () => {
    const cases = [
      { kind: "finish", reason: "IMAGE_SAFETY", message: "Unable to show the generated image." },
      { kind: "finish", reason: "PROHIBITED_CONTENT" },
      { kind: "finish", reason: "IMAGE_PROHIBITED_CONTENT" },
      { kind: "finish", reason: "SAFETY" },
      { kind: "prompt_blocked", reason: "SAFETY" },
    ] as const;
    for (const answer of cases) {
      fake.reset();
      fake.answer(answer);
      const res = await postIngest(app, "slot-001", dslrForm(photo));
      expect(res.status).toBe(422);
      const err = await errorOf(res);
      expect(err.code).toBe("provider_blocked");
      expect(err.message).toContain("safety filter");
      const { row, log } = await jobOf(app, res);
      expect(row.status).toBe("failed");
      expect(row.failureReason).toBe("provider_blocked");
      const failed = log.find((l) => l.event === "provider_failed")!;
      expect(failed.details).toMatchObject({ reason: "provider_blocked", finish_reason: answer.reason });
      expect(fake.requests).toHaveLength(1);
    }
  });

  test("429 and 503 are retried with backoff, then the image comes", async () => {
    fake.answer(
      { kind: "error", status: 429, rpcStatus: "RESOURCE_EXHAUSTED", message: "Quota exceeded" },
      { kind: "error", status: 503, rpcStatus: "UNAVAILABLE", message: "The model is overloaded." },
    );
    const res = await postIngest(app, "slot-001", dslrForm(photo));
    expect(res.status).toBe(200);
    const { row, log } = await jobOf(app, res);
    expect(row.status).toBe("succeeded");
    const retries = log.filter((l) => l.event === "retry").map((l) => l.details);
    expect(retries).toHaveLength(2);
    expect(retries[0]).toMatchObject({
      provider: "gemini",
      attempt: 2,
      reason: "http_429",
      http_status: 429,
    });
    expect(retries[1]).toMatchObject({ attempt: 3, reason: "http_503", http_status: 503 });
  });

  test("503 until no time is left to retry → 502 provider_error", async () => {
    fake.answer(
      ...Array.from({ length: 6 }, () => ({ kind: "error" as const, status: 503, rpcStatus: "UNAVAILABLE" })),
    );
    // 2.4 s left when the job runs: one ~1 s backoff fits (≥ 1 s left after it), a ~2 s one does not.
    const queued = whenQueued(app, () => clock.advance(7_600));
    const res = await postIngest(app, "slot-001", dslrForm(photo));
    await queued;
    expect(res.status).toBe(502);
    const err = await errorOf(res);
    expect(err.code).toBe("provider_error");
    expect(err.message).toContain("HTTP 503");
    const { row, events } = await jobOf(app, res);
    expect(row.failureReason).toBe("provider_error");
    expect(events).toContain("retry");
  });

  test("400 and 403 fail at once with a sanitized message", async () => {
    for (const [status, rpcStatus] of [
      [400, "INVALID_ARGUMENT"],
      [403, "PERMISSION_DENIED"],
    ] as const) {
      fake.reset();
      fake.answer({ kind: "error", status, rpcStatus, message: `request rejected; key=${KEY}` });
      const res = await postIngest(app, "slot-001", dslrForm(photo));
      expect(res.status).toBe(502);
      const err = await errorOf(res);
      expect(err.code).toBe("provider_error");
      expect(err.message).toContain(`HTTP ${status} ${rpcStatus}`);
      expect(err.message).not.toContain(KEY);
      const { row, events } = await jobOf(app, res);
      expect(row.errorMessage).not.toContain(KEY);
      expect(events).not.toContain("retry");
      expect(fake.requests).toHaveLength(1);
    }
  });

  test("a malformed JSON answer is a provider_error", async () => {
    fake.answer({ kind: "malformed" });
    const res = await postIngest(app, "slot-001", dslrForm(photo));
    expect(res.status).toBe(502);
    expect((await errorOf(res)).message).toContain("could not be read");
    expect((await jobOf(app, res)).row.failureReason).toBe("provider_error");
  });

  test("an answer slower than the deadline → 504, job timeout, late answer discarded", async () => {
    fake.answer({ kind: "delay", ms: 5000 });
    const asked = fake.nextRequest();
    const pending = postIngest(app, "slot-001", dslrForm(photo));
    await asked;
    clock.advance(10_000); // T_sync passes while Gemini is still working
    const res = await pending;
    expect(res.status).toBe(504);
    expect((await errorOf(res)).code).toBe("sync_timeout");
    const { row, events } = await jobOf(app, res);
    expect(row.status).toBe("timeout");
    expect(row.failureReason).toBe("timeout");
    expect(events).toContain("timeout");
    expect(events).not.toContain("provider_responded");
  });
});

describe("keys and concurrency", () => {
  test("no key → 502 invalid_config; a key saved in settings works at once, and so does a change", async () => {
    const bare = await startTestApp({ env: { GEMINI_BASE_URL: fake.url } });
    try {
      await bare.configureSlot("slot-001", {
        provider: "gemini",
        operation: "image_edit",
        settings: { prompt: "x" },
      });
      const res = await postIngest(bare, "slot-001", dslrForm(photo));
      expect(res.status).toBe(502);
      const err = await errorOf(res);
      expect(err.code).toBe("invalid_config");
      expect(err.message).toContain("Settings → Provider keys");
      expect(fake.requests).toHaveLength(0);

      await bare.runtime.settings.setProviderKey("gemini", SETTINGS_KEY, "test");
      expect((await postIngest(bare, "slot-001", dslrForm(photo))).status).toBe(200);
      await bare.runtime.settings.setProviderKey("gemini", "AIzaRevokedKey-000000000000", "test");
      const refused = await postIngest(bare, "slot-001", dslrForm(photo));
      expect(refused.status).toBe(502);
      // The fake echoes the bad key in its message; it must not reach the booth or the job row.
      expect((await errorOf(refused)).message).not.toContain("AIzaRevokedKey");
      expect((await jobOf(bare, refused)).row.errorMessage).not.toContain("AIzaRevokedKey");
      await bare.runtime.settings.setProviderKey("gemini", KEY, "test");
      expect((await postIngest(bare, "slot-001", dslrForm(photo))).status).toBe(200);
      expect(fake.requests.map((r) => r.apiKey)).toEqual([SETTINGS_KEY, "AIzaRevokedKey-000000000000", KEY]);
    } finally {
      await bare.stop();
    }
  });

  test("provider_concurrency caps the calls in flight to a provider", async () => {
    await app.setSyncSeconds(20);
    const burst = async () => {
      fake.reset();
      fake.answer(...Array.from({ length: 3 }, () => ({ kind: "delay" as const, ms: 600 })));
      const all = await Promise.all([1, 2, 3].map(() => postIngest(app, "slot-001", dslrForm(photo))));
      expect(all.map((r) => r.status)).toEqual([200, 200, 200]);
      return fake.maxInFlight;
    };
    await app.setSetting("provider_concurrency", { gemini: 1 });
    expect(await burst()).toBe(1);
    await app.setSetting("provider_concurrency", { gemini: 3 });
    expect(await burst()).toBeGreaterThan(1);
  });
});
