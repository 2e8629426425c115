/**
 * `photochanger media migrate --to s3|local`, run as the operator runs it (a CLI process): a box's
 * real media (booth results with thumbnails, a template) move to a bucket and back, verified by
 * SHA-256; a second run copies nothing; a damaged source object is refused, not copied.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { eq } from "drizzle-orm";
import { job } from "../src/db/schema";
import type { S3MediaStore } from "../src/media/s3";
import { LocalMediaStore, MEDIA_KINDS } from "../src/media/storage";
import { dslrForm, postIngest, startTestApp, type TestApp } from "./helpers/app";
import { runCli } from "./helpers/cli";
import { makeJpeg } from "./helpers/images";
import { startTestBucket, type TestBucket } from "./helpers/s3";

let app: TestApp;
let bucket: TestBucket;
const jobIds: string[] = [];
const sha = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

async function allKeys(store: LocalMediaStore | S3MediaStore): Promise<string[]> {
  const out: string[] = [];
  for (const kind of MEDIA_KINDS) for (const f of await store.list(kind)) out.push(f.path);
  return out.sort();
}

const env = (extra: Record<string, string> = {}) => ({
  DATABASE_URL: app.databaseUrl,
  PHOTOCHANGER_DATA_DIR: app.dataDir,
  ...bucket.env,
  ...extra,
});

beforeAll(async () => {
  bucket = await startTestBucket("migrate");
  app = await startTestApp({ workerCount: 2 });
  await app.configureSlot("slot-003", { provider: "local", operation: "greyscale" });
  for (let i = 0; i < 3; i++) {
    const res = await postIngest(app, "slot-003", dslrForm(await makeJpeg(120 + i * 8, 90)));
    expect(res.status).toBe(200);
    jobIds.push(res.headers.get("x-job-id")!);
  }
  // Thumbnails are made on their first request: ask for each, so there is one of each kind to move.
  for (const id of jobIds) expect((await fetch(`${app.url}/public/results/${id}/thumb`)).status).toBe(200);
  const png = await makeJpeg(40, 40);
  await app.runtime.templates.add({
    slotId: "slot-003",
    role: "style",
    bytes: png,
    mime: "image/jpeg",
    format: "jpeg",
    sha256: sha(png),
    filename: "style.jpg",
    width: 40,
    height: 40,
    uploadedBy: "test",
    now: new Date(),
  });
});

afterAll(async () => {
  await app?.stop();
  await bucket?.stop();
});

describe("media migrate", () => {
  test("--to s3 copies every object, verified, and keeps the source", async () => {
    const local = app.runtime.media as LocalMediaStore;
    // The payloads of the finished jobs went with their finalization, before their answers.
    expect(await local.list("payloads")).toEqual([]);
    const before = await allKeys(local);
    expect(before.filter((k) => k.startsWith("results/")).length).toBe(6);
    const r = await runCli(["media", "migrate", "--to", "s3", "--json"], env());
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report).toMatchObject({ copied: before.length, alreadyThere: 0, failed: [], missing: [] });
    expect(await bucket.keys()).toEqual(before);
    for (const key of before) {
      expect(sha(await bucket.client.file(key).bytes())).toBe(sha(await local.read(key)));
    }
    expect(await allKeys(local)).toEqual(before);
  });

  test("a second run copies nothing and still succeeds", async () => {
    const r = await runCli(["media", "migrate", "--to", "s3"], env());
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("copied and verified:   0");
    expect(r.stdout).toMatch(/already in the target: 7\b/);
    expect(r.stdout).toContain("Complete");
  });

  test("a damaged source object is refused, reported, and the run exits 1; a rerun resumes", async () => {
    const [row] = await app.db.select().from(job).where(eq(job.id, jobIds[0]!));
    const path = join(app.config.mediaRoot, row!.resultPath!);
    const good = await Bun.file(path).bytes();
    await bucket.client.delete(row!.resultPath!);
    writeFileSync(path, "not the result any more");
    const r = await runCli(["media", "migrate", "--to", "s3", "--json"], env());
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout);
    expect(report.failed).toEqual([
      { path: row!.resultPath, reason: "the source's SHA-256 differs from the database's (damaged)" },
    ]);
    expect(report.missing).toEqual([row!.resultPath]);
    expect(await bucket.client.exists(row!.resultPath!)).toBe(false);
    // The operator restores the file (from a backup): the same command picks up where it stopped.
    writeFileSync(path, good);
    const again = JSON.parse((await runCli(["media", "migrate", "--to", "s3", "--json"], env())).stdout);
    expect(again).toMatchObject({ copied: 1, alreadyThere: 6, failed: [], missing: [] });
    expect(sha(await bucket.client.file(row!.resultPath!).bytes())).toBe(row!.resultSha256!);
  });

  test("--to local --remove-source brings everything back and empties the bucket", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "photochanger-migrate-back-"));
    try {
      const keys = await bucket.keys();
      const r = await runCli(["media", "migrate", "--to", "local", "--remove-source", "--json"], {
        ...env(),
        PHOTOCHANGER_DATA_DIR: dataDir,
        MEDIA_ROOT: join(dataDir, "media"),
      });
      expect(r.stderr).toBe("");
      const report = JSON.parse(r.stdout);
      expect({ ...report, from: undefined, to: undefined }).toMatchObject({
        copied: keys.length,
        removedFromSource: keys.length,
        failed: [],
        missing: [],
      });
      expect(r.code).toBe(0);
      expect(await bucket.keys()).toEqual([]);
      expect(await allKeys(new LocalMediaStore(join(dataDir, "media")))).toEqual(keys);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  test("bad usage exits 2 with the reason", async () => {
    const r = await runCli(["media", "migrate", "--to", "ftp"], env());
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--to must be s3 or local");
    const noBucket = await runCli(["media", "migrate", "--to", "s3"], {
      DATABASE_URL: app.databaseUrl,
      PHOTOCHANGER_DATA_DIR: app.dataDir,
    });
    expect(noBucket.code).toBe(2);
    expect(noBucket.stderr).toContain("S3_BUCKET is not set");
  });
});
