/**
 * The media storage interface, one test body run against both backends: the local directory and
 * an S3 bucket (s3rver on a free port, spoken to by Bun's S3 client over real HTTP).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { S3MediaStore } from "../src/media/s3";
import { LocalMediaStore, type MediaStore } from "../src/media/storage";
import { dslrForm, json, postIngest, startTestApp } from "./helpers/app";
import { makeJpeg } from "./helpers/images";
import { startTestBucket, type TestBucket } from "./helpers/s3";

let bucket: TestBucket;
const dirs: string[] = [];
const scratch = () => {
  const d = mkdtempSync(join(tmpdir(), "photochanger-storage-"));
  dirs.push(d);
  return d;
};

beforeAll(async () => {
  bucket = await startTestBucket("storage-unit");
});
afterAll(async () => {
  await bucket?.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const sha = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");
const bytes = (n: number, seed: number) => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff);

const backends: [string, () => MediaStore][] = [
  [
    "local",
    () => {
      const s = new LocalMediaStore(join(scratch(), "media"));
      s.ensureLayout();
      return s;
    },
  ],
  // Each S3 test case gets its own bucket prefix-free store over the shared bucket; keys carry a
  // random part so cases never see each other's objects except where a case lists a whole kind.
  ["s3", () => new S3MediaStore(bucket.settings, scratch())],
];

describe.each(backends)("media storage: %s", (name, make) => {
  test("writes, reads back byte-exact, reports size and existence", async () => {
    const s = make();
    const data = bytes(200_000, 7);
    const key = `results/${name}-rw-${crypto.randomUUID()}.jpg`;
    expect(await s.exists(key)).toBe(false);
    expect(await s.size(key)).toBeNull();
    expect(await s.writeAtomic(key, data, { mime: "image/jpeg" })).toBe(key);
    expect(await s.exists(key)).toBe(true);
    expect(await s.size(key)).toBe(data.byteLength);
    expect(sha(await s.read(key))).toBe(sha(data));
  });

  test("body() streams the object, and is null for a missing one", async () => {
    const s = make();
    const data = bytes(300_000, 3);
    const key = `results/${name}-body-${crypto.randomUUID()}.webp`;
    await s.writeAtomic(key, data);
    const body = await s.body(key);
    expect(body).not.toBeNull();
    const served = new Uint8Array(await new Response(body!).arrayBuffer());
    expect(sha(served)).toBe(sha(data));
    expect(await s.body(`results/${name}-missing.webp`)).toBeNull();
  });

  test("a rewrite replaces the object whole", async () => {
    const s = make();
    const key = `templates/slot-001/${name}-${crypto.randomUUID()}.png`;
    await s.writeAtomic(key, bytes(50_000, 1));
    const second = bytes(1234, 9);
    await s.writeAtomic(key, second);
    expect(sha(await s.read(key))).toBe(sha(second));
  });

  test("remove() returns the bytes freed, then 0; reading a removed object rejects", async () => {
    const s = make();
    const key = `media/${name}-rm-${crypto.randomUUID()}.jpg`;
    await s.writeAtomic(key, bytes(4096, 2));
    expect(await s.remove(key)).toBe(4096);
    expect(await s.exists(key)).toBe(false);
    expect(await s.remove(key)).toBe(0);
    expect(await s.remove(null)).toBe(0);
    await expect(s.read(key)).rejects.toThrow();
  });

  test("list() and bytesByKind() see what was written, by kind", async () => {
    const s = make();
    const before = await s.bytesByKind();
    const id = crypto.randomUUID();
    await s.writeAtomic(`payloads/${name}-${id}.jpg`, bytes(1000, 1));
    await s.writeAtomic(`payloads/${name}-${id}-b.jpg`, bytes(2000, 1));
    await s.writeAtomic(`templates/slot-002/${name}-${id}.png`, bytes(500, 1));
    const payloads = (await s.list("payloads")).filter((f) => f.path.includes(id));
    expect(payloads.map((f) => [f.path, f.size]).sort()).toEqual([
      [`payloads/${name}-${id}-b.jpg`, 2000],
      [`payloads/${name}-${id}.jpg`, 1000],
    ]);
    for (const f of payloads) expect(Math.abs(f.mtimeMs - Date.now())).toBeLessThan(10 * 60_000);
    expect((await s.list("templates")).map((f) => f.path)).toContain(`templates/slot-002/${name}-${id}.png`);
    const after = await s.bytesByKind();
    expect(after.payloads - before.payloads).toBe(3000);
    expect(after.templates - before.templates).toBe(500);
  });

  test("refuses keys that leave the store", async () => {
    const s = make();
    for (const key of ["../escape.jpg", "/etc/passwd", "results/../../x", "results//x.jpg"]) {
      await expect(s.writeAtomic(key, bytes(10, 1))).rejects.toThrow(/escapes the media root/);
    }
  });

  test("probe() proves the store takes writes and leaves nothing behind", async () => {
    const s = make();
    const before = (await s.list("media")).length;
    await s.probe();
    expect((await s.list("media")).length).toBe(before);
  });

  test("reports free space and the local volume", async () => {
    const s = make();
    const free = await s.freeBytes();
    expect(free).toBeGreaterThan(0);
    if (name === "s3") expect(free).toBe(Number.POSITIVE_INFINITY);
    const disk = await s.diskUsage();
    expect(disk.total).toBeGreaterThan(0);
    expect(disk.free).toBeGreaterThan(0);
  });
});

describe("s3 backend specifics", () => {
  test("writes nothing to the local data dir", async () => {
    const dataDir = scratch();
    const s = new S3MediaStore(bucket.settings, dataDir);
    s.ensureLayout();
    await s.writeAtomic(`results/${crypto.randomUUID()}.jpg`, bytes(100, 1));
    expect(readdirSync(dataDir)).toEqual([]);
  });

  test("an unreachable bucket fails probe() with the reason", async () => {
    const s = new S3MediaStore({ ...bucket.settings, endpoint: "http://127.0.0.1:9" }, scratch());
    await expect(s.probe()).rejects.toThrow();
  });
});

describe("a server whose bucket is unreachable", () => {
  test("refuses uploads with 503 (not 500), stores nothing, and is not ready", async () => {
    const app = await startTestApp({
      workers: false,
      // Nothing listens on port 9 of the loopback: every bucket call fails to connect.
      env: { ...bucket.env, S3_ENDPOINT: "http://127.0.0.1:9" },
    });
    try {
      await app.configureSlot("slot-001", { provider: "local", operation: "passthrough", settings: {} });
      const res = await postIngest(app, "slot-001", dslrForm(await makeJpeg()));
      expect(res.status).toBe(503);
      expect((await json(res)).error.code).toBe("service_unavailable");
      expect(await app.sql`select id from job`).toHaveLength(0);
      const ready = await fetch(`${app.url}/readyz`);
      expect(ready.status).toBe(503);
      const body = (await ready.json()) as { error: { details: { failing: string[] } } };
      expect(body.error.details.failing).toContain("media");
      expect(readdirSync(app.dataDir)).not.toContain("media");
    } finally {
      await app.stop();
    }
  });
});
