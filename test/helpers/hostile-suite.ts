/**
 * The harness the hostile-input files share (test/hostile-*.test.ts): one app per file behind a
 * trusted proxy with the same slots, and the case runner. Every case asserts the status, the error
 * envelope (or a readable page), that no data row and no file was added, and that the server still
 * answers /healthz. Each case comes from its own address (X-Forwarded-For behind a trusted proxy),
 * so one case's throttle does not decide the next one's answer.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { ManualClock } from "../../src/lib/clock";
import { BACKOFF_TIMER } from "../../src/providers/common";
import { FakeGemini } from "../fakes/gemini";
import { login, type Session } from "./admin";
import { ADMIN_PASSWORDS, dslrFields, eventually, INGEST_PASSWORD, startTestApp, type TestApp } from "./app";
import { snapshot } from "./hostile";
import { makeAnimatedWebp, makeJpeg } from "./images";

const GEMINI_KEY = "AIzaHostileSuiteKey-0123456789";

/** What a hostile file's cases and tests read; filled in by `useHostileApp()`'s beforeAll. */
export interface HostileContext {
  app: TestApp;
  /** The app's clock: a result's retention passes when the test moves it. */
  clock: ManualClock;
  gemini: FakeGemini;
  photo: Uint8Array;
  animatedWebp: Uint8Array;
  session: Session;
}

export const hostile = {} as HostileContext;

/** Starts the file's app (slots 001 local, 002 Gemini, 014 with a 1 MB limit, 015 disabled). */
export function useHostileApp(): HostileContext {
  beforeAll(async () => {
    hostile.clock = new ManualClock(new Date(), { elapse: [BACKOFF_TIMER] });
    hostile.gemini = new FakeGemini([GEMINI_KEY]);
    const app = await startTestApp({
      clock: hostile.clock,
      env: { TRUST_PROXY: "127.0.0.1", GEMINI_BASE_URL: hostile.gemini.url, GEMINI_API_KEY: GEMINI_KEY },
    });
    hostile.app = app;
    hostile.photo = await makeJpeg(320, 240);
    hostile.animatedWebp = await makeAnimatedWebp();
    await app.configureSlot("slot-001", { provider: "local", operation: "greyscale", settings: {} });
    await app.configureSlot("slot-002", {
      provider: "gemini",
      operation: "image_edit",
      settings: { prompt: "make it brighter" },
    });
    await app.configureSlot("slot-014", { provider: "local", operation: "passthrough", size_limit_mb: 1 });
    await app.configureSlot("slot-015", { provider: "local", operation: "passthrough", enabled: false });
    hostile.session = await login(app, "serg");
  });
  afterAll(async () => {
    await hostile.app.stop();
    hostile.gemini.stop();
  });
  return hostile;
}

let address = 0;
/** A fresh client address for each request (the test server trusts 127.0.0.1 as a proxy). */
export function nextAddress(): string {
  address++;
  return `10.${(address >> 16) & 255}.${(address >> 8) & 255}.${address & 255}`;
}

export interface Case {
  name: string;
  method?: string;
  path: string;
  headers?: Record<string, string>;
  body?: BodyInit | (() => BodyInit);
  /** Sign in with the Bearer token. */
  auth?: boolean;
  /** Send the session cookie (as a browser would). */
  cookie?: boolean;
  status: number;
  /** The envelope's code (JSON answers); omitted for pages and redirects. */
  code?: string;
  /** Extra checks on the response. */
  check?: (res: Response, text: string) => void | Promise<void>;
}

/** A DSLR Remote Pro form with `fields`, the photo (or `file`) before or after them. */
export function form(
  fields: Record<string, string>,
  file: Uint8Array | null = hostile.photo,
  fileFirst = false,
): FormData {
  const f = new FormData();
  const blob = file
    ? new File([file as Uint8Array<ArrayBuffer>], "IMG_0001.JPG", { type: "image/jpeg" })
    : null;
  if (blob && fileFirst) f.append("fileToUpload", blob);
  for (const [k, v] of Object.entries(fields)) f.append(k, v);
  if (blob && !fileFirst) f.append("fileToUpload", blob);
  return f;
}

export const B = "----hostileBoundary7MA4YWxkTrZu0gW";
export const multipartHeaders = { "content-type": `multipart/form-data; boundary=${B}` };
export const goodFields = () => dslrFields();
export const big = (n: number, ch = "a") => ch.repeat(n);

/** A JWT for serg signed with `key` (or unsigned): what a forger would try. */
export function forgedToken(alg: string, key: string | null): string {
  const enc = (o: unknown) => Buffer.from(JSON.stringify(o)).toString("base64url");
  const head = enc({ alg, typ: "JWT" });
  const body = enc({ sub: "serg", sid: crypto.randomUUID(), exp: Math.floor(Date.now() / 1000) + 3600 });
  const sig = key ? new Bun.CryptoHasher("sha256", key).update(`${head}.${body}`).digest("base64url") : "";
  return `${head}.${body}.${sig}`;
}

async function send(c: Case): Promise<Response> {
  const headers: Record<string, string> = { "x-forwarded-for": nextAddress(), ...c.headers };
  if (c.auth) headers.authorization = `Bearer ${hostile.session.token}`;
  if (c.cookie) headers.cookie = hostile.session.cookie;
  const body = typeof c.body === "function" ? c.body() : c.body;
  return fetch(`${hostile.app.url}${c.path}`, {
    method: c.method ?? (body === undefined ? "GET" : "POST"),
    headers,
    body,
    redirect: "manual",
  });
}

export async function runCase(c: Case): Promise<void> {
  const { app } = hostile;
  const before = await snapshot(app);
  const res = await send(c);
  const text = await res.text();
  expect({ case: c.name, status: res.status }).toEqual({ case: c.name, status: c.status });
  expect(res.status).not.toBe(500);
  if (c.code) {
    const body = JSON.parse(text) as { error: { code: string; message: string; details: unknown } };
    expect(body.error.code).toBe(c.code);
    expect(typeof body.error.message).toBe("string");
    expect(body.error.message.length).toBeGreaterThan(0);
    expect(typeof body.error.details).toBe("object");
    expect(res.headers.get("cache-control")).toBe("no-store");
  }
  expect(res.headers.get("x-content-type-options")).toBe("nosniff");
  // Nothing of the server's internals or secrets in any answer.
  for (const secret of [INGEST_PASSWORD, ADMIN_PASSWORDS.serg, app.dataDir, "at async ", "postgres"]) {
    expect(text).not.toContain(secret);
  }
  await c.check?.(res, text);
  // Payloads are removed when a refused upload's request ends, which may be just after the answer.
  const unchanged = JSON.stringify(before);
  const after = await eventually(async () => {
    const now = await snapshot(app);
    return JSON.stringify(now) === unchanged && now;
  }, 1000).catch(() => snapshot(app));
  expect(after).toEqual(before);
  const health = await fetch(`${app.url}/healthz`);
  expect(health.status).toBe(200);
}

/** One test per case, under `title`. */
export function describeCases(title: string, cases: Case[]): void {
  describe(title, () => {
    for (const c of cases) test(c.name, () => runCase(c));
  });
}
