/**
 * The bucket's outages, against a real s3rver in a child process that the test stops (connections
 * refused) or freezes (SIGSTOP: every call hangs): each media call ends as MediaUnavailable within
 * its bound instead of failing as a bug or hanging, is tried again while its deadline allows (so a
 * bucket back in time costs nothing), and the store says it is failing until a call is answered.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MAX_UNANSWERED, S3MediaStore } from "../src/media/s3";
import { isStorageUnavailable, MediaUnavailable } from "../src/media/storage";
import { eventually } from "./helpers/app";
import { type OwnedBucket, startOwnedBucket } from "./helpers/s3";
import { SilentProxy } from "./helpers/silent-proxy";

let bucket: OwnedBucket;
let dataDir: string;
const BOUNDS = { callTimeoutMs: 800, suspectTimeoutMs: 400, budgetMs: 1_200, perMibMs: 1_000 };

beforeAll(async () => {
  bucket = await startOwnedBucket("outage-unit");
  dataDir = mkdtempSync(join(tmpdir(), "photochanger-outage-"));
});
afterAll(async () => {
  await bucket?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

const bytes = (n: number) => Uint8Array.from({ length: n }, (_, i) => (i * 7) & 0xff);

/** Every call of the interface, on a key that exists while the bucket is up. */
function everyCall(s: S3MediaStore, key: string): [string, () => Promise<unknown>][] {
  return [
    ["write", () => s.writeAtomic(`results/${crypto.randomUUID()}.jpg`, bytes(1000))],
    ["read", () => s.read(key)],
    ["body", () => s.body(key)],
    ["exists", () => s.exists(key)],
    ["size", () => s.size(key)],
    ["remove", () => s.remove(key)],
    ["list", () => s.list("results")],
    ["probe", () => s.probe()],
  ];
}

async function failure(call: () => Promise<unknown>): Promise<unknown> {
  try {
    await call();
  } catch (err) {
    return err;
  }
  throw new Error("the call succeeded while the bucket was down");
}

describe("a bucket that refuses connections", () => {
  test("every call fails as MediaUnavailable (an outage, not a bug) and the store says it is failing", async () => {
    const s = new S3MediaStore(bucket.settings, dataDir, BOUNDS);
    const key = `results/${crypto.randomUUID()}.jpg`;
    await s.writeAtomic(key, bytes(500));
    expect(s.health().failingSince).toBeNull();
    await bucket.halt();
    try {
      for (const [name, call] of everyCall(s, key)) {
        const err = await failure(call);
        expect([name, err instanceof MediaUnavailable, isStorageUnavailable(err)]).toEqual([
          name,
          true,
          true,
        ]);
        expect((err as MediaUnavailable).code).toBe("ConnectionRefused");
      }
      expect(s.health().failingSince).toBeInstanceOf(Date);
      expect(s.health().error).toContain("ConnectionRefused");
      // The gauges' listing gives what it knew rather than taking /metrics down with the bucket.
      expect(Object.keys(await s.bytesByKind()).sort()).toEqual([
        "media",
        "payloads",
        "results",
        "templates",
      ]);
    } finally {
      await bucket.start();
    }
    expect(await s.exists(key)).toBe(true);
    expect(s.health()).toEqual({ failingSince: null, error: null, unanswered: 0 });
  });

  test("a refused write is tried again until its deadline: a bucket back in time stores it", async () => {
    const s = new S3MediaStore(bucket.settings, dataDir, BOUNDS);
    const key = `results/${crypto.randomUUID()}.jpg`;
    await bucket.halt();
    const write = s.writeAtomic(key, bytes(2000), { until: Date.now() + 20_000 });
    // The bucket comes back once the store has been refused (it is then retrying).
    await eventually(async () => s.health().failingSince !== null, 10_000);
    await bucket.start();
    expect(await write).toBe(key);
    expect((await bucket.client.file(key).bytes()).byteLength).toBe(2000);
  });

  test("a missing object is an answer, not an outage", async () => {
    const s = new S3MediaStore(bucket.settings, dataDir, BOUNDS);
    const err = await failure(() => s.read(`results/${crypto.randomUUID()}.jpg`));
    expect(isStorageUnavailable(err)).toBe(false);
    expect(await s.body(`results/${crypto.randomUUID()}.jpg`)).toBeNull();
    expect(s.health().failingSince).toBeNull();
  });
});

describe("a bucket that hangs (its process frozen)", () => {
  test("every call gives up within its bound as a Timeout instead of waiting for the bucket", async () => {
    const s = new S3MediaStore(bucket.settings, dataDir, BOUNDS);
    const key = `results/${crypto.randomUUID()}.jpg`;
    await s.writeAtomic(key, bytes(500));
    bucket.freeze();
    try {
      for (const [name, call] of everyCall(s, key)) {
        const err = await failure(call);
        expect([name, err instanceof MediaUnavailable]).toEqual([name, true]);
        expect(["Timeout", "Unanswered"]).toContain((err as MediaUnavailable).code);
      }
      expect(s.health().failingSince).toBeInstanceOf(Date);
      expect(s.health().unanswered).toBeGreaterThan(0);
    } finally {
      bucket.thaw();
    }
    expect(await s.exists(key)).toBe(true);
    expect(s.health().failingSince).toBeNull();
  });

  test("a write caught by the freeze is tried again and lands once the bucket answers, before its deadline", async () => {
    const s = new S3MediaStore(bucket.settings, dataDir, BOUNDS);
    const key = `results/${crypto.randomUUID()}.jpg`;
    bucket.freeze();
    const write = s.writeAtomic(key, bytes(3000), { until: Date.now() + 20_000 });
    // The bucket thaws once an attempt has hung and been dropped (the store is retrying).
    await eventually(async () => s.health().unanswered > 0, 10_000);
    bucket.thaw();
    expect(await write).toBe(key);
    // The attempts dropped during the freeze reach s3rver after the thaw too (same key, same bytes);
    // s3rver's overwrite on its disk is not atomic, so the object may blink while they land.
    await eventually(async () => (await s.size(key)) === 3000, 10_000);
  });
});

describe("a bucket back while the calls it owes never come", () => {
  test("past the cap of unanswered calls one call goes through, so the bucket is seen back at once", async () => {
    // The bucket behind a proxy that hangs every connection while it is 'down' and keeps those
    // connections silent for good (state lost while it hung): the calls dropped then are never
    // answered, yet the bucket answers new connections.
    const proxy = await SilentProxy.start({ host: "127.0.0.1", port: Number(new URL(bucket.endpoint).port) });
    try {
      // A failing bucket's calls get 1.5 s: the scout's, whole; the others' retries (100, 200, 400 ms
      // apart) give up by about 0.7 s, well before the scout's ends, however loaded the machine.
      const bounds = { ...BOUNDS, callTimeoutMs: 3_000, suspectTimeoutMs: 1_500, budgetMs: 400 };
      const s = new S3MediaStore(
        { ...bucket.settings, endpoint: `http://127.0.0.1:${proxy.port}` },
        dataDir,
        bounds,
      );
      const key = `results/${crypto.randomUUID()}.jpg`;
      await s.writeAtomic(key, bytes(500));
      proxy.silence();
      proxy.silenceNew = true;
      const dropped = await Promise.allSettled(
        Array.from({ length: MAX_UNANSWERED + 6 }, () => s.exists(key)),
      );
      expect(dropped.every((r) => r.status === "rejected")).toBe(true);
      expect(s.health().unanswered).toBeGreaterThanOrEqual(MAX_UNANSWERED);
      // At the cap, calls fail without a socket (tried again within the failing bucket's short
      // budget) instead of piling up more sockets and photos — all but one, the scout.
      const timed = async () => {
        const t0 = performance.now();
        const err = (await failure(() => s.exists(key))) as MediaUnavailable;
        return { code: err.code, ms: performance.now() - t0 };
      };
      const capped = await Promise.all([timed(), timed(), timed()]);
      expect(capped.map((c) => c.code).sort()).toEqual(["Timeout", "Unanswered", "Unanswered"]);
      // … within the failing bucket's bound (a healthy call may take 3 s and retry on top).
      for (const c of capped) expect(c.ms).toBeLessThan(bounds.suspectTimeoutMs + 1_000);

      proxy.silenceNew = false;
      expect(await eventually(async () => s.exists(key).catch(() => false), 10_000)).toBe(true);
      expect(s.health().failingSince).toBeNull();
      expect(s.health().unanswered).toBeGreaterThanOrEqual(MAX_UNANSWERED); // still owed, and no longer in the way
      expect(await s.exists(key)).toBe(true);
      await s.probe();
    } finally {
      await proxy.stop();
    }
  });
});
