/**
 * The turbotext provider end to end: the photo (and templates) are published as temporary public
 * media, the fake Turbotext downloads them from the test server as the real one would, the worker
 * queues and polls, downloads the result and answers the booth.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { quotaResetsAt } from "../src/domain/quota";
import { ManualClock } from "../src/lib/clock";
import { sniffImage } from "../src/media/images";
import { BACKOFF_TIMER } from "../src/providers/common";
import { FakeTurbotext } from "./fakes/turbotext";
import { dslrForm, postIngest, startTestApp, type TestApp } from "./helpers/app";
import { makeJpeg, makePng } from "./helpers/images";
import { addTemplate, errorOf, jobOf, sizeOf } from "./helpers/jobs";

const KEY = "turbotext-test-key-7f3a9c";
let fake: FakeTurbotext;
let app: TestApp;
/** The app's clock: the deadline test moves it instead of waiting for T_sync to pass. */
const clock = new ManualClock(new Date(), { elapse: [BACKOFF_TIMER] });
let photo: Uint8Array;

beforeAll(async () => {
  fake = new FakeTurbotext([KEY]);
  app = await startTestApp({ clock, env: { TURBOTEXT_BASE_URL: fake.url, TURBOTEXT_API_KEY: KEY } });
  photo = await makeJpeg(320, 240);
  await app.configureSlot("slot-001", {
    provider: "turbotext",
    operation: "image2image",
    settings: { prompt: "в стиле акварели", strength: 55, poll_interval_ms: 250 },
  });
  await app.configureSlot("slot-002", {
    provider: "turbotext",
    operation: "style_transfer",
    settings: { prompt: "oil painting", poll_interval_ms: 250 },
  });
  await addTemplate(app, "slot-002", "style", makePng(70, 50));
  await app.configureSlot("slot-003", {
    provider: "turbotext",
    operation: "identity_transfer",
    settings: { poll_interval_ms: 250 },
  });
  await addTemplate(app, "slot-003", "face", await makeJpeg(60, 80));
});
afterAll(async () => {
  await app.stop();
  fake.stop();
});
beforeEach(async () => {
  fake.reset();
  // A LIMIT answer marks Turbotext's quota exhausted for the day (see quota.test.ts): each test
  // starts on a fresh quota day, the clock moved to the next Moscow midnight.
  clock.set(quotaResetsAt("turbotext", clock.now()));
  await app.setSyncSeconds(10);
  await app.setSetting("public_base_url", app.url);
});

describe("turbotext turns a booth photo into a result", () => {
  test("image2image: publish → create_queue → reconnects → result download", async () => {
    fake.script({ reconnects: 2, result: "top_level" });
    const res = await postIngest(app, "slot-001", dslrForm(photo));
    expect(res.status).toBe(200);
    const body = new Uint8Array(await res.arrayBuffer());
    expect(sniffImage(body)).toBe("jpeg");
    expect(await sizeOf(body)).toEqual({ width: 36, height: 28 });

    const [create, ...polls] = fake.calls;
    expect(create!.method).toBe("generate_image2image");
    expect(create!.auth).toBe(`Bearer ${KEY}`);
    expect(create!.fields).toEqual({
      do: "create_queue",
      url: expect.stringMatching(new RegExp(`^${app.url}/public/media/[A-Za-z0-9_-]{43}$`)),
      content: "в стиле акварели",
      strength: "55",
      scale: "7.5",
      original_language: "ru",
    });
    // The fake fetched the photo from our public media URL.
    expect(create!.inputs).toEqual([
      { field: "url", url: create!.fields.url!, status: 200, width: 320, height: 240 },
    ]);
    const queueid = String(create!.answer.queueid);
    expect(polls.map((p) => [p.do, p.fields.queueid, p.answer.action ?? "done"])).toEqual([
      ["get_result", queueid, "reconnect"],
      ["get_result", queueid, "reconnect"],
      ["get_result", queueid, "done"],
    ]);
    // The result came from Turbotext's own host, so the key went along.
    expect(fake.downloads).toEqual([
      { path: `/download.php?f=generate_image2image_${queueid}.png`, auth: `Bearer ${KEY}` },
    ]);

    const { row, events } = await jobOf(app, res);
    expect(row.status).toBe("succeeded");
    expect(row.providerJobRef).toBe(queueid);
    // SPEC §11: every get_result is a `poll` row (two reconnects, then the result)
    expect(events).toEqual([
      "received",
      "dispatched",
      "poll",
      "poll",
      "poll",
      "provider_responded",
      "succeeded",
    ]);
    // The temporary public media went with the finalization, before the answer.
    expect((await fetch(create!.fields.url!)).status).toBe(410);
  });

  test("style_transfer → mix_images: photo as url_image_target, style template as url; result inside data", async () => {
    fake.script({ reconnects: 1, result: "in_data" });
    const res = await postIngest(app, "slot-002", dslrForm(photo));
    expect(res.status).toBe(200);
    const create = fake.calls[0]!;
    expect(create.method).toBe("mix_images");
    expect(create.fields.content).toBe("oil painting");
    expect(create.inputs.map((i) => [i.field, i.width, i.height])).toEqual([
      ["url", 70, 50],
      ["url_image_target", 320, 240],
    ]);
    expect(fake.downloads).toHaveLength(1);
  });

  test("identity_transfer → deepfake_photo: photo as url, face as url_image_target; relative result path", async () => {
    fake.script({ reconnects: 0, result: "relative" });
    const res = await postIngest(app, "slot-003", dslrForm(photo));
    expect(res.status).toBe(200);
    const create = fake.calls[0]!;
    expect(create.method).toBe("deepfake_photo");
    expect(create.fields.face_restore).toBe("True");
    expect(create.fields.content).toBeUndefined();
    expect(create.inputs.map((i) => [i.field, i.width, i.height])).toEqual([
      ["url", 320, 240],
      ["url_image_target", 60, 80],
    ]);
    const queueid = String(create.answer.queueid);
    expect(fake.downloads.map((d) => d.path)).toEqual([`/image/deepfake_photo_${queueid}_0.png`]);
  });

  test("a 503 at create_queue is retried", async () => {
    fake.script({ createStatuses: [503], reconnects: 0 });
    const res = await postIngest(app, "slot-001", dslrForm(photo));
    expect(res.status).toBe(200);
    const { log } = await jobOf(app, res);
    const retries = log.filter((l) => l.event === "retry").map((l) => l.details);
    expect(retries).toHaveLength(1);
    expect(retries[0]).toMatchObject({ provider: "turbotext", reason: "http_503", http_status: 503 });
  });
});

describe("turbotext failures", () => {
  test("still running at the deadline → 504 sync_timeout, and polling stops", async () => {
    fake.script({ never: true });
    const pending = postIngest(app, "slot-001", dslrForm(photo));
    // The job is queued at Turbotext and polled a few times (250 ms apart), then T_sync passes.
    for (let i = 0; i < 3; i++) await fake.nextRequest();
    clock.advance(10_000);
    const res = await pending;
    expect(res.status).toBe(504);
    expect((await errorOf(res)).code).toBe("sync_timeout");
    const { row } = await jobOf(app, res);
    expect(row.status).toBe("timeout");
    expect(row.providerJobRef).toBe(String(fake.calls[0]!.answer.queueid));
    const polls = fake.calls.length;
    expect(polls).toBeGreaterThan(2);
    // Fixed: "no more polls after the timeout" is an absence; it needs a few poll intervals to pass.
    await Bun.sleep(800);
    expect(fake.calls.length).toBe(polls);
  });

  test("success:false errors: LIMIT → 502 provider_error, forbidden content → 422 provider_blocked", async () => {
    fake.script({ reconnects: 1, error: "LIMIT" });
    const limited = await postIngest(app, "slot-001", dslrForm(photo));
    expect(limited.status).toBe(502);
    const err = await errorOf(limited);
    expect(err.code).toBe("provider_error");
    expect(err.message).toContain("LIMIT");
    expect((await jobOf(app, limited)).row.failureReason).toBe("provider_error");
    // Turbotext said the balance is used up: its slots refuse uploads at once until the day ends.
    const refused = await postIngest(app, "slot-003", dslrForm(photo));
    expect(refused.status).toBe(429);
    expect((await errorOf(refused)).code).toBe("provider_quota_exhausted");
    clock.set(quotaResetsAt("turbotext", clock.now())); // a new day: the balance is back

    fake.script({ createError: "forbidden_content" });
    const blocked = await postIngest(app, "slot-003", dslrForm(photo));
    expect(blocked.status).toBe(422);
    expect((await errorOf(blocked)).code).toBe("provider_blocked");
    const { row, log } = await jobOf(app, blocked);
    expect(row.failureReason).toBe("provider_blocked");
    expect(log.find((l) => l.event === "provider_failed")!.details).toMatchObject({
      reason: "provider_blocked",
      error: "forbidden_content",
    });
  });

  test("inputs Turbotext cannot reach → url_error → 502", async () => {
    await app.setSetting("public_base_url", "http://127.0.0.1:9");
    const res = await postIngest(app, "slot-001", dslrForm(photo));
    expect(res.status).toBe(502);
    const err = await errorOf(res);
    expect(err.code).toBe("provider_error");
    expect(err.message).toContain("url_error");
    expect(fake.calls[0]!.inputs[0]!.status).toBe(0);
  });

  test("no PUBLIC_BASE_URL → 502 invalid_config, Turbotext is not called", async () => {
    await app.setSetting("public_base_url", null);
    const res = await postIngest(app, "slot-001", dslrForm(photo));
    expect(res.status).toBe(502);
    const err = await errorOf(res);
    expect(err.code).toBe("invalid_config");
    expect(err.message).toContain("PUBLIC_BASE_URL");
    expect(fake.calls).toHaveLength(0);
  });

  test("a wrong key → 502 provider_error without the key in the message", async () => {
    await app.runtime.settings.setProviderKey("turbotext", "wrong-turbotext-key", "test");
    try {
      const res = await postIngest(app, "slot-001", dslrForm(photo));
      expect(res.status).toBe(502);
      const err = await errorOf(res);
      expect(err.code).toBe("provider_error");
      expect(err.message).toContain("API key");
      expect(err.message).not.toContain("wrong-turbotext-key");
      expect(fake.calls[0]!.auth).toBe("Bearer wrong-turbotext-key");
    } finally {
      await app.runtime.settings.setProviderKey("turbotext", null, "test");
    }
  });
});
