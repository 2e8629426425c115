/**
 * A webhook typed in the console is a request the server makes for an admin: never to link-local
 * or cloud-metadata addresses, and to this box or the studio's LAN only with NOTIFY_ALLOW_LAN, in
 * whatever spelling the address is written (decimal, hex, IPv4-mapped IPv6).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { addressProblem, resolvedHostProblem, urlHostProblem } from "../src/lib/outbound";
import { TEST_SEND_BURST } from "../src/modules/attention/notifier";
import { api, login } from "./helpers/admin";
import { startTestApp, type TestApp } from "./helpers/app";

const INTERNAL = [
  "http://169.254.169.254/latest/meta-data/",
  "http://[fe80::1]/hook",
  "http://0.0.0.0:8080/",
  "http://0/",
  "http://[fd00:ec2::254]/",
  "http://224.0.0.1/",
];
const LAN = [
  "http://127.0.0.1:9000/hook",
  "http://2130706433/",
  "http://0x7f.0.0.1/",
  "http://017700000001/",
  "http://[::1]/",
  "http://[::ffff:127.0.0.1]/",
  "http://localhost/",
  "http://10.0.0.5/",
  "http://192.168.1.20:8123/api/webhook/x",
];

describe("outbound targets", () => {
  test.each(INTERNAL)("%s is never a target", (url) => {
    expect(urlHostProblem(new URL(url), false)).toBe("internal");
    expect(urlHostProblem(new URL(url), true)).toBe("internal");
  });
  test.each(LAN)("%s only with the LAN allowance", (url) => {
    expect(urlHostProblem(new URL(url), false)).toBe("lan");
    expect(urlHostProblem(new URL(url), true)).toBeNull();
  });
  test("public addresses and names are fine; a name is checked again once resolved", async () => {
    expect(addressProblem("93.184.216.34", false)).toBeNull();
    expect(urlHostProblem(new URL("https://hooks.example.org/x"), false)).toBeNull();
    expect(await resolvedHostProblem(new URL("http://localhost:1/"), false)).toBe("lan");
  });
});

describe("PUT /api/settings notify.webhook_url", () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ workers: false });
  });
  afterAll(async () => {
    await app.stop();
  });

  test("internal and LAN targets are refused with the reason, nothing stored", async () => {
    const serg = api(app, await login(app, "serg"));
    for (const [url, reason] of [
      ["http://169.254.169.254/latest/meta-data/", "never called"],
      ["http://2130706433:8080/", "NOTIFY_ALLOW_LAN"],
    ] as const) {
      const res = await serg("PUT", "/api/settings", { json: { notify: { webhook_url: url } } });
      expect(res.status).toBe(422);
      const body = (await res.json()) as {
        error: { details: { fields: { field: string; message: string }[] } };
      };
      expect(body.error.details.fields).toEqual([
        { field: "notify.webhook_url", message: expect.stringContaining(reason) },
      ]);
    }
    const ok = await serg("PUT", "/api/settings", {
      json: { notify: { webhook_url: "https://hooks.example.org/pc" } },
    });
    expect(ok.status).toBe(200);
    expect((await app.runtime.settings.notifyTargets()).webhookUrl).toBe("https://hooks.example.org/pc");
  });
});

describe("test sends", () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ workers: false, env: { NOTIFY_WEBHOOK_URL: "http://127.0.0.1:9/hook" } });
  });
  afterAll(async () => {
    await app.stop();
  });

  test("a burst of test sends is cut after a few: 429 with Retry-After, no flood of outbound requests", async () => {
    const serg = api(app, await login(app, "serg"));
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) {
      const res = await serg("POST", "/system/notify-test", {
        headers: { "hx-request": "true", origin: app.url },
      });
      statuses.push(res.status);
      if (res.status === 429) expect(Number(res.headers.get("retry-after"))).toBeGreaterThan(0);
    }
    expect(statuses.filter((s) => s === 200).length).toBe(TEST_SEND_BURST);
    expect(statuses.filter((s) => s === 429).length).toBe(12 - TEST_SEND_BURST);
  });
});
