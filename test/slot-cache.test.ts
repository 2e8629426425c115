/**
 * The booth's path reads its slot from a cache: one database read for many uploads, dropped at once
 * when the slot changes here, and by the trigger's NOTIFY when it changes anywhere else (another
 * instance, the CLI, an operator's SQL).
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { dslrFields, dslrForm, INGEST_PASSWORD, postIngest, startTestApp, type TestApp } from "./helpers/app";
import { makeJpeg } from "./helpers/images";

let app: TestApp;
let photo: Uint8Array;
const post = () => postIngest(app, "slot-001", dslrForm(photo, dslrFields({ password: INGEST_PASSWORD })));

beforeAll(async () => {
  app = await startTestApp();
  await app.configureSlot("slot-001", { provider: "local", operation: "passthrough" });
  photo = await makeJpeg(160, 120);
});
afterAll(async () => {
  await app.stop();
});

test("five uploads read the slot once; an update through the store is seen by the next upload", async () => {
  const slots = app.runtime.store.slots;
  const get = slots.get.bind(slots);
  let reads = 0;
  slots.get = (id) => {
    reads++;
    return get(id);
  };
  try {
    for (let i = 0; i < 5; i++) expect((await post()).status).toBe(200);
    expect(reads).toBeLessThanOrEqual(1);
    await app.configureSlot("slot-001", { enabled: false });
    expect((await post()).status).toBe(404);
  } finally {
    slots.get = get;
  }
});

test("a change made outside this process (plain SQL) reaches the cache through NOTIFY", async () => {
  await app.configureSlot("slot-001", { enabled: true });
  expect((await post()).status).toBe(200);
  await app.sql`update slot set enabled = false where id = 'slot-001'`;
  const deadline = Date.now() + 5_000;
  let status = 200;
  while (Date.now() < deadline) {
    status = (await post()).status;
    if (status === 404) break;
    await Bun.sleep(50);
  }
  expect(status).toBe(404);
});
