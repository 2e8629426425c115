/**
 * What the booth's critical path does and does not do (issue 14): no thumbnail before the answer
 * (it is made on its first request, once, and cleaned up with the result), a passthrough keeping
 * the original format answers the uploaded bytes untouched, hundreds of worker loops work, and with
 * wake-ups off the ≈1 s re-reads alone still answer every booth.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { eq } from "drizzle-orm";
import { runCleanup } from "../src/cron/cleanup";
import { job } from "../src/db/schema";
import { ManualClock } from "../src/lib/clock";
import { dslrForm, postIngest, startTestApp, type TestApp } from "./helpers/app";
import { makeJpeg } from "./helpers/images";

const sha256 = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

describe("thumbnails are made on first request, off the booth's path", () => {
  let app: TestApp;
  let photo: Uint8Array;
  /** The app's clock: a result's retention passes when the test moves it. */
  const clock = new ManualClock();
  beforeAll(async () => {
    app = await startTestApp({ clock });
    photo = await makeJpeg(640, 480);
    await app.configureSlot("slot-001", {
      provider: "local",
      operation: "passthrough",
      settings: {},
      output_format: "original",
    });
  });
  afterAll(() => app.stop());

  const row = async (id: string) => (await app.db.select().from(job).where(eq(job.id, id)))[0]!;
  const thumbsOnDisk = () =>
    readdirSync(join(app.dataDir, "media", "results")).filter((f) => f.endsWith(".thumb.webp"));

  test("the booth's answer comes with no thumbnail made; the first /thumb makes it once", async () => {
    const res = await postIngest(app, "slot-001", dslrForm(photo));
    expect(res.status).toBe(200);
    // Passthrough keeping the original format: the very bytes uploaded, never decoded or re-encoded.
    expect(sha256(new Uint8Array(await res.arrayBuffer()))).toBe(sha256(photo));
    const id = res.headers.get("x-job-id")!;
    expect((await row(id)).thumbPath).toBeNull();
    expect(thumbsOnDisk()).toEqual([]);

    // A gallery page asks for it several times at once: every request gets it, one file is made.
    const answers = await Promise.all(
      Array.from({ length: 5 }, () => fetch(`${app.url}/public/results/${id}/thumb`)),
    );
    for (const a of answers) {
      expect(a.status).toBe(200);
      expect(a.headers.get("content-type")).toBe("image/webp");
      const bytes = new Uint8Array(await a.arrayBuffer());
      const meta = await new Bun.Image(bytes).metadata();
      expect(Math.max(meta.width, meta.height)).toBeLessThanOrEqual(400);
    }
    const thumbPath = (await row(id)).thumbPath;
    expect(thumbPath).toBe(`results/${id}.thumb.webp`);
    expect(thumbsOnDisk()).toEqual([`${id}.thumb.webp`]);
    expect((await fetch(`${app.url}/public/results/${id}/thumb`)).status).toBe(200);
  });

  test("the cleaner removes a lazily made thumbnail with its result", async () => {
    const res = await postIngest(app, "slot-001", dslrForm(photo));
    const id = res.headers.get("x-job-id")!;
    expect((await fetch(`${app.url}/public/results/${id}/thumb`)).status).toBe(200);
    const thumb = join(app.dataDir, "media", `results/${id}.thumb.webp`);
    expect(existsSync(thumb)).toBe(true);
    // The retention passes on the app's clock, the cleaner runs (and the clock comes back).
    const now = clock.now();
    clock.set(new Date((await row(id)).resultExpiresAt!.getTime() + 1000));
    try {
      await runCleanup(app.runtime, { trigger: "test" });
      expect(existsSync(thumb)).toBe(false);
      expect((await fetch(`${app.url}/public/results/${id}/thumb`)).status).toBe(410);
    } finally {
      clock.set(now);
    }
  });

  test("a result that cannot be decoded has no thumbnail (404), and nothing is left behind", async () => {
    const res = await postIngest(app, "slot-001", dslrForm(photo));
    const id = res.headers.get("x-job-id")!;
    // Stand-in for a HEIC result kept as "original": bytes Bun.Image cannot decode.
    await Bun.write(
      join(app.dataDir, "media", (await row(id)).resultPath!),
      new Uint8Array([0xff, 0xd8, 0xff, 0, 1, 2]),
    );
    const thumb = await fetch(`${app.url}/public/results/${id}/thumb`);
    expect(thumb.status).toBe(404);
    expect(((await thumb.json()) as { error: { code: string } }).error.code).toBe("thumbnail_not_found");
    expect((await row(id)).thumbPath).toBeNull();
    expect(thumbsOnDisk().filter((f) => f.startsWith(id))).toEqual([]);
  });
});

describe("many worker loops, and wake-ups off", () => {
  test("200 worker loops answer a burst of booths, each job run once", async () => {
    const app = await startTestApp({ workerCount: 200 });
    try {
      await app.setSetting("max_in_flight_jobs", 500);
      await app.setSetting("provider_concurrency", { local: 200 });
      await app.configureSlot("slot-002", {
        provider: "local",
        operation: "passthrough",
        settings: { simulate_delay_ms: 300 },
      });
      const photo = await makeJpeg(160, 120);
      const answers = await Promise.all(
        Array.from({ length: 30 }, () => postIngest(app, "slot-002", dslrForm(photo))),
      );
      expect(answers.map((a) => a.status)).toEqual(answers.map(() => 200));
      const rows = await app.db.select().from(job);
      expect(rows.length).toBe(30);
      expect(rows.every((r) => r.status === "succeeded" && r.attempts === 1)).toBe(true);
    } finally {
      await app.stop();
    }
  });

  test("WAKEUPS=off: the safety-net re-reads alone answer the booth", async () => {
    const app = await startTestApp({ env: { WAKEUPS: "off" } });
    try {
      expect(app.config.wakeups).toBe(false);
      await app.configureSlot("slot-003", { provider: "local", operation: "greyscale", settings: {} });
      const res = await postIngest(app, "slot-003", dslrForm(await makeJpeg(160, 120)));
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toBe("image/jpeg");
    } finally {
      await app.stop();
    }
  });
});
