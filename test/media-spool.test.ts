/**
 * The result spool on its own: a result the bucket cannot take is kept under a `spool/` key that
 * this instance serves and another answers "not available yet" for (never "missing") until it is
 * uploaded; the cap refuses rather than fills; the drain uploads only what a finished job points
 * at, and drops strays once they are old enough that no worker can still be finalizing with them.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createHash, randomUUID } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLogger } from "../src/lib/log";
import { S3MediaStore } from "../src/media/s3";
import { ResultSpool, SpooledMediaStore, SpoolFull } from "../src/media/spool";
import { isStorageUnavailable, MediaUnavailable } from "../src/media/storage";
import { drainSpool } from "../src/queue/spool-drain";
import { startTestApp, type TestApp } from "./helpers/app";
import { startTestBucket, type TestBucket } from "./helpers/s3";

let bucket: TestBucket;
let app: TestApp;
const dirs: string[] = [];
const scratch = () => {
  const d = mkdtempSync(join(tmpdir(), "photochanger-spool-"));
  dirs.push(d);
  return d;
};
const log = createLogger("error", () => {});
const sha = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");
const bytes = (n: number, seed = 1) => Uint8Array.from({ length: n }, (_, i) => (i * 13 + seed) & 0xff);

beforeAll(async () => {
  bucket = await startTestBucket("spool-unit");
  app = await startTestApp({ workers: false, env: bucket.env });
});
afterAll(async () => {
  await app?.stop();
  await bucket?.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A store over a bucket nobody listens for (every call refused), with its own spool. */
function unreachable(dataDir = scratch(), maxBytes = 10 * 1024 * 1024) {
  const s3 = new S3MediaStore({ ...bucket.settings, endpoint: "http://127.0.0.1:9" }, dataDir, {
    budgetMs: 300,
    suspectTimeoutMs: 200,
  });
  return new SpooledMediaStore(s3, new ResultSpool(dataDir, maxBytes, log));
}

describe("the spool in front of the bucket", () => {
  test("a result the bucket refuses is kept under spool/, served here, and 'not yet' (503) elsewhere until uploaded", async () => {
    const here = unreachable();
    const data = bytes(5000);
    const key = `results/${randomUUID()}.a1.jpg`;
    const kept = await here.writeAtomic(key, data, { spool: true, until: Date.now() + 300 });
    expect(kept).toBe(`spool/${key}`);
    expect(sha(await here.read(kept))).toBe(sha(data));
    expect(await here.size(kept)).toBe(5000);
    const body = await here.body(kept);
    expect(sha(new Uint8Array(await new Response(body!).arrayBuffer()))).toBe(sha(data));
    // Without `spool` a refused write is the bucket's outage, not a spooled result.
    const err = await here.writeAtomic(key, data).catch((e) => e);
    expect(err).toBeInstanceOf(MediaUnavailable);

    // Another instance (its own data dir) over the real bucket: not there yet, an outage, not a 404.
    const elsewhere = new SpooledMediaStore(
      new S3MediaStore(bucket.settings, scratch()),
      new ResultSpool(scratch(), 1024 * 1024, log),
    );
    const notYet = await elsewhere.body(kept).catch((e) => e);
    expect([isStorageUnavailable(notYet), (notYet as MediaUnavailable).code]).toEqual([true, "Spooled"]);
    await bucket.client.write(key, data);
    expect(sha(await elsewhere.read(kept))).toBe(sha(data));
  });

  test("a full spool refuses the result (SpoolFull) and keeps nothing of it", async () => {
    const dataDir = scratch();
    const store = unreachable(dataDir, 4096);
    const err = await store
      .writeAtomic(`results/${randomUUID()}.a1.jpg`, bytes(5000), { spool: true, until: Date.now() + 300 })
      .catch((e) => e);
    expect(err).toBeInstanceOf(SpoolFull);
    expect((await store.spool.stats()).files).toBe(0);
  });
});

describe("the drain", () => {
  async function insertSucceeded(resultPath: string, data: Uint8Array, deleted = false): Promise<string> {
    const id = resultPath.match(/([0-9a-f-]{36})\.a1/)![1]!;
    await app.sql`
      insert into job (id, slot_id, source, status, provider, operation, settings, output_format, templates,
        created_at, expires_at, finalized_at, result_path, result_mime, result_size, result_sha256,
        result_expires_at, result_deleted_at, client_meta)
      values (${id}, 'slot-001', 'ingest', 'succeeded', 'local', 'passthrough', '{}', 'jpeg', '[]',
        now(), now() + interval '1 minute', now(), ${resultPath}, 'image/jpeg', ${data.byteLength},
        ${sha(data)}, now() + interval '1 day', ${deleted ? new Date() : null}, '{}')`;
    return id;
  }

  test("uploads what a finished job points at, drops what none does once old, keeps a young stray", async () => {
    // A spool of its own (the app's own is drained by its timer), over the app's database and bucket.
    const dataDir = scratch();
    const media = new SpooledMediaStore(
      new S3MediaStore(bucket.settings, dataDir),
      new ResultSpool(dataDir, 1024 * 1024, log),
    );
    const spoolDir = join(dataDir, "media-spool", "results");
    mkdirSync(spoolDir, { recursive: true });
    const put = (name: string, data: Uint8Array) => writeFileSync(join(spoolDir, name), data);

    // A finished job's spooled result: uploaded, the job pointed at the bucket key.
    const good = bytes(3000, 2);
    const goodId = await insertSucceeded(`spool/results/${randomUUID()}.a1.jpg`, good);
    put(`${goodId}.a1.jpg`, good);
    // A result the cleaner already expired: dropped, never uploaded.
    const gone = bytes(100, 3);
    const goneId = await insertSucceeded(`spool/results/${randomUUID()}.a1.jpg`, gone, true);
    put(`${goneId}.a1.jpg`, gone);
    // Strays no job points at: kept while young (a worker may be finalizing), dropped once old.
    const young = `${randomUUID()}.a1.jpg`;
    const old = `${randomUUID()}.a1.jpg`;
    put(young, bytes(10));
    put(old, bytes(10));
    const long = new Date(Date.now() - 10 * 60_000);
    utimesSync(join(spoolDir, old), long, long);

    const report = await drainSpool({ jobs: app.runtime.store.jobs, media, log });
    expect(report).toEqual({ uploaded: 1, dropped: 2, left: 1 });
    const [row] = await app.sql<{ result_path: string }[]>`select result_path from job where id = ${goodId}`;
    expect(row!.result_path).toBe(`results/${goodId}.a1.jpg`);
    expect(sha(await bucket.client.file(row!.result_path).bytes())).toBe(sha(good));
    expect(await bucket.client.exists(`results/${goneId}.a1.jpg`)).toBe(false);
    expect(existsSync(join(spoolDir, `${goodId}.a1.jpg`))).toBe(false);
    expect(existsSync(join(spoolDir, `${goneId}.a1.jpg`))).toBe(false);
    expect(existsSync(join(spoolDir, young))).toBe(true);
    expect(existsSync(join(spoolDir, old))).toBe(false);
  });
});
