/**
 * Links the server hands out (ingest URLs, result links) follow the address the client used: behind
 * a reverse proxy listed in TRUST_PROXY, the scheme and host it reports in X-Forwarded-Proto/-Host;
 * from anybody else those headers are ignored. `public_base_url`, when set, wins over both.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { login } from "./helpers/admin";
import { startTestApp, type TestApp } from "./helpers/app";

let trusting: TestApp;
let plain: TestApp;

beforeAll(async () => {
  trusting = await startTestApp({ workers: false, env: { TRUST_PROXY: "127.0.0.1" } });
  plain = await startTestApp({ workers: false });
});
afterAll(async () => {
  await trusting.stop();
  await plain.stop();
});

async function ingestUrl(app: TestApp, headers: Record<string, string>): Promise<string> {
  const { token } = await login(app, "serg");
  const res = await fetch(`${app.url}/api/slots/slot-001`, {
    headers: { authorization: `Bearer ${token}`, ...headers },
  });
  expect(res.status).toBe(200);
  return ((await res.json()) as { ingest_url: string }).ingest_url;
}

const FORWARDED = { "x-forwarded-proto": "https", "x-forwarded-host": "photos.studio.example" };

test("a trusted proxy's X-Forwarded-Proto/-Host make the links", async () => {
  expect(await ingestUrl(trusting, FORWARDED)).toBe("https://photos.studio.example/ingest/slot-001");
  expect(await ingestUrl(trusting, {})).toBe(`${trusting.url}/ingest/slot-001`);
});

test("from a peer not in TRUST_PROXY the headers are ignored", async () => {
  expect(await ingestUrl(plain, FORWARDED)).toBe(`${plain.url}/ingest/slot-001`);
});

test("public_base_url wins over what the proxy says", async () => {
  await trusting.setSetting("public_base_url", "https://booth.example.org");
  expect(await ingestUrl(trusting, FORWARDED)).toBe("https://booth.example.org/ingest/slot-001");
  await trusting.setSetting("public_base_url", null);
});
