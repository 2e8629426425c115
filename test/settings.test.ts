import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { eq } from "drizzle-orm";
import { appSettings, auditLog, cleanupRun, job } from "../src/db/schema";
import { ManualClock } from "../src/lib/clock";
import { type Api, type ApiOptions, api, changeScopes, login } from "./helpers/admin";
import {
  ADMIN_PASSWORDS,
  dslrFields,
  dslrForm,
  INGEST_PASSWORD,
  json,
  LogWatch,
  postIngest,
  startTestApp,
  type TestApp,
} from "./helpers/app";
import { makeJpeg } from "./helpers/images";
import { checkedApi } from "./helpers/openapi";

/** The app's clock: a result's retention passes when the test moves it. */
const clock = new ManualClock();
const watch = new LogWatch();

const GEMINI_KEY = "AIzaSy-test-secret-gemini-key-0123456789";
const TURBOTEXT_KEY = "tt-secret-turbotext-key-9876543210";
const NEW_INGEST_PASSWORD = "rotated-booth-password-77";

let app: TestApp;
const logLines: string[] = [];
/** Every response body this file received from the admin API, for the secret scan. */
const seen: string[] = [];
let serg: Api;
let igor: Api;
let photo: Uint8Array;
let generatedPassword = "";
const secrets = new Set<string>([GEMINI_KEY, TURBOTEXT_KEY, NEW_INGEST_PASSWORD, INGEST_PASSWORD]);

function recording(inner: Api): Api {
  return async (method: string, path: string, options?: ApiOptions) => {
    const res = await inner(method, path, options);
    const text = await res.clone().text();
    seen.push(`${[...res.headers].map(([k, v]) => `${k}: ${v}`).join("\n")}\n${text}`);
    return res;
  };
}

beforeAll(async () => {
  app = await startTestApp({ clock, logLines, onLogLine: watch.sink });
  serg = recording(checkedApi(app, api(app, await login(app, "serg"))));
  igor = recording(checkedApi(app, api(app, await login(app, "igor"))));
  await changeScopes(app, "igor", { remove: ["settings:write"] });
  photo = await makeJpeg(100, 80);
  await app.configureSlot("slot-001", { provider: "local", operation: "passthrough", settings: {} });
});
afterAll(() => app.stop());

interface SettingsBody {
  sync_response_seconds: number;
  result_retention_hours: number;
  max_in_flight_jobs: number;
  provider_concurrency: Record<string, number>;
  public_base_url: string | null;
  ingest_password: { is_set: boolean; updated_at: string | null; updated_by: string | null; value?: string };
  provider_keys: Record<
    string,
    { configured: boolean; updated_at: string | null; updated_by: string | null }
  >;
}

async function current(): Promise<SettingsBody> {
  const res = await igor("GET", "/api/settings");
  expect(res.status).toBe(200);
  return (await res.json()) as SettingsBody;
}

describe("GET /api/settings", () => {
  test("shows the values and, for secrets, only whether they are set", async () => {
    const s = await current();
    expect(s).toMatchObject({
      sync_response_seconds: 48,
      result_retention_hours: 72,
      max_in_flight_jobs: 16,
      public_base_url: null,
      ingest_password: { is_set: true, updated_by: "test" },
      provider_keys: { gemini: { configured: false, updated_at: null, updated_by: null } },
    });
    expect(s.provider_concurrency.gemini).toBeGreaterThan(0);
    expect(s.ingest_password).not.toHaveProperty("value");
    expect((await checkedApi(app, api(app, null))("GET", "/api/settings")).status).toBe(401);
  });
});

describe("PUT /api/settings", () => {
  test("igor (no settings:write) is refused with 403 and nothing changes", async () => {
    const res = await igor("PUT", "/api/settings", { json: { sync_response_seconds: 20 } });
    expect(res.status).toBe(403);
    expect((await json(res)).error.code).toBe("forbidden");
    const pw = await igor("PUT", "/api/settings", { json: { ingest_password: { value: "igor-was-here" } } });
    expect(pw.status).toBe(403);
    expect((await current()).sync_response_seconds).toBe(48);
    expect((await checkedApi(app, api(app, null))("PUT", "/api/settings", { json: {} })).status).toBe(401);
  });

  test("values out of range are 422 naming the field, and nothing is written", async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ sync_response_seconds: 9 }, "sync_response_seconds"],
      [{ sync_response_seconds: 61 }, "sync_response_seconds"],
      [{ sync_response_seconds: 30.5 }, "sync_response_seconds"],
      [{ sync_response_seconds: "30" }, "sync_response_seconds"],
      [{ result_retention_hours: 23 }, "result_retention_hours"],
      [{ result_retention_hours: 169 }, "result_retention_hours"],
      [{ max_in_flight_jobs: 0 }, "max_in_flight_jobs"],
      [{ max_in_flight_jobs: 5001 }, "max_in_flight_jobs"],
      [{ provider_concurrency: { gemini: 0 } }, "provider_concurrency.gemini"],
      [{ provider_concurrency: { gemini: 2049 } }, "provider_concurrency.gemini"],
      [{ provider_concurrency: { dalle: 2 } }, "provider_concurrency.dalle"],
      [{ public_base_url: "ftp://files.example.com" }, "public_base_url"],
      [{ public_base_url: "not a url" }, "public_base_url"],
      [{ public_base_url: 42 }, "public_base_url"],
      [{ ingest_password: { value: "12345" } }, "ingest_password.value"],
      [{ ingest_password: {} }, "ingest_password"],
      [{ ingest_password: { value: "abcdefgh", generate: true } }, "ingest_password"],
      [{ ingest_password: { generate: false } }, "ingest_password.generate"],
      [{ provider_keys: { local: { api_key: "x" } } }, "provider_keys.local"],
      [{ provider_keys: { gemini: "bare-string" } }, "provider_keys.gemini"],
      [{ retention: 72 }, "retention"],
    ];
    for (const [body, field] of cases) {
      const res = await serg("PUT", "/api/settings", { json: { max_in_flight_jobs: 99, ...body } });
      expect(res.status).toBe(422);
      const err = await json(res);
      expect(err.error.code).toBe("validation_failed");
      expect((err.error.details.fields as { field: string }[]).map((f) => f.field)).toContain(field);
    }
    const s = await current();
    expect(s.max_in_flight_jobs).toBe(16);
    expect(s.ingest_password.updated_by).toBe("test");
  });

  test("serg changes timings, caps and the public URL; they apply at once and are audited", async () => {
    const res = await serg("PUT", "/api/settings", {
      json: {
        sync_response_seconds: 30,
        result_retention_hours: 100,
        max_in_flight_jobs: 50,
        provider_concurrency: { gemini: 8 },
        public_base_url: "https://photos.example.com/",
      },
    });
    expect(res.status).toBe(200);
    const s = (await res.json()) as SettingsBody;
    expect(s).toMatchObject({
      sync_response_seconds: 30,
      result_retention_hours: 100,
      max_in_flight_jobs: 50,
      public_base_url: "https://photos.example.com",
    });
    expect(s.provider_concurrency.gemini).toBe(8);
    expect(s.provider_concurrency.local).toBeGreaterThan(0);

    const booth = await postIngest(app, "slot-001", dslrForm(photo));
    expect(booth.status).toBe(200);
    const [row] = await app.db
      .select()
      .from(job)
      .where(eq(job.id, booth.headers.get("x-job-id")!));
    expect(row!.expiresAt.getTime() - row!.createdAt.getTime()).toBe(30_000);
    expect(row!.resultExpiresAt!.getTime() - row!.finalizedAt!.getTime()).toBe(100 * 3600_000);

    const [audit] = await app.db.select().from(auditLog).where(eq(auditLog.action, "settings.updated"));
    expect(audit!.actor).toBe("serg");
    expect(audit!.details).toMatchObject({
      changed: { sync_response_seconds: { from: 48, to: 30 }, max_in_flight_jobs: { from: 16, to: 50 } },
    });

    const cleared = await serg("PUT", "/api/settings", { json: { public_base_url: null } });
    expect(((await cleared.json()) as SettingsBody).public_base_url).toBeNull();
  });

  test("rotating the ingest password by value: the old one stops working at once", async () => {
    expect((await postIngest(app, "slot-001", dslrForm(photo))).status).toBe(200);
    const res = await serg("PUT", "/api/settings", {
      json: { ingest_password: { value: NEW_INGEST_PASSWORD } },
    });
    expect(res.status).toBe(200);
    const s = (await res.json()) as SettingsBody;
    expect(s.ingest_password).toMatchObject({ is_set: true, updated_by: "serg" });
    expect(s.ingest_password).not.toHaveProperty("value");

    const old = await postIngest(app, "slot-001", dslrForm(photo));
    expect(old.status).toBe(401);
    expect((await json(old)).error.code).toBe("invalid_credentials");
    const fresh = await postIngest(
      app,
      "slot-001",
      dslrForm(photo, dslrFields({ password: NEW_INGEST_PASSWORD })),
    );
    expect(fresh.status).toBe(200);
    const rotations = await app.db
      .select()
      .from(auditLog)
      .where(eq(auditLog.action, "ingest_password.rotated"));
    expect(rotations.at(-1)!.actor).toBe("serg");
  });

  test("a generated ingest password is returned once, in the PUT response only", async () => {
    const res = await serg("PUT", "/api/settings", { json: { ingest_password: { generate: true } } });
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toBe("no-store");
    const generated = ((await res.json()) as SettingsBody).ingest_password.value!;
    expect(generated).toMatch(/^[A-Za-z0-9]{12}$/);
    generatedPassword = generated;
    secrets.add(generated);
    expect((await current()).ingest_password).not.toHaveProperty("value");
    const ok = await postIngest(app, "slot-001", dslrForm(photo, dslrFields({ password: generated })));
    expect(ok.status).toBe(200);
    const previous = await postIngest(
      app,
      "slot-001",
      dslrForm(photo, dslrFields({ password: NEW_INGEST_PASSWORD })),
    );
    expect(previous.status).toBe(401);
  });

  test("provider keys: stored encrypted, shown only as configured/who/when, cleared by an empty key", async () => {
    const res = await serg("PUT", "/api/settings", {
      json: { provider_keys: { gemini: { api_key: GEMINI_KEY }, turbotext: { api_key: TURBOTEXT_KEY } } },
    });
    expect(res.status).toBe(200);
    const s = (await res.json()) as SettingsBody;
    expect(s.provider_keys.gemini).toMatchObject({
      configured: true,
      source: "settings",
      updated_by: "serg",
    });
    expect(s.provider_keys.gemini!.updated_at).toBeString();
    expect(s.provider_keys.turbotext!.configured).toBe(true);
    expect(s.provider_keys.openai!.configured).toBe(false);
    expect(await app.runtime.settings.providerKey("gemini")).toBe(GEMINI_KEY);

    const rows = await app.db.select().from(appSettings);
    const stored = rows.find((r) => r.key === "provider_key.gemini")!;
    expect(stored.isSecret).toBe(true);
    expect(JSON.stringify(stored.value)).not.toContain(GEMINI_KEY);

    const clear = await serg("PUT", "/api/settings", {
      json: { provider_keys: { turbotext: { api_key: "" } } },
    });
    expect(((await clear.json()) as SettingsBody).provider_keys.turbotext!.configured).toBe(false);
    expect(await app.runtime.settings.providerKey("turbotext")).toBeNull();
    const actions = (await app.db.select().from(auditLog)).map((a) => a.action);
    expect(actions).toContain("provider_key.replaced");
    expect(actions).toContain("provider_key.cleared");
  });
});

describe("POST /api/media/cache/purge", () => {
  test("202, runs the cleaner in the background (trigger api); igor is refused", async () => {
    const res = await postIngest(
      app,
      "slot-001",
      dslrForm(photo, dslrFields({ password: generatedPassword })),
    );
    expect(res.status).toBe(200);
    const jobId = res.headers.get("x-job-id")!;
    // The retention passes on the app's clock; the admins sign in again afterwards.
    const [kept] = await app.db.select().from(job).where(eq(job.id, jobId));
    clock.set(new Date(kept!.resultExpiresAt!.getTime() + 1000));
    serg = recording(checkedApi(app, api(app, await login(app, "serg"))));
    igor = recording(checkedApi(app, api(app, await login(app, "igor"))));

    expect((await igor("POST", "/api/media/cache/purge")).status).toBe(403);
    const done = watch.next("cleanup.done", { trigger: "api" });
    const purge = await serg("POST", "/api/media/cache/purge");
    expect(purge.status).toBe(202);
    expect(await purge.json()).toMatchObject({ trigger: "api" });

    await done;
    const [run] = await app.db.select().from(cleanupRun).where(eq(cleanupRun.trigger, "api"));
    expect(run!.finishedAt).not.toBeNull();
    expect(run!.removed.results).toBeGreaterThanOrEqual(1);
    const [row] = await app.db.select().from(job).where(eq(job.id, jobId));
    expect(row!.resultDeletedAt).not.toBeNull();
    expect((await fetch(`${app.url}/public/results/${jobId}`)).status).toBe(410);
  });
});

describe("secrets never leak", () => {
  test("no response, log line, setting or audit row contains a key or a password", async () => {
    for (const pw of Object.values(ADMIN_PASSWORDS)) secrets.add(pw);
    expect(seen.length).toBeGreaterThan(20);
    expect(logLines.length).toBeGreaterThan(20);
    const rows = await app.db.select().from(appSettings);
    const audits = await app.db.select().from(auditLog);
    const stored = [
      ...rows.map((r) => JSON.stringify(r.value)),
      ...audits.map((a) => JSON.stringify(a.details)),
    ];
    for (const secret of secrets) {
      const inResponses = seen.filter((text) => text.includes(secret));
      // The generated password is shown exactly once: in the PUT that generated it.
      expect(inResponses).toHaveLength(secret === generatedPassword ? 1 : 0);
      expect(logLines.filter((line) => line.includes(secret))).toEqual([]);
      expect(stored.filter((value) => value.includes(secret))).toEqual([]);
    }
  });
});
