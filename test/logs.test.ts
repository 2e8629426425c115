/**
 * The log of a busy stretch — logins, booth uploads that succeed, fail, time out, get cancelled
 * or refused, a cleaner run — is JSON lines with stable event names, every line of a job carries
 * its id and slot, provider latency is there, and no secret or image byte ever appears.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { runCleanup } from "../src/cron/cleanup";
import { ManualClock } from "../src/lib/clock";
import { createLogger } from "../src/lib/log";
import {
  ADMIN_PASSWORDS,
  dslrFields,
  dslrForm,
  eventually,
  INGEST_PASSWORD,
  LogWatch,
  postIngest,
  startTestApp,
  type TestApp,
} from "./helpers/app";
import { makeJpeg } from "./helpers/images";

const GEMINI_KEY = "AIzaSy-test-gemini-key-0123456789abcdef";
const LOCAL_KEY = "local-provider-key-must-never-be-logged-42";
const WRONG_ADMIN_PASSWORD = "igor-wrong-password-77";
const WRONG_INGEST_PASSWORD = "booth-wrong-password-99";

const lines: string[] = [];
const watch = new LogWatch();
/** The app's clock: the timeout below moves it instead of waiting for T_sync. */
const clock = new ManualClock();
let app: TestApp;
let photo: Uint8Array;
const jobIds: string[] = [];

type Line = Record<string, unknown> & { event: string; level: string; time: string };
let records: Line[];

async function login(username: string, password: string): Promise<number> {
  const res = await fetch(`${app.url}/api/login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ username, password }),
  });
  return res.status;
}

async function ingest(slot: string, form: FormData, query = ""): Promise<Response> {
  const res = query
    ? await fetch(`${app.url}/ingest/${slot}${query}`, { method: "POST", body: form })
    : await postIngest(app, slot, form);
  const id =
    res.headers.get("x-job-id") ??
    ((await res.clone().json()) as { error: { details: { job_id?: string } } }).error?.details?.job_id;
  if (id) jobIds.push(id);
  return res;
}

beforeAll(async () => {
  app = await startTestApp({
    clock,
    logLines: lines,
    onLogLine: watch.sink,
  });
  photo = await makeJpeg(200, 150);
  await app.runtime.settings.setProviderKey("gemini", GEMINI_KEY, "serg");
  // Every job reads its provider's key, so the local jobs below carry this one through the worker.
  await app.runtime.settings.setProviderKey("local", LOCAL_KEY, "serg");
  await app.configureSlot("slot-001", { provider: "local", operation: "greyscale", settings: {} });
  await app.configureSlot("slot-002", {
    provider: "local",
    operation: "greyscale",
    settings: { simulate_delay_ms: 60_000 },
  });
  // OpenAI with no key: the worker fails the job as invalid_config (502).
  await app.configureSlot("slot-003", {
    provider: "openai",
    operation: "image_edit",
    settings: { prompt: "x" },
  });

  expect(await login("serg", ADMIN_PASSWORDS.serg)).toBe(200);
  expect(await login("igor", WRONG_ADMIN_PASSWORD)).toBe(401);
  for (let i = 0; i < 3; i++) expect((await ingest("slot-001", dslrForm(photo))).status).toBe(200);
  const viaQuery = dslrFields();
  delete (viaQuery as Record<string, string>).password;
  expect((await ingest("slot-001", dslrForm(photo, viaQuery), `?password=${INGEST_PASSWORD}`)).status).toBe(
    200,
  );
  expect(
    (await ingest("slot-001", dslrForm(photo, dslrFields({ password: WRONG_INGEST_PASSWORD })))).status,
  ).toBe(401);
  expect((await ingest("slot-077", dslrForm(photo))).status).toBe(404);
  expect((await ingest("slot-003", dslrForm(photo))).status).toBe(502);

  // Cancelled by an admin while the provider works.
  let dispatched = watch.next("job.dispatched", { slot: "slot-002" });
  const pending = ingest("slot-002", dslrForm(photo));
  await app.runtime.queue.cancel(String((await dispatched).job_id), "serg");
  expect((await pending).status).toBe(503);

  // Timed out at the deadline: T_sync (48 s) passes on the app's clock while the provider works.
  dispatched = watch.next("job.dispatched", { slot: "slot-002" });
  const timedOut = ingest("slot-002", dslrForm(photo));
  await dispatched;
  clock.advance(48_000);
  expect((await timedOut).status).toBe(504);
  await runCleanup(app.runtime, { trigger: "test" });
  // The worker's last lines for the timed-out and cancelled jobs come when their provider call ends.
  await eventually(async () => app.runtime.workers.inFlight === 0);
  records = lines.map((l) => JSON.parse(l) as Line);
});
afterAll(() => app.stop());

describe("the log", () => {
  test("every line is a JSON object with a time, a level and a stable dotted event name", () => {
    expect(records.length).toBeGreaterThan(30);
    for (const r of records) {
      expect(typeof r.time).toBe("string");
      expect(["debug", "info", "warn", "error"]).toContain(r.level);
      expect(r.event).toMatch(/^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$/);
    }
  });

  test("no password, key or image bytes, anywhere", () => {
    const secrets = [
      INGEST_PASSWORD,
      WRONG_INGEST_PASSWORD,
      ADMIN_PASSWORDS.serg,
      ADMIN_PASSWORDS.igor,
      WRONG_ADMIN_PASSWORD,
      GEMINI_KEY,
      LOCAL_KEY,
    ];
    const all = lines.join("\n");
    for (const s of secrets) expect(all.includes(s) ? `leaked: ${s}` : "clean").toBe("clean");
    expect(all).not.toContain("/9j/"); // base64 JPEG
    expect(all).not.toContain("\\u00ff\\u00d8"); // raw JPEG start
    for (const l of lines) expect(l.length).toBeLessThan(4000);
  });

  test("every job's lines carry its id and slot, from arrival to answer, with provider latency", () => {
    expect(jobIds.length).toBe(7);
    const jobLines = records.filter((r) => r.job_id !== undefined);
    for (const r of jobLines) expect(`${r.event}: ${typeof r.slot}`).toBe(`${r.event}: string`);
    for (const id of jobIds) {
      const mine = records.filter((r) => r.job_id === id);
      const slots = new Set(mine.map((r) => r.slot));
      expect(slots.size).toBe(1);
      const events = mine.map((r) => r.event);
      expect(events).toContain("ingest.accepted");
      expect(events).toContain("job.dispatched");
      expect(events).toContain("ingest.answered");
      expect(
        events.some((e) => ["job.succeeded", "job.failed", "job.timeout", "job.cancelled"].includes(e)),
      ).toBe(true);
    }
    const succeeded = records.filter((r) => r.event === "job.succeeded");
    expect(succeeded.length).toBe(4);
    for (const r of succeeded) {
      expect(r.provider_latency_ms).toBeNumber();
      expect(r.total_ms).toBeNumber();
    }
    expect(records.filter((r) => r.event === "job.provider_responded").length).toBe(4);
    const answered = records
      .filter((r) => r.event === "ingest.answered")
      .map((r) => `${r.status} ${r.outcome}`);
    expect(answered.sort()).toEqual(
      [
        "200 success",
        "200 success",
        "200 success",
        "200 success",
        "502 invalid_config",

        "503 job_cancelled",
        "504 sync_timeout",
      ].sort(),
    );
  });

  test("refusals are logged once each, with slot and outcome, without a job", () => {
    const refused = records.filter((r) => r.event === "ingest.refused");
    expect(refused.map((r) => `${r.slot} ${r.status} ${r.outcome}`).sort()).toEqual([
      "slot-001 401 invalid_credentials",
      "slot-077 404 slot_not_found",
    ]);
    for (const r of refused) expect(r.job_id).toBeUndefined();
  });

  test("logins and the cleaner are logged", () => {
    const events = records.map((r) => r.event);
    expect(events).toContain("auth.login.success");
    expect(events).toContain("auth.login.failure");
    expect(events).toContain("cleanup.done");
  });

  test("the logger redacts secret-looking fields, however they are passed", () => {
    const out: string[] = [];
    const log = createLogger("debug", (l) => out.push(l));
    log.info("test.redaction", {
      password: "p1",
      details: { api_key: "k1", nested: { authorization: "Bearer t1" } },
      password_given: true,
      image: new Uint8Array(10),
    });
    const line = JSON.parse(out[0]!);
    expect(line).toMatchObject({
      password: "[redacted]",
      details: { api_key: "[redacted]", nested: { authorization: "[redacted]" } },
      password_given: true,
      image: "[10 bytes]",
    });
  });
});
