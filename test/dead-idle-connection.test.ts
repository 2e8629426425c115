/**
 * A pooled connection that died while idle (lost NAT state: it never closes, it just stops
 * answering) costs the booth that draws it a few seconds, not a 503: the call is bounded, the dead
 * connection dropped, and the call tried once more on a fresh one.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { dslrForm, freshDatabase, postIngest, startTestApp, type TestApp } from "./helpers/app";
import { makeJpeg } from "./helpers/images";
import { SilentProxy } from "./helpers/silent-proxy";

let app: TestApp;
let proxy: SilentProxy;

beforeAll(async () => {
  const url = new URL(await freshDatabase());
  proxy = await SilentProxy.start({ host: url.hostname, port: Number(url.port) });
  app = await startTestApp({ databaseUrl: proxy.through(url.toString()) });
  await app.configureSlot("slot-001", { provider: "local", operation: "passthrough" });
});
afterAll(async () => {
  // The proxy first: it cuts the silenced connections, which would otherwise wait out their close.
  await proxy.stop();
  await app.stop();
});

test("every idle connection gone silent: the next booth still gets its image", async () => {
  const photo = await makeJpeg(160, 120);
  const form = () => dslrForm(photo);
  expect((await postIngest(app, "slot-001", form())).status).toBe(200);
  expect(proxy.silence()).toBeGreaterThan(0);
  const res = await postIngest(app, "slot-001", form());
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toBe("image/jpeg");
});
