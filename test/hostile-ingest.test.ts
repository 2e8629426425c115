/**
 * Hostile input on ingest (test/hostile/ingest.ts holds the cases), and what takes more than one
 * request there: HEIC through a provider that reads it, and the spool a photo may or may not reach.
 */
import { describe, expect, test } from "bun:test";
import { eventually, INGEST_PASSWORD } from "./helpers/app";
import { listFiles, rawMultipart } from "./helpers/hostile";
import {
  B,
  describeCases,
  form,
  goodFields,
  multipartHeaders,
  nextAddress,
  useHostileApp,
} from "./helpers/hostile-suite";
import { makeHeic } from "./helpers/images";
import { INGEST_CASES } from "./hostile/ingest";

const h = useHostileApp();

describeCases("hostile input on ingest", INGEST_CASES);

describe("the issue's findings that need more than one request", () => {
  test("HEIC works end to end where the provider reads it (Gemini)", async () => {
    const res = await fetch(`${h.app.url}/ingest/slot-002`, {
      method: "POST",
      headers: { "x-forwarded-for": nextAddress() },
      body: form(goodFields(), makeHeic()),
    });
    expect(res.status).toBe(200);
    expect(JSON.stringify(h.gemini.requests.at(-1)?.parts)).toContain("image/heic");
  });

  test("a photo sent before its password is spooled to disk while it streams, and removed", async () => {
    const spool = `${h.app.dataDir}/spool`;
    const body = rawMultipart(B, [
      { name: "fileToUpload", filename: "a.jpg", body: h.photo },
      { name: "password", body: INGEST_PASSWORD },
    ]);
    const split = Buffer.from(body).indexOf("password") - 60;
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const stream = new ReadableStream<Uint8Array>({
      async start(controller) {
        controller.enqueue(body.subarray(0, split));
        await gate;
        controller.enqueue(body.subarray(split));
        controller.close();
      },
    });
    const pending = fetch(`${h.app.url}/ingest/slot-001`, {
      method: "POST",
      headers: { ...multipartHeaders, "x-forwarded-for": nextAddress() },
      body: stream,
    });
    await eventually(async () => listFiles(spool).length > 0, 5000).catch(() => {});
    expect(listFiles(spool)).toHaveLength(1);
    release();
    const res = await pending;
    expect(res.status).toBe(200);
    expect(listFiles(spool)).toHaveLength(0);
  });

  test("a photo sent after a wrong password is never spooled", async () => {
    const spool = `${h.app.dataDir}/spool`;
    const body = rawMultipart(B, [
      { name: "password", body: "wrong" },
      { name: "fileToUpload", filename: "a.jpg", body: new Uint8Array(400_000).fill(7) },
    ]);
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const stream = new ReadableStream<Uint8Array>({
      async start(controller) {
        controller.enqueue(body.subarray(0, 200_000));
        await gate;
        controller.enqueue(body.subarray(200_000));
        controller.close();
      },
    });
    const pending = fetch(`${h.app.url}/ingest/slot-001`, {
      method: "POST",
      headers: { ...multipartHeaders, "x-forwarded-for": nextAddress() },
      body: stream,
    });
    // Fixed: proving the half-sent photo is NOT spooled needs time for it to have been, had it been.
    await Bun.sleep(300);
    expect(listFiles(spool)).toHaveLength(0);
    release();
    expect((await pending).status).toBe(401);
  });
});
