/**
 * The small pure pieces the hostile-input defences rest on: TRUST_PROXY matching, `next`
 * validation, the streaming multipart reader, header dimensions, the throttle's token buckets and
 * the TLS/TRUST_PROXY configuration; and native HTTPS end to end with a self-signed certificate.
 */
import { describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigError, loadConfig } from "../src/config";
import { type MultipartError, type PartSink, readMultipartStream } from "../src/lib/multipart";
import { addressMatcher } from "../src/lib/net";
import { headerDimensions, inspectImage } from "../src/media/images";
import { TokenBuckets } from "../src/modules/front-door/rate-limit";
import { safeNext } from "../src/modules/ui/context";
import { ADMIN_PASSWORDS, freshDatabase } from "./helpers/app";
import { runCli, spawnServer } from "./helpers/cli";
import { jpegBomb, pngBomb, rawMultipart, webpBomb } from "./helpers/hostile";
import { makeHeic, makeJpeg, makePng, makeWebp } from "./helpers/images";

describe("TRUST_PROXY matching", () => {
  test("addresses, CIDRs, IPv6 and IPv4-mapped IPv6", () => {
    const trusted = addressMatcher(["127.0.0.1", "10.0.0.0/8", "fd00::/8", "::1"]);
    expect(trusted("127.0.0.1")).toBe(true);
    expect(trusted("::ffff:127.0.0.1")).toBe(true);
    expect(trusted("10.200.3.4")).toBe(true);
    expect(trusted("11.0.0.1")).toBe(false);
    expect(trusted("fd12:3456::1")).toBe(true);
    expect(trusted("fe80::1")).toBe(false);
    expect(trusted("::1")).toBe(true);
    expect(trusted("not-an-ip")).toBe(false);
    expect(addressMatcher([])("127.0.0.1")).toBe(false);
  });

  test("config: TLS needs both files; TRUST_PROXY entries must be addresses or CIDRs", () => {
    expect(() => loadConfig({ TLS_CERT_FILE: "/etc/hostname" })).toThrow(ConfigError);
    expect(() => loadConfig({ TLS_CERT_FILE: "/nope.pem", TLS_KEY_FILE: "/nope.key" })).toThrow(
      /no such file/,
    );
    expect(() => loadConfig({ TRUST_PROXY: "127.0.0.1, example.com" })).toThrow(/TRUST_PROXY/);
    expect(loadConfig({ TRUST_PROXY: "127.0.0.1, 10.0.0.0/8" }).trustProxy).toEqual([
      "127.0.0.1",
      "10.0.0.0/8",
    ]);
    expect(loadConfig({}).maxImagePixels).toBe(64_000_000);
  });
});

describe("next after login", () => {
  test.each([
    ["/jobs?status=failed", "/jobs?status=failed"],
    ["/slots/slot-001", "/slots/slot-001"],
    ["//evil.example", "/"],
    ["/\t/evil.example", "/"],
    ["/\r\nSet-Cookie: x=1", "/"],
    ["/\\evil.example", "/"],
    ["https://evil.example/", "/"],
    ["javascript:alert(1)", "/"],
    ["/%2F%2Fevil.example", "/%2F%2Fevil.example"],
    // normalised into `//evil.example` by the URL parser: checked again after it
    ["/.//evil.example", "/"],
    ["/..//evil.example", "/"],
    ["/%2e//evil.example", "/"],
    ["/.///evil.example", "/"],
    ["/./jobs", "/jobs"],
    [42, "/"],
  ])("%p → %p", (input, expected) => {
    expect(safeNext(input)).toBe(expected);
  });
});

async function parse(body: Uint8Array, boundary: string, chunk = 7, limitBytes = 1 << 20) {
  const files: { name: string; bytes: number }[] = [];
  let at = 0;
  const stream = new ReadableStream<Uint8Array>({
    pull(c) {
      if (at >= body.length) return c.close();
      c.enqueue(body.subarray(at, at + chunk));
      at += chunk;
    },
  });
  const form = await readMultipartStream(stream, boundary, {
    limitBytes,
    fieldBytesLimit: 1024,
    onFile(info): PartSink {
      const f = { name: info.name, bytes: 0 };
      files.push(f);
      return {
        write(c) {
          f.bytes += c.byteLength;
        },
        end() {},
      };
    },
  });
  return { fields: form.fields, files };
}

describe("streaming multipart reader", () => {
  const B = "XyZ";
  const body = rawMultipart(B, [
    { name: "password", body: "pw" },
    { name: "fileToUpload", filename: "a.jpg", body: new Uint8Array(1000).fill(0x2d) },
    { name: "time", body: "123" },
  ]);

  test("the same fields and file sizes whatever the chunking (boundaries split across chunks)", async () => {
    for (const chunk of [1, 2, 5, 9, 64, 4096]) {
      const out = await parse(body, B, chunk);
      expect(out.fields).toEqual([
        ["password", "pw"],
        ["time", "123"],
      ]);
      expect(out.files).toEqual([{ name: "fileToUpload", bytes: 1000 }]);
    }
  });

  test("agrees with the platform's parser on a browser-made form", async () => {
    const form = new FormData();
    form.append("a", "1");
    form.append("b", 'quote " and ünïcode');
    form.append("f", new File([new Uint8Array(333)], 'we"ird.jpg'));
    const req = new Request("http://x/", { method: "POST", body: form });
    const boundary = /boundary=(.*)$/.exec(req.headers.get("content-type")!)![1]!;
    const out = await parse(new Uint8Array(await req.arrayBuffer()), boundary, 13);
    expect(out.fields).toEqual([
      ["a", "1"],
      ["b", 'quote " and ünïcode'],
    ]);
    expect(out.files).toEqual([{ name: "f", bytes: 333 }]);
  });

  test("refuses: over the limit, text over its limit, no closing boundary, no disposition", async () => {
    const kind = async (p: Promise<unknown>) => ((await p.catch((e) => e)) as MultipartError).kind;
    expect(await kind(parse(body, B, 64, 500))).toBe("too_large");
    expect(await kind(parse(rawMultipart(B, [{ name: "x", body: "y".repeat(2000) }]), B))).toBe(
      "fields_too_large",
    );
    expect(await kind(parse(rawMultipart(B, [{ name: "x", body: "y" }], false), B))).toBe("malformed");
    expect(await kind(parse(new TextEncoder().encode(`--${B}\r\nX: y\r\n\r\nz\r\n--${B}--`), B))).toBe(
      "malformed",
    );
  });
});

describe("image headers", () => {
  test("dimensions are read from the header of every accepted format, and bombs are refused", async () => {
    expect(headerDimensions(await makeJpeg(321, 123), "jpeg")).toEqual({ width: 321, height: 123 });
    expect(headerDimensions(makePng(64, 48), "png")).toEqual({ width: 64, height: 48 });
    expect(headerDimensions(await makeWebp(50, 40), "webp")).toEqual({ width: 50, height: 40 });
    expect(headerDimensions(makeHeic(4032, 3024), "heic")).toEqual({ width: 4032, height: 3024 });
    for (const bomb of [jpegBomb(16000, 16000), pngBomb(20000, 20000), webpBomb(16000, 16000)]) {
      const found = await inspectImage(bomb);
      expect("kind" in found && found.kind).toBe("too_large");
    }
    const ok = await inspectImage(await makeJpeg(100, 100), { maxPixels: 10_000 });
    expect("format" in ok && !("kind" in ok)).toBe(true);
    const over = await inspectImage(await makeJpeg(101, 100), { maxPixels: 10_000 });
    expect("kind" in over && over.kind).toBe("too_large");
    expect(await inspectImage(makeHeic(), { acceptsHeic: false })).toEqual({
      kind: "heic_refused",
      format: "heic",
    });
  });
});

describe("token buckets", () => {
  test("a burst, then the refill rate; keys are independent", () => {
    let now = 0;
    const b = new TokenBuckets(3, 2, () => now);
    expect([b.take("a"), b.take("a"), b.take("a")]).toEqual([0, 0, 0]);
    expect(b.take("a")).toBe(1);
    expect(b.take("b")).toBe(0);
    now += 500; // one token back at 2/s
    expect(b.take("a")).toBe(0);
    expect(b.take("a")).toBeGreaterThan(0);
  });
});

describe("native HTTPS", () => {
  test("TLS_CERT_FILE/TLS_KEY_FILE: served over HTTPS with a __Host- Secure cookie and HSTS", async () => {
    const dir = mkdtempSync(join(tmpdir(), "photochanger-tls-"));
    try {
      const gen = Bun.spawnSync([
        "openssl",
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "2",
        "-subj",
        "/CN=localhost",
        "-keyout",
        join(dir, "key.pem"),
        "-out",
        join(dir, "cert.pem"),
      ]);
      expect(gen.exitCode).toBe(0);
      const env = {
        DATABASE_URL: await freshDatabase(),
        PHOTOCHANGER_DATA_DIR: join(dir, "data"),
        TLS_CERT_FILE: join(dir, "cert.pem"),
        TLS_KEY_FILE: join(dir, "key.pem"),
      };
      expect(
        (await runCli(["admin", "set-password", "serg", "--value", ADMIN_PASSWORDS.serg], env)).code,
      ).toBe(0);
      const server = await spawnServer(env);
      try {
        const url = server.url.replace("http://", "https://");
        const tls = { rejectUnauthorized: false };
        expect((await fetch(`${url}/healthz`, { tls } as RequestInit)).status).toBe(200);
        const login = await fetch(`${url}/api/login`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ username: "serg", password: ADMIN_PASSWORDS.serg }),
          tls,
        } as RequestInit);
        expect(login.status).toBe(200);
        const cookie = login.headers.get("set-cookie")!;
        expect(cookie).toStartWith("__Host-pc_session=");
        expect(cookie).toContain("Secure");
        expect(login.headers.get("strict-transport-security")).toBe("max-age=31536000");
        expect(server.output()).toContain(`"url":"https://`);
        // TLS 1.2: only forward-secret AEAD suites; static RSA and CBC/SHA-1 are refused.
        const port = new URL(url).port;
        const handshake = (cipher: string) =>
          Bun.spawnSync(
            ["openssl", "s_client", "-connect", `127.0.0.1:${port}`, "-tls1_2", "-cipher", cipher],
            { stdin: new TextEncoder().encode("Q\n"), timeout: 10_000 },
          ).exitCode;
        expect(handshake("ECDHE-RSA-AES128-GCM-SHA256")).toBe(0);
        for (const weak of ["AES128-SHA", "AES256-GCM-SHA384", "ECDHE-RSA-AES128-SHA"]) {
          expect({ weak, code: handshake(weak) }).not.toEqual({ weak, code: 0 });
        }
      } finally {
        server.proc.kill("SIGTERM");
        await server.proc.exited;
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
