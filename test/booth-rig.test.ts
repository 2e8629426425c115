/**
 * Booths behind one address: a photo sent before its password is spooled, and strangers may hold at
 * most a few such spools per address. An address that gave the right password recently is a booth:
 * a rig of 8 cameras posting together through one router is not refused.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { dslrForm, eventually, INGEST_PASSWORD, postIngest, startTestApp, type TestApp } from "./helpers/app";
import { makeJpeg } from "./helpers/images";

let app: TestApp;
let photo: Uint8Array;

beforeAll(async () => {
  app = await startTestApp();
  await app.configureSlot("slot-001", { provider: "local", operation: "passthrough" });
  photo = await makeJpeg(320, 240);
});
afterAll(async () => {
  await app.stop();
});

/** A photo-first upload that holds its spool until `release` resolves, then sends the password. */
async function photoThenPassword(release: Promise<void>): Promise<number> {
  const boundary = "----rig-boundary-7f3a";
  const enc = new TextEncoder();
  const head = enc.encode(
    `--${boundary}\r\nContent-Disposition: form-data; name="fileToUpload"; filename="IMG.JPG"\r\n` +
      "Content-Type: image/jpeg\r\n\r\n",
  );
  const tail = enc.encode(
    `\r\n--${boundary}\r\nContent-Disposition: form-data; name="password"\r\n\r\n${INGEST_PASSWORD}\r\n--${boundary}--\r\n`,
  );
  const body = new ReadableStream<Uint8Array>({
    async start(controller) {
      controller.enqueue(head);
      controller.enqueue(photo);
      await release;
      controller.enqueue(tail);
      controller.close();
    },
  });
  const res = await fetch(`${app.url}/ingest/slot-001`, {
    method: "POST",
    headers: { "content-type": `multipart/form-data; boundary=${boundary}` },
    body,
    duplex: "half",
  } as RequestInit);
  await res.arrayBuffer();
  return res.status;
}

async function rigOf(n: number): Promise<number[]> {
  let release!: () => void;
  const released = new Promise<void>((r) => {
    release = r;
  });
  let answered = 0;
  const all = Promise.all(
    Array.from({ length: n }, () =>
      photoThenPassword(released).finally(() => {
        answered++;
      }),
    ),
  );
  // Every camera's photo is streaming before any password goes: each is spooled (password not yet
  // sent) or already refused.
  const { readdirSync, existsSync } = await import("node:fs");
  const spool = `${app.dataDir}/spool`;
  const spooled = () => (existsSync(spool) ? readdirSync(spool).length : 0);
  await eventually(async () => spooled() + answered >= n, 10_000);
  release();
  return (await all).sort();
}

test("strangers hold at most 6 spools per address; once it gave the right password, 8 cameras at once go through", async () => {
  const first = await rigOf(8);
  expect(first.filter((s) => s === 429).length).toBeGreaterThanOrEqual(2);
  expect(first.filter((s) => s === 200).length).toBeGreaterThanOrEqual(1);
  // The address is now known as a booth: the whole rig is accepted.
  const ok = await postIngest(app, "slot-001", dslrForm(photo));
  expect(ok.status).toBe(200);
  expect(await rigOf(8)).toEqual(Array(8).fill(200));
});
