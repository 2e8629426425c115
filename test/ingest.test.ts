import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { eq } from "drizzle-orm";
import { job, processingLog } from "../src/db/schema";
import { sniffImage } from "../src/media/images";
import {
  dslrFields,
  dslrForm,
  INGEST_PASSWORD,
  json,
  postIngest,
  startTestApp,
  type TestApp,
} from "./helpers/app";
import { colourfulness, makeAnimatedWebp, makeApng, makeJpeg, makePng, makeWebp } from "./helpers/images";
import { expectMatchesOpenApi } from "./helpers/openapi";

let app: TestApp;
let photo: Uint8Array;

beforeAll(async () => {
  app = await startTestApp();
  photo = await makeJpeg(320, 240);
  await app.configureSlot("slot-001", { provider: "local", operation: "greyscale", settings: {} });
});
afterAll(() => app.stop());

async function jobsCount(): Promise<number> {
  return (await app.db.select().from(job)).length;
}

describe("a DSLR Remote Pro upload", () => {
  test("returns the processed JPEG with the job id, and keeps the booth's metadata", async () => {
    const res = await postIngest(app, "slot-001", dslrForm(photo));
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("image/jpeg");
    expect(res.headers.get("cache-control")).toBe("no-store");
    const jobId = res.headers.get("x-job-id")!;
    expect(res.headers.get("content-disposition")).toBe(
      `inline; filename="slot-001-${jobId.slice(0, 8)}.jpg"`,
    );
    const body = new Uint8Array(await res.arrayBuffer());
    expect(sniffImage(body)).toBe("jpeg");
    expect(await colourfulness(photo)).toBeGreaterThan(20);
    expect(await colourfulness(body)).toBeLessThan(3);

    const [row] = await app.db.select().from(job).where(eq(job.id, jobId));
    expect(row!.status).toBe("succeeded");
    expect(row!.source).toBe("ingest");
    expect(row!.clientHash).toBe("3f786850e387550fdab836ed7e6dc881de23001b");
    expect(row!.clientMeta).toMatchObject({
      time: "1758217512",
      user_id: "Acer",
      name: "BOOTH-PC",
      version: "3.30.2",
    });
    expect(JSON.stringify(row!.clientMeta)).not.toContain(INGEST_PASSWORD);
    // The payload was removed by the finalization, before the booth was answered.
    expect(row!.payloadPath).toBeNull();
    expect(row!.resultSha256).toMatch(/^[0-9a-f]{64}$/);
    expect(row!.resultExpiresAt!.getTime() - row!.finalizedAt!.getTime()).toBe(72 * 3600_000);
    // T_sync counts from the request's arrival: the deadline is 48 s after it, so the time spent
    // reading the upload and queueing it comes off the job's share, never on top of the booth's wait.
    const beforeAcceptance = 48_000 - (row!.expiresAt.getTime() - row!.createdAt.getTime());
    expect(beforeAcceptance).toBeGreaterThanOrEqual(0);
    expect(beforeAcceptance).toBeLessThan(5_000);

    const events = (await app.db.select().from(processingLog).where(eq(processingLog.jobId, jobId))).map(
      (r) => r.event,
    );
    expect(events).toEqual(["received", "dispatched", "provider_responded", "succeeded"]);
  });

  test("the /api/ingest alias, the `file` field and ?password= work too", async () => {
    const fields = dslrFields();
    delete (fields as Record<string, string>).password;
    const form = dslrForm(photo, fields, "file");
    const res = await fetch(`${app.url}/api/ingest/slot-001?password=${INGEST_PASSWORD}`, {
      method: "POST",
      body: form,
    });
    expect(res.status).toBe(200);
    expect(sniffImage(new Uint8Array(await res.arrayBuffer()))).toBe("jpeg");
  });

  test("a PNG photo comes back as JPEG by default, and as PNG when the slot says so", async () => {
    const png = makePng(80, 60);
    const res = await postIngest(
      app,
      "slot-001",
      dslrForm(png, dslrFields(), "fileToUpload", "x.png", "image/png"),
    );
    expect(res.headers.get("content-type")).toBe("image/jpeg");
    await app.configureSlot("slot-002", {
      provider: "local",
      operation: "passthrough",
      output_format: "png",
    });
    const res2 = await postIngest(app, "slot-002", dslrForm(photo));
    expect(res2.headers.get("content-type")).toBe("image/png");
    expect(sniffImage(new Uint8Array(await res2.arrayBuffer()))).toBe("png");
    await app.configureSlot("slot-003", {
      provider: "local",
      operation: "passthrough",
      output_format: "original",
    });
    const webp = await makeWebp();
    const res3 = await postIngest(
      app,
      "slot-003",
      dslrForm(webp, dslrFields(), "fileToUpload", "x.webp", "image/webp"),
    );
    expect(res3.headers.get("content-type")).toBe("image/webp");
  });

  test("the part's Content-Type is not trusted: a JPEG labelled text/plain is accepted", async () => {
    const res = await postIngest(
      app,
      "slot-001",
      dslrForm(photo, dslrFields(), "fileToUpload", "a.txt", "text/plain"),
    );
    expect(res.status).toBe(200);
  });

  test("a photo whose part names its file with filename* only (RFC 8187) is the photo", async () => {
    // Such a part was taken for a text field: "No image part", or 413 for the fields of a big photo.
    const B = "----filenameStarBoundary";
    const head = (disposition: string) =>
      Buffer.from(`--${B}\r\nContent-Disposition: form-data; ${disposition}\r\n\r\n`);
    const body = Buffer.concat([
      head('name="password"'),
      Buffer.from(`${INGEST_PASSWORD}\r\n`),
      head("name=\"fileToUpload\"; filename*=UTF-8''IMG_%C3%A9t%C3%A9.jpg"),
      photo,
      Buffer.from(`\r\n--${B}--\r\n`),
    ]);
    const res = await fetch(`${app.url}/ingest/slot-001`, {
      method: "POST",
      headers: { "content-type": `multipart/form-data; boundary=${B}` },
      body,
    });
    expect(res.status).toBe(200);
    expect(sniffImage(new Uint8Array(await res.arrayBuffer()))).toBe("jpeg");
  });
});

describe("refusals leave no job and no file", () => {
  async function expectRefused(res: Response, status: number, code: string) {
    expect(res.status).toBe(status);
    expect(res.headers.get("content-type")).toContain("application/json");
    const body = await json(res);
    await expectMatchesOpenApi(app, "POST", new URL(res.url).pathname, res.status, body);
    expect(body.error.code).toBe(code);
    expect(typeof body.error.message).toBe("string");
    expect(typeof body.error.details).toBe("object");
    return body;
  }

  test("every §2 refusal in turn", async () => {
    // Earlier jobs' payloads went at their finalization, before their answers.
    expect(await app.runtime.media.list("payloads")).toEqual([]);
    const before = await jobsCount();

    await expectRefused(await postIngest(app, "slot-016", dslrForm(photo)), 404, "slot_not_found");
    await expectRefused(await postIngest(app, "nope", dslrForm(photo)), 404, "slot_not_found");

    await app.configureSlot("slot-009", { enabled: false });
    await expectRefused(await postIngest(app, "slot-009", dslrForm(photo)), 404, "slot_disabled");

    await app.configureSlot("slot-010", { size_limit_mb: 1, provider: "local", operation: "passthrough" });
    const big = new Uint8Array(1024 * 1024 + 10);
    big.set(photo);
    const tooBig = await expectRefused(
      await postIngest(app, "slot-010", dslrForm(big)),
      413,
      "payload_too_large",
    );
    expect(tooBig.error.details.max_bytes).toBe(1024 * 1024);

    const notMultipart = await fetch(`${app.url}/ingest/slot-001`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ password: INGEST_PASSWORD }),
    });
    await expectRefused(notMultipart, 400, "invalid_payload");

    const noImage = new FormData();
    noImage.append("password", INGEST_PASSWORD);
    await expectRefused(await postIngest(app, "slot-001", noImage), 400, "invalid_payload");

    const broken = await fetch(`${app.url}/ingest/slot-001`, {
      method: "POST",
      headers: { "content-type": "multipart/form-data; boundary=XYZ" },
      body: '--XYZ\r\nContent-Disposition: form-data; name="fileToUpload"; filename="a.jpg"\r\n\r\nabc',
    });
    await expectRefused(broken, 400, "invalid_payload");

    await expectRefused(
      await postIngest(app, "slot-001", dslrForm(photo, dslrFields({ password: "wrong" }))),
      401,
      "invalid_credentials",
    );
    const noPassword = dslrFields();
    delete (noPassword as Record<string, string>).password;
    await expectRefused(
      await postIngest(app, "slot-001", dslrForm(photo, noPassword)),
      401,
      "invalid_credentials",
    );

    const gif = new TextEncoder().encode("GIF89a not really an image at all");
    await expectRefused(
      await postIngest(app, "slot-001", dslrForm(gif, dslrFields(), "fileToUpload", "x.jpg", "image/jpeg")),
      415,
      "unsupported_media_type",
    );
    const fakeJpeg = new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3, 4, 5, 6, 7, 8]);
    await expectRefused(await postIngest(app, "slot-001", dslrForm(fakeJpeg)), 415, "unsupported_media_type");
    // Animated images: refused at upload (no provider takes one), never a job that fails later.
    for (const [animated, name, mime] of [
      [await makeAnimatedWebp(), "x.webp", "image/webp"],
      [makeApng(), "x.png", "image/png"],
    ] as const) {
      const res = await postIngest(
        app,
        "slot-001",
        dslrForm(animated, dslrFields(), "fileToUpload", name, mime),
      );
      expect(res.status).toBe(415);
      const body = (await res.json()) as { error: { message: string } };
      await expectMatchesOpenApi(app, "POST", "/ingest/slot-001", res.status, body);
      expect(body.error.message).toContain("animated");
    }

    expect(await jobsCount()).toBe(before);
    expect(await app.runtime.media.list("payloads")).toEqual([]);
  });

  test("a lying Content-Length is refused from the header before reading", async () => {
    await app.configureSlot("slot-011", { size_limit_mb: 1 });
    const res = await fetch(`${app.url}/ingest/slot-011`, {
      method: "POST",
      headers: {
        "content-type": "multipart/form-data; boundary=X",
        "content-length": String(5 * 1024 * 1024),
      },
      body: "--X--",
    }).catch(() => null);
    // Bun may close the socket on a short body; either way no job exists.
    if (res) expect([400, 413]).toContain(res.status);
    expect((await app.db.select().from(job).where(eq(job.slotId, "slot-011"))).length).toBe(0);
  });

  test("the password is never written to the log", async () => {
    const lines: string[] = [];
    const logged = await startTestApp({ logLines: lines });
    try {
      await logged.configureSlot("slot-001", { provider: "local", operation: "greyscale" });
      await postIngest(logged, "slot-001", dslrForm(photo));
      await postIngest(logged, "slot-001", dslrForm(photo, dslrFields({ password: "wrong-guess-123" })));
      expect(lines.length).toBeGreaterThan(3);
      const all = lines.join("\n");
      expect(all).not.toContain(INGEST_PASSWORD);
      expect(all).not.toContain("wrong-guess-123");
    } finally {
      await logged.stop();
    }
  });
});
