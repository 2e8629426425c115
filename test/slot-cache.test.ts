/**
 * The booth's path reads its slot from a cache: one database read for many uploads, dropped at once
 * when the slot changes here, and by the trigger's NOTIFY when it changes anywhere else (another
 * instance, the CLI, an operator's SQL).
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { dslrForm, eventually, postIngest, startTestApp, type TestApp } from "./helpers/app";
import { makeJpeg } from "./helpers/images";

let app: TestApp;
let photo: Uint8Array;
const post = () => postIngest(app, "slot-001", dslrForm(photo));

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
  const refused = async () => {
    const status = (await post()).status;
    return status === 404 && status;
  };
  const status = await eventually(refused, 5_000).catch(async () => (await post()).status);
  expect(status).toBe(404);
});

test("a slot's templates: read once for many uploads; a change here is seen at once, one elsewhere through NOTIFY", async () => {
  await app.configureSlot("slot-001", { enabled: true });
  const rows = app.runtime.store.templates;
  const forSlot = rows.forSlot.bind(rows);
  let reads = 0;
  rows.forSlot = (id) => {
    reads++;
    return forSlot(id);
  };
  try {
    for (let i = 0; i < 5; i++) expect((await post()).status).toBe(200);
    expect(reads).toBeLessThanOrEqual(1);
    const ids = async () => (await app.runtime.templates.snapshot("slot-001")).map((t) => t.id);

    // Outside this process (plain SQL): the trigger's NOTIFY drops the cached rows.
    const outside = crypto.randomUUID();
    await app.sql`
      insert into template_media (id, slot_id, role, path, mime, size_bytes, sha256)
      values (${outside}, 'slot-001', 'frame', ${`templates/slot-001/${outside}.png`}, 'image/png', 1, 'x')`;
    await eventually(async () => (await ids()).includes(outside), 5_000);

    // Through the store: gone for the very next read.
    expect(await rows.remove("slot-001", outside)).not.toBeNull();
    expect(await ids()).not.toContain(outside);
  } finally {
    rows.forSlot = forSlot;
  }
});
