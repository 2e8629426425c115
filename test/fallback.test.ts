/**
 * A slot's fallback provider (SPEC §11) end to end: the slot API and settings that configure it, and
 * the booth's photo going from a failing Gemini (the fake server, real wire format) to the local
 * provider within the same deadline — on errors, on a primary cut at its share of the deadline,
 * and straight away when the primary's quota is used up; never on a safety block. The timeline,
 * the job API, the statistics, the metric and the test run all say the fallback served it.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { ManualClock } from "../src/lib/clock";
import { BACKOFF_TIMER } from "../src/providers/common";
import { FakeGemini } from "./fakes/gemini";
import { type Api, api, fileForm, login } from "./helpers/admin";
import { dslrForm, json, postIngest, startTestApp, type TestApp } from "./helpers/app";
import { makeJpeg } from "./helpers/images";
import { errorOf, jobOf, sizeOf } from "./helpers/jobs";
import { parseExposition } from "./helpers/prometheus";

const KEY = "AIzaTestKey-fallback-0123456789";
const DOWN = {
  kind: "error",
  status: 503,
  rpcStatus: "UNAVAILABLE",
  message: "The model is overloaded.",
} as const;
const LOCAL_GREY = { provider: "local", operation: "greyscale", settings: {} };
let fake: FakeGemini;
let app: TestApp;
let serg: Api;
const clock = new ManualClock(new Date(), { elapse: [BACKOFF_TIMER] });
let photo: Uint8Array;

beforeAll(async () => {
  fake = new FakeGemini([KEY]);
  app = await startTestApp({ clock, env: { GEMINI_BASE_URL: fake.url, GEMINI_API_KEY: KEY } });
  serg = api(app, await login(app, "serg"));
  photo = await makeJpeg(320, 240);
  for (const id of ["slot-001", "slot-002", "slot-003", "slot-004"]) {
    await app.configureSlot(id, {
      provider: "gemini",
      operation: "image_edit",
      settings: { prompt: "Watercolour" },
      fallback: LOCAL_GREY,
    });
  }
});
afterAll(async () => {
  await app.stop();
  fake.stop();
});
beforeEach(async () => {
  fake.reset();
  await app.setSyncSeconds(20);
});

async function slot(id: string) {
  const res = await serg("GET", `/api/slots/${id}`);
  expect(res.status).toBe(200);
  return (await res.json()) as {
    version: number;
    fallback: { provider: string; operation: string; settings: Record<string, unknown> } | null;
    stats: { succeeded: number; fallback_success: number };
    warnings: string[];
  };
}

async function metric(name: string, labels: Record<string, string>): Promise<number> {
  return parseExposition(await (await fetch(`${app.url}/metrics`)).text()).sum(name, labels);
}

describe("configuring a fallback", () => {
  test("PUT /api/slots/{id} takes a fallback validated like the primary, and null removes it", async () => {
    const put = await serg("PUT", "/api/slots/slot-010", {
      json: {
        provider: "local",
        operation: "passthrough",
        settings: {},
        fallback: { provider: "gemini", operation: "image_edit", settings: { prompt: "Sepia" } },
      },
    });
    expect(put.status).toBe(200);
    expect(((await put.json()) as { fallback: unknown }).fallback).toEqual({
      provider: "gemini",
      operation: "image_edit",
      settings: { prompt: "Sepia" },
    });
    const saved = await slot("slot-010");
    expect(saved.fallback?.provider).toBe("gemini");

    const bad: [unknown, string][] = [
      [{ provider: "nope", operation: "x", settings: {} }, "fallback.provider"],
      [{ provider: "local", operation: "x", settings: {} }, "fallback.operation"],
      [{ provider: "gemini", operation: "image_edit", settings: {} }, "fallback.settings.prompt"],
      [
        { provider: "local", operation: "greyscale", settings: { simulate_delay_ms: -5 } },
        "fallback.settings.simulate_delay_ms",
      ],
      ["local", "fallback"],
    ];
    for (const [fallback, field] of bad) {
      const res = await serg("PUT", "/api/slots/slot-010", { json: { fallback } });
      expect(res.status).toBe(422);
      const fields = (await json(res)).error.details.fields as { field: string }[];
      expect(fields.map((f) => f.field)).toContain(field);
    }
    // refused changes leave the slot as it was
    const after = await slot("slot-010");
    expect(after.version).toBe(saved.version);
    expect(after.fallback).toEqual(saved.fallback);

    const removed = await serg("PUT", "/api/slots/slot-010", { json: { fallback: null } });
    expect(removed.status).toBe(200);
    expect((await slot("slot-010")).fallback).toBeNull();
  });

  test("fallback_min_seconds: 8 by default, 3–30, and below sync_response_seconds", async () => {
    const get = async () =>
      ((await (await serg("GET", "/api/settings")).json()) as { fallback_min_seconds: number })
        .fallback_min_seconds;
    expect(await get()).toBe(8);
    for (const bad of [2, 31, 7.5, "8"]) {
      const res = await serg("PUT", "/api/settings", { json: { fallback_min_seconds: bad } });
      expect(res.status).toBe(422);
    }
    // the primary needs part of the deadline: the fallback's share stays below it
    const tooLong = await serg("PUT", "/api/settings", { json: { fallback_min_seconds: 25 } });
    expect(tooLong.status).toBe(422);
    expect((await json(tooLong)).error.details.fields).toEqual([
      expect.objectContaining({ field: "fallback_min_seconds" }),
    ]);
    const shorter = await serg("PUT", "/api/settings", { json: { sync_response_seconds: 8 } });
    expect(shorter.status).toBe(422);
    expect(await get()).toBe(8);
    const ok = await serg("PUT", "/api/settings", { json: { fallback_min_seconds: 6 } });
    expect(ok.status).toBe(200);
    expect(await get()).toBe(6);
    await serg("PUT", "/api/settings", { json: { fallback_min_seconds: 8 } });
  });
});

describe("a failing primary falls back within the deadline", () => {
  test("Gemini answering 503 to every call: the booth gets the fallback's image, and every view says so", async () => {
    fake.unscripted = DOWN;
    const before = await metric("photochanger_fallback_jobs_total", {
      slot: "slot-001",
      provider: "local",
      outcome: "success",
    });
    const res = await postIngest(app, "slot-001", dslrForm(photo));
    expect(res.status).toBe(200);
    // the local provider's greyscale of the photo, not Gemini's 40×30 result
    expect(await sizeOf(new Uint8Array(await res.arrayBuffer()))).toEqual({ width: 320, height: 240 });
    expect(fake.requests.length).toBeGreaterThan(1); // the primary was retried first
    const { row, log, events } = await jobOf(app, res);
    expect(row.status).toBe("succeeded");
    expect(row.provider).toBe("gemini");
    expect(row.fallbackUsed).toBe(true);
    expect(row.servedProvider).toBe("local");
    expect(events).toContain("retry");
    expect(events.indexOf("fallback")).toBeGreaterThan(events.indexOf("retry"));
    expect(events.at(-1)).toBe("succeeded");
    const step = log.find((l) => l.event === "fallback")!;
    expect(step.details).toMatchObject({
      reason: "provider_error",
      from_provider: "gemini",
      provider: "local",
      operation: "greyscale",
    });

    const detail = (await (await serg("GET", `/api/jobs/${row.id}`)).json()) as {
      fallback_used: boolean;
      served_provider: string;
      timeline: { event: string }[];
    };
    expect(detail.fallback_used).toBe(true);
    expect(detail.served_provider).toBe("local");
    expect(detail.timeline.map((t) => t.event)).toContain("fallback");

    expect((await slot("slot-001")).stats.fallback_success).toBe(1);
    const stats = (await (await serg("GET", "/api/stats/slot-001")).json()) as {
      summary: { success: number; fallback_success: number };
    };
    expect(stats.summary.fallback_success).toBe(1);
    expect(stats.summary.success).toBe(1);
    expect(
      await metric("photochanger_fallback_jobs_total", {
        slot: "slot-001",
        provider: "local",
        outcome: "success",
      }),
    ).toBe(before + 1);
  });

  test("a safety block does not fall back: the booth gets 422 provider_blocked", async () => {
    fake.answer({ kind: "finish", reason: "IMAGE_SAFETY" });
    const res = await postIngest(app, "slot-002", dslrForm(photo));
    expect(res.status).toBe(422);
    expect((await errorOf(res)).code).toBe("provider_blocked");
    const { row, events } = await jobOf(app, res);
    expect(row.fallbackUsed).toBe(false);
    expect(events).not.toContain("fallback");
    expect(row.payloadPath).not.toBeNull(); // kept for a re-run
  });

  test("a primary still working when its share of the deadline ends is cut, and the fallback serves", async () => {
    fake.answer({ kind: "delay", ms: 30_000 });
    const arrived = fake.nextRequest();
    const pending = postIngest(app, "slot-003", dslrForm(photo));
    await arrived;
    // T_sync 20 s, fallback_min_seconds 8: the primary's share ends 12 s in
    clock.advance(12_000);
    const res = await pending;
    expect(res.status).toBe(200);
    const { row, log } = await jobOf(app, res);
    expect(row.servedProvider).toBe("local");
    expect(log.find((l) => l.event === "fallback")!.details).toMatchObject({ reason: "timeout" });
    // the fallback ran within the same deadline
    expect(row.finalizedAt!.getTime()).toBeLessThan(row.expiresAt.getTime());
  });

  test("a primary whose daily quota is used up sends the job straight to the fallback instead of 429", async () => {
    // Gemini's own per-day quota answer marks it exhausted; this job falls back at once
    fake.answer({ kind: "quota", per: "day" });
    const first = await postIngest(app, "slot-004", dslrForm(photo));
    expect(first.status).toBe(200);
    expect((await jobOf(app, first)).log.find((l) => l.event === "fallback")!.details).toMatchObject({
      reason: "provider_quota_exhausted",
    });
    const asked = fake.requests.length;
    const second = await postIngest(app, "slot-004", dslrForm(photo));
    expect(second.status).toBe(200);
    expect(fake.requests.length).toBe(asked); // Gemini was not asked again
    const { row, events, log } = await jobOf(app, second);
    expect(row.fallbackUsed).toBe(true);
    expect(row.servedProvider).toBe("local");
    expect(events.slice(0, 3)).toEqual(["received", "fallback", "dispatched"]);
    expect(log[2]!.details).toMatchObject({ provider: "local", operation: "greyscale" });
    // a slot on the same provider without a fallback is still refused at once
    await app.configureSlot("slot-005", {
      provider: "gemini",
      operation: "image_edit",
      settings: { prompt: "x" },
    });
    const refused = await postIngest(app, "slot-005", dslrForm(photo));
    expect(refused.status).toBe(429);
    expect((await errorOf(refused)).code).toBe("provider_quota_exhausted");
  });

  test("the test run uses the fallback too (saved or unsaved) and says which provider served", async () => {
    fake.unscripted = DOWN;
    const run = await serg("POST", "/api/slots/slot-002/test-run", { form: fileForm("test_image", photo) });
    expect(run.status).toBe(200);
    expect(await run.json()).toMatchObject({
      status: "succeeded",
      fallback_used: true,
      served_provider: "local",
    });

    const overrides = JSON.stringify({
      fallback: { provider: "local", operation: "passthrough", settings: {} },
    });
    const unsaved = await serg("POST", "/api/slots/slot-005/test-run", {
      form: fileForm("test_image", photo, { overrides }),
    });
    // slot-005 has no saved fallback: the unsaved one from the form serves
    expect(unsaved.status).toBe(200);
    expect(await unsaved.json()).toMatchObject({ fallback_used: true, served_provider: "local" });

    const badOverride = await serg("POST", "/api/slots/slot-005/test-run", {
      form: fileForm("test_image", photo, {
        overrides: JSON.stringify({ fallback: { provider: "local", operation: "nope" } }),
      }),
    });
    expect(badOverride.status).toBe(422);
  });
});
