/**
 * The providers' own strengths (issue 26): Gemini's Files API for inputs above the inline limit,
 * Gemini's per-slot `safetySettings`, OpenAI's `input_fidelity` for identity transfer — each
 * against a fake that speaks (and refuses like) the real service.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { deflateSync } from "node:zlib";
import { FakeGemini, GEMINI_REQUEST_LIMIT } from "./fakes/gemini";
import { FakeOpenAI } from "./fakes/openai";
import { api, login } from "./helpers/admin";
import { dslrForm, eventually, json, postIngest, startTestApp, type TestApp } from "./helpers/app";
import { makeJpeg, makePng } from "./helpers/images";
import { addTemplate, jobOf } from "./helpers/jobs";

const GEMINI_KEY = "AIzaTestKey-options-0123456789";
const OPENAI_KEY = "sk-test-options-0123456789";
let gemini: FakeGemini;
let openai: FakeOpenAI;
let app: TestApp;
let photo: Uint8Array;

/** A PNG of noise, stored without compression: `width × height × 3` bytes and then some. */
function noisePng(width: number, height: number): Uint8Array {
  const raw = new Uint8Array((width * 3 + 1) * height);
  crypto.getRandomValues(raw.subarray(0, 65_536));
  for (let o = 65_536; o < raw.length; o += 65_536) raw.copyWithin(o, 0, Math.min(65_536, raw.length - o));
  for (let y = 0; y < height; y++) raw[y * (width * 3 + 1)] = 0; // filter byte: none
  const chunk = (type: string, data: Uint8Array) => {
    const out = new Uint8Array(12 + data.length);
    const view = new DataView(out.buffer);
    view.setUint32(0, data.length);
    out.set(new TextEncoder().encode(type), 4);
    out.set(data, 8);
    view.setUint32(8 + data.length, Bun.hash.crc32(out.subarray(4, 8 + data.length)) >>> 0);
    return out;
  };
  const ihdr = new Uint8Array(13);
  new DataView(ihdr.buffer).setUint32(0, width);
  new DataView(ihdr.buffer).setUint32(4, height);
  ihdr.set([8, 2, 0, 0, 0], 8);
  return new Uint8Array(
    Buffer.concat([
      new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
      chunk("IHDR", ihdr),
      chunk("IDAT", new Uint8Array(deflateSync(raw, { level: 0 }))),
      chunk("IEND", new Uint8Array()),
    ]),
  );
}

beforeAll(async () => {
  gemini = new FakeGemini([GEMINI_KEY]);
  openai = new FakeOpenAI([OPENAI_KEY]);
  app = await startTestApp({
    env: {
      GEMINI_BASE_URL: gemini.url,
      GEMINI_API_KEY: GEMINI_KEY,
      OPENAI_BASE_URL: openai.url,
      OPENAI_API_KEY: OPENAI_KEY,
    },
  });
  photo = await makeJpeg(320, 240);
});
afterAll(async () => {
  await app.stop();
  gemini.stop();
  openai.stop();
});
beforeEach(() => {
  gemini.reset();
  openai.reset();
});

describe("Gemini safetySettings per slot", () => {
  test("the slot's thresholds go out as Gemini's categories; unset ones are left to Google", async () => {
    await app.configureSlot("slot-001", {
      provider: "gemini",
      operation: "image_edit",
      settings: { prompt: "paint it", safety_harassment: "BLOCK_ONLY_HIGH", safety_dangerous_content: "OFF" },
    });
    expect((await postIngest(app, "slot-001", dslrForm(photo))).status).toBe(200);
    expect(gemini.requests[0]!.safetySettings).toEqual([
      { category: "HARM_CATEGORY_HARASSMENT", threshold: "BLOCK_ONLY_HIGH" },
      { category: "HARM_CATEGORY_DANGEROUS_CONTENT", threshold: "OFF" },
    ]);

    await app.configureSlot("slot-001", { settings: { prompt: "paint it" } });
    expect((await postIngest(app, "slot-001", dslrForm(photo))).status).toBe(200);
    expect(gemini.requests[1]!.safetySettings).toBeUndefined();
  });

  test("a threshold Gemini does not have is refused at save, with the field named", async () => {
    const serg = api(app, await login(app, "serg"));
    const res = await serg("PUT", "/api/slots/slot-001", {
      json: { settings: { prompt: "x", safety_hate_speech: "BLOCK_SOME" } },
    });
    expect(res.status).toBe(422);
    const fields = (await json(res)).error.details.fields as { field: string }[];
    expect(fields.map((f) => f.field)).toContain("settings.safety_hate_speech");
  });

  test("the fake refuses categories and thresholds Gemini does not know", async () => {
    const data = Buffer.from(photo).toString("base64");
    const post = (safetySettings: unknown) =>
      fetch(`${gemini.url}/v1beta/models/gemini-2.5-flash-image:generateContent`, {
        method: "POST",
        headers: { "x-goog-api-key": GEMINI_KEY, "content-type": "application/json" },
        body: JSON.stringify({
          contents: [
            { role: "user", parts: [{ inlineData: { mimeType: "image/jpeg", data } }, { text: "x" }] },
          ],
          generationConfig: { responseModalities: ["IMAGE"] },
          safetySettings,
        }),
      });
    const send = (safetySettings: unknown) => post(safetySettings);
    expect((await send([{ category: "HARM_CATEGORY_HARASSMENT", threshold: "BLOCK_NONE" }])).status).toBe(
      200,
    );
    const unknownCategory = await send([{ category: "HARM_CATEGORY_VIOLENCE", threshold: "BLOCK_NONE" }]);
    expect(unknownCategory.status).toBe(400);
    expect(await unknownCategory.text()).toContain("safety_settings[0].category");
    const unknownThreshold = await send([{ category: "HARM_CATEGORY_HARASSMENT", threshold: "BLOCK_ALL" }]);
    expect(unknownThreshold.status).toBe(400);
  });
});

describe("Gemini Files API above the inline limit", () => {
  test("a photo too large to send inline is uploaded (resumable), sent as fileData, then deleted", async () => {
    const big = noisePng(2400, 2200); // ≈ 15.8 MB: over 20 MB once base64-encoded
    expect(big.byteLength).toBeGreaterThan(15 * 1024 * 1024);
    await app.configureSlot("slot-002", {
      provider: "gemini",
      operation: "style_transfer",
      settings: { prompt: "in this style", max_input_side: 4096 },
      size_limit_mb: 50,
    });
    await addTemplate(app, "slot-002", "style", makePng(90, 60));
    const res = await postIngest(
      app,
      "slot-002",
      dslrForm(big, undefined, "fileToUpload", "big.png", "image/png"),
    );
    expect(res.status).toBe(200);

    expect(gemini.uploads).toHaveLength(1);
    const upload = gemini.uploads[0]!;
    expect(upload).toMatchObject({
      declaredBytes: big.byteLength,
      mimeType: "image/png",
      apiKey: GEMINI_KEY,
    });
    expect(upload.rejection).toBeUndefined();
    expect(upload.chunks).toBe(2); // the SDK sends 8 MB chunks
    const req = gemini.requests.find((r) => r.answer === "image")!;
    expect(req.parts.map((p) => [p.kind, p.via])).toEqual([
      ["image", "file"],
      ["image", undefined],
      ["text", undefined],
    ]);
    expect(req.parts[0]).toMatchObject({ width: 2400, height: 2200 });
    expect(req.bytes!).toBeLessThan(1024 * 1024);
    // the guest's photo does not stay at Google
    await eventually(async () => gemini.deletedFiles.includes(upload.name!));
    const { events } = await jobOf(app, res);
    expect(events).toContain("provider_upload");
  });

  test("the fake refuses what Gemini refuses: a body over 20 MB, a file it does not hold", async () => {
    const tooBig = await fetch(`${gemini.url}/v1beta/models/gemini-2.5-flash-image:generateContent`, {
      method: "POST",
      headers: { "x-goog-api-key": GEMINI_KEY, "content-type": "application/json" },
      body: JSON.stringify({
        contents: [{ role: "user", parts: [{ text: "x".repeat(GEMINI_REQUEST_LIMIT) }] }],
      }),
    });
    expect(tooBig.status).toBe(400);
    expect(await tooBig.text()).toContain("Request payload size exceeds the limit");

    const missing = await fetch(`${gemini.url}/v1beta/models/gemini-2.5-flash-image:generateContent`, {
      method: "POST",
      headers: { "x-goog-api-key": GEMINI_KEY, "content-type": "application/json" },
      body: JSON.stringify({
        contents: [
          {
            role: "user",
            parts: [
              { fileData: { fileUri: `${gemini.url}/v1beta/files/nope`, mimeType: "image/png" } },
              { text: "x" },
            ],
          },
        ],
        generationConfig: { responseModalities: ["IMAGE"] },
      }),
    });
    expect(missing.status).toBe(403);

    const noProtocol = await fetch(`${gemini.url}/upload/v1beta/files`, {
      method: "POST",
      headers: { "x-goog-api-key": GEMINI_KEY, "content-type": "application/json" },
      body: "{}",
    });
    expect(noProtocol.status).toBe(400);
  });
});

describe("OpenAI input_fidelity for identity transfer", () => {
  beforeAll(async () => {
    await addTemplate(app, "slot-003", "face", await makeJpeg(80, 100));
  });

  test("high by default, the slot's choice when set, never for other operations", async () => {
    await app.configureSlot("slot-003", {
      provider: "openai",
      operation: "identity_transfer",
      settings: { prompt: "put the face on" },
    });
    expect((await postIngest(app, "slot-003", dslrForm(photo))).status).toBe(200);
    expect(openai.requests[0]!.fields.input_fidelity).toBe("high");

    await app.configureSlot("slot-003", { settings: { prompt: "put the face on", input_fidelity: "low" } });
    expect((await postIngest(app, "slot-003", dslrForm(photo))).status).toBe(200);
    expect(openai.requests[1]!.fields.input_fidelity).toBe("low");

    // gpt-image-1-mini takes only low: with the setting unset, none is sent (its default)
    await app.configureSlot("slot-003", {
      settings: { prompt: "put the face on", model: "gpt-image-1-mini" },
    });
    expect((await postIngest(app, "slot-003", dslrForm(photo))).status).toBe(200);
    expect(openai.requests[2]!.fields.input_fidelity).toBeUndefined();

    await app.configureSlot("slot-004", {
      provider: "openai",
      operation: "image_edit",
      settings: { prompt: "x" },
    });
    expect((await postIngest(app, "slot-004", dslrForm(photo))).status).toBe(200);
    expect(openai.requests[3]!.fields.input_fidelity).toBeUndefined();
  });

  test("high on gpt-image-1-mini is refused at save, as OpenAI would refuse it", async () => {
    const serg = api(app, await login(app, "serg"));
    const res = await serg("PUT", "/api/slots/slot-003", {
      json: { settings: { prompt: "x", model: "gpt-image-1-mini", input_fidelity: "high" } },
    });
    expect(res.status).toBe(422);
    const fields = (await json(res)).error.details.fields as { field: string }[];
    expect(fields.map((f) => f.field)).toEqual(["settings.input_fidelity"]);
    const bad = await serg("PUT", "/api/slots/slot-003", {
      json: { settings: { prompt: "x", input_fidelity: "max" } },
    });
    expect(bad.status).toBe(422);

    // the fake: the same refusal from the API itself
    const form = new FormData();
    form.append("model", "gpt-image-1-mini");
    form.append("prompt", "x");
    form.append("input_fidelity", "high");
    form.append("image[]", new File([photo as Uint8Array<ArrayBuffer>], "p.jpg", { type: "image/jpeg" }));
    const refused = await fetch(`${openai.url}/v1/images/edits`, {
      method: "POST",
      headers: { authorization: `Bearer ${OPENAI_KEY}` },
      body: form,
    });
    expect(refused.status).toBe(400);
  });
});
