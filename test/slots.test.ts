import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { and, eq } from "drizzle-orm";
import { auditLog, job, slot } from "../src/db/schema";
import { sniffImage } from "../src/media/images";
import { localProvider } from "../src/providers/local";
import { KEYS } from "../src/settings/service";
import { SCRIPTED_ID, scriptedProvider } from "./fakes/scripted-provider";
import { type Api, api, fileForm, login } from "./helpers/admin";
import { dslrForm, json, postIngest, startTestApp, type TestApp } from "./helpers/app";
import { makeJpeg, makePng } from "./helpers/images";
import { checkedApi } from "./helpers/openapi";

let app: TestApp;
let serg: Api;
let igor: Api;
let anon: Api;
let photo: Uint8Array;

beforeAll(async () => {
  app = await startTestApp({ providers: [localProvider, scriptedProvider] });
  serg = checkedApi(app, api(app, await login(app, "serg")));
  igor = checkedApi(app, api(app, await login(app, "igor")));
  anon = checkedApi(app, api(app, null));
  photo = await makeJpeg(160, 120);
});
afterAll(() => app.stop());

async function jobCount(slotId?: string): Promise<number> {
  const rows = await app.db
    .select({ id: job.id })
    .from(job)
    .where(slotId ? eq(job.slotId, slotId) : undefined);
  return rows.length;
}

type Fields = { fields: { field: string; message: string }[] };

describe("reading slots", () => {
  test("GET /api/slots lists the 15 slots with ingest URLs built from the request's host", async () => {
    const res = await igor("GET", "/api/slots");
    expect(res.status).toBe(200);
    const body = (await res.json()) as { data: { id: string; ingest_url: string; version: number }[] };
    expect(body.data.map((s) => s.id)).toEqual(
      Array.from({ length: 15 }, (_, i) => `slot-${String(i + 1).padStart(3, "0")}`),
    );
    expect(body.data[0]!.ingest_url).toBe(`${app.url}/ingest/slot-001`);
    expect(body.data[0]!.version).toBe(1);
  });

  test("ingest URLs use public_base_url once it is set", async () => {
    await app.setSetting(KEYS.publicBaseUrl, "https://booth.example.com");
    try {
      const body = (await (await serg("GET", "/api/slots")).json()) as { data: { ingest_url: string }[] };
      expect(body.data[2]!.ingest_url).toBe("https://booth.example.com/ingest/slot-003");
    } finally {
      const cleared = await serg("PUT", "/api/settings", { json: { public_base_url: null } });
      expect(cleared.status).toBe(200);
    }
  });

  test("GET /api/slots/{id} answers with ETag and the slot's parts; unknown slots are 404", async () => {
    const res = await serg("GET", "/api/slots/slot-002");
    expect(res.status).toBe(200);
    expect(res.headers.get("etag")).toBe('"1"');
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toMatchObject({
      id: "slot-002",
      provider: "local",
      operation: "passthrough",
      size_limit_mb: 15,
      output_format: "jpeg",
      templates: [],
      recent_results: [],
      stats: { total: 0, succeeded: 0 },
    });
    const missing = await serg("GET", "/api/slots/slot-016");
    expect(missing.status).toBe(404);
    expect((await json(missing)).error.code).toBe("slot_not_found");
    expect((await anon("GET", "/api/slots/slot-002")).status).toBe(401);
    expect((await anon("GET", "/api/slots")).status).toBe(401);
  });
});

describe("updating a slot", () => {
  test("a valid PUT bumps the version, records who and when, and writes an audit row", async () => {
    const res = await igor("PUT", "/api/slots/slot-003", {
      headers: { "if-match": '"1"' },
      json: {
        name: "Wedding booth",
        enabled: true,
        provider: "local",
        operation: "brighten",
        settings: { brightness: 1.5 },
        size_limit_mb: 20,
        output_format: "png",
      },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("etag")).toBe('"2"');
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toMatchObject({
      name: "Wedding booth",
      operation: "brighten",
      settings: { brightness: 1.5 },
      size_limit_mb: 20,
      output_format: "png",
      version: 2,
      updated_by: "igor",
    });
    const [row] = await app.db.select().from(slot).where(eq(slot.id, "slot-003"));
    expect(row!.version).toBe(2);
    expect(row!.updatedBy).toBe("igor");
    const audits = await app.db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.action, "slot.updated"), eq(auditLog.actor, "igor")));
    expect(audits.at(-1)!.details).toMatchObject({ slot_id: "slot-003", version: 2 });
    expect(audits.at(-1)!.details.changed).toEqual(
      expect.arrayContaining(["name", "operation", "settings", "size_limit_mb", "output_format"]),
    );
  });

  test("a stale If-Match is refused with 409 version_conflict and changes nothing", async () => {
    const res = await serg("PUT", "/api/slots/slot-003", {
      headers: { "if-match": '"1"' },
      json: { name: "Overwritten" },
    });
    expect(res.status).toBe(409);
    const body = await json(res);
    expect(body.error.code).toBe("version_conflict");
    expect(body.error.details.current_version).toBe(2);
    const now = await serg("GET", "/api/slots/slot-003");
    expect(((await now.json()) as { name: string }).name).toBe("Wedding booth");
    // With the current version the same change goes through; a partial body keeps the rest.
    const ok = await serg("PUT", "/api/slots/slot-003", {
      headers: { "if-match": '"2"' },
      json: { name: "Renamed" },
    });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({ name: "Renamed", operation: "brighten", version: 3 });
  });

  test("two saves racing from the same version: exactly one wins", async () => {
    const put = (name: string) =>
      serg("PUT", "/api/slots/slot-004", { headers: { "if-match": '"1"' }, json: { name } });
    const results = await Promise.all([put("A"), put("B"), put("C")]);
    const statuses = results.map((r) => r.status).sort();
    expect(statuses).toEqual([200, 409, 409]);
  });

  test("settings are validated against the provider catalogue: 422 with per-field errors", async () => {
    const cases: [unknown, string][] = [
      [{ provider: "nope" }, "provider"],
      [{ operation: "melt" }, "operation"],
      [{ operation: "brighten", settings: { brightness: 9 } }, "settings.brightness"],
      [{ settings: { colour: "red" } }, "settings.colour"],
      [{ provider: SCRIPTED_ID, operation: "styled", settings: {} }, "settings.prompt"],
      [{ size_limit_mb: 51 }, "size_limit_mb"],
      [{ output_format: "gif" }, "output_format"],
      [{ enabled: "yes" }, "enabled"],
      [{ name: "" }, "name"],
      [{ colour: "red" }, "colour"],
    ];
    for (const [body, field] of cases) {
      const res = await serg("PUT", "/api/slots/slot-005", { json: body });
      expect(res.status).toBe(422);
      const err = await json(res);
      expect(err.error.code).toBe("validation_failed");
      expect((err.error.details as Fields).fields.map((f) => f.field)).toContain(field);
    }
    const [row] = await app.db.select().from(slot).where(eq(slot.id, "slot-005"));
    expect(row!.version).toBe(1);
  });

  test("a body that is not JSON is 400; anonymous writes are 401", async () => {
    const res = await serg("PUT", "/api/slots/slot-005", {
      headers: { "content-type": "application/json" },
      raw: "{not json",
    });
    expect(res.status).toBe(400);
    expect((await json(res)).error.code).toBe("invalid_payload");
    const anonymous = await anon("PUT", "/api/slots/slot-005", { json: { size_limit_mb: 999 } });
    expect(anonymous.status).toBe(401);
    expect((await json(anonymous)).error.code).toBe("unauthorized");
  });
});

describe("test runs", () => {
  beforeAll(async () => {
    await app.configureSlot("slot-006", {
      provider: "local",
      operation: "greyscale",
      settings: {},
      enabled: false,
    });
  });

  test("runs through the queue as a test_run and returns links and timings (even on a disabled slot)", async () => {
    const res = await serg("POST", "/api/slots/slot-006/test-run", { form: fileForm("test_image", photo) });
    expect(res.status).toBe(200);
    const body = (await res.json()) as {
      job_id: string;
      status: string;
      result_url: string;
      thumb_url: string;
      durations: { queue_wait_ms: number; provider_ms: number; total_ms: number };
    };
    expect(body.status).toBe("succeeded");
    expect(body.result_url).toBe(`${app.url}/public/results/${body.job_id}`);
    expect(body.thumb_url).toBe(`${app.url}/public/results/${body.job_id}/thumb`);
    expect(body.durations.total_ms).toBeGreaterThanOrEqual(body.durations.queue_wait_ms);
    expect(body.durations.provider_ms).toBeGreaterThanOrEqual(0);
    const image = await fetch(body.result_url);
    expect(image.status).toBe(200);
    expect(sniffImage(new Uint8Array(await image.arrayBuffer()))).toBe("jpeg");
    expect((await fetch(body.thumb_url)).status).toBe(200);
    const [row] = await app.db.select().from(job).where(eq(job.id, body.job_id));
    expect(row).toMatchObject({
      source: "test_run",
      createdBy: "serg",
      operation: "greyscale",
      status: "succeeded",
    });
  });

  test("unsaved overrides are used for the run and not saved", async () => {
    const form = fileForm("test_image", photo, {
      overrides: JSON.stringify({
        operation: "brighten",
        settings: { brightness: 2 },
        output_format: "webp",
      }),
    });
    const res = await serg("POST", "/api/slots/slot-006/test-run", { form });
    expect(res.status).toBe(200);
    const { job_id, result_url } = (await res.json()) as { job_id: string; result_url: string };
    const [row] = await app.db.select().from(job).where(eq(job.id, job_id));
    expect(row).toMatchObject({ operation: "brighten", settings: { brightness: 2 }, outputFormat: "webp" });
    expect(sniffImage(new Uint8Array(await (await fetch(result_url)).arrayBuffer()))).toBe("webp");
    const [saved] = await app.db.select().from(slot).where(eq(slot.id, "slot-006"));
    expect(saved!.operation).toBe("greyscale");
  });

  test("bad overrides, a non-image and an oversized photo are refused without a job", async () => {
    const before = await jobCount("slot-006");
    const notJson = await serg("POST", "/api/slots/slot-006/test-run", {
      form: fileForm("test_image", photo, { overrides: "{oops" }),
    });
    expect(notJson.status).toBe(422);
    expect(((await json(notJson)).error.details as Fields).fields[0]!.field).toBe("overrides");

    const badSettings = await serg("POST", "/api/slots/slot-006/test-run", {
      form: fileForm("test_image", photo, {
        overrides: JSON.stringify({ operation: "brighten", settings: { brightness: 0 } }),
      }),
    });
    expect(badSettings.status).toBe(422);
    expect(((await json(badSettings)).error.details as Fields).fields[0]!.field).toBe("settings.brightness");

    const text = await serg("POST", "/api/slots/slot-006/test-run", {
      form: fileForm("test_image", new TextEncoder().encode("GIF89a not really an image at all")),
    });
    expect(text.status).toBe(415);
    expect((await json(text)).error.code).toBe("unsupported_media_type");

    await app.configureSlot("slot-007", { size_limit_mb: 1 });
    const big = new Uint8Array(1024 * 1024 + 10);
    big.set([0xff, 0xd8, 0xff]);
    const tooLarge = await serg("POST", "/api/slots/slot-007/test-run", {
      form: fileForm("test_image", big),
    });
    expect(tooLarge.status).toBe(413);
    expect((await json(tooLarge)).error.code).toBe("payload_too_large");

    const noPart = await serg("POST", "/api/slots/slot-006/test-run", { json: { test_image: "x" } });
    expect(noPart.status).toBe(400);
    expect(await jobCount("slot-006")).toBe(before);
    expect(await jobCount("slot-007")).toBe(0);
  });

  test("provider failures answer like the booth's: 422 provider_blocked, 502 provider_error", async () => {
    await app.configureSlot("slot-008", { provider: SCRIPTED_ID, operation: "blocked", settings: {} });
    const blocked = await serg("POST", "/api/slots/slot-008/test-run", {
      form: fileForm("test_image", photo),
    });
    expect(blocked.status).toBe(422);
    expect((await json(blocked)).error.code).toBe("provider_blocked");
    const form = fileForm("test_image", photo, { overrides: JSON.stringify({ operation: "broken" }) });
    const broken = await serg("POST", "/api/slots/slot-008/test-run", { form });
    expect(broken.status).toBe(502);
    const err = await json(broken);
    expect(err.error.code).toBe("provider_error");
    expect(err.error.details.job_id).toBeString();
  });

  test("a test run needs slots:write, not the ingest password", async () => {
    expect(
      (await anon("POST", "/api/slots/slot-006/test-run", { form: fileForm("test_image", photo) })).status,
    ).toBe(401);
  });
});

describe("templates", () => {
  const png = makePng(40, 30);
  let templateId: string;

  test("upload by role: stored, never a job, previewed only for admins", async () => {
    const before = await jobCount();
    const res = await serg("POST", "/api/slots/slot-009/templates", {
      form: fileForm("file", png, { role: "style" }),
    });
    expect(res.status).toBe(201);
    const body = (await res.json()) as {
      id: string;
      role: string;
      mime: string;
      width: number;
      preview_url: string;
    };
    expect(body).toMatchObject({ role: "style", mime: "image/png", width: 40, height: 30 });
    templateId = body.id;
    expect(await jobCount()).toBe(before);

    const preview = await igor("GET", body.preview_url);
    expect(preview.status).toBe(200);
    expect(preview.headers.get("content-type")).toBe("image/png");
    expect(new Uint8Array(await preview.arrayBuffer())).toEqual(new Uint8Array(png));
    expect((await anon("GET", body.preview_url)).status).toBe(401);

    const detail = (await (await serg("GET", "/api/slots/slot-009")).json()) as {
      templates: { id: string }[];
    };
    expect(detail.templates.map((t) => t.id)).toEqual([templateId]);
  });

  test("non-images (by magic bytes), oversized files and bad roles are refused", async () => {
    const fake = await serg("POST", "/api/slots/slot-009/templates", {
      form: fileForm("file", new TextEncoder().encode("<svg xmlns='http://www.w3.org/2000/svg'/>"), {
        role: "style",
      }),
    });
    expect(fake.status).toBe(415);
    const noRole = await serg("POST", "/api/slots/slot-009/templates", { form: fileForm("file", png) });
    expect(noRole.status).toBe(422);
    expect(((await json(noRole)).error.details as Fields).fields[0]!.field).toBe("role");
    const badRole = await serg("POST", "/api/slots/slot-009/templates", {
      form: fileForm("file", png, { role: "../../etc" }),
    });
    expect(badRole.status).toBe(422);
    await app.configureSlot("slot-010", { size_limit_mb: 1 });
    const big = new Uint8Array(1024 * 1024 + 10);
    big.set(png);
    const tooLarge = await serg("POST", "/api/slots/slot-010/templates", {
      form: fileForm("file", big, { role: "style" }),
    });
    expect(tooLarge.status).toBe(413);
    const detail = (await (await serg("GET", "/api/slots/slot-009")).json()) as { templates: unknown[] };
    expect(detail.templates).toHaveLength(1);
  });

  test("the last template of a role the operation needs is protected unless forced", async () => {
    const put = await serg("PUT", "/api/slots/slot-009", {
      json: { provider: SCRIPTED_ID, operation: "styled", settings: { prompt: "oil painting" } },
    });
    expect(put.status).toBe(200);
    const refused = await serg("DELETE", `/api/slots/slot-009/templates/${templateId}`);
    expect(refused.status).toBe(409);
    expect((await json(refused)).error.code).toBe("template_in_use");

    // With a second template of the role, the first can go.
    const second = await serg("POST", "/api/slots/slot-009/templates", {
      form: fileForm("file", png, { role: "style" }),
    });
    const secondId = ((await second.json()) as { id: string }).id;
    expect((await serg("DELETE", `/api/slots/slot-009/templates/${templateId}`)).status).toBe(204);
    expect((await serg("DELETE", `/api/slots/slot-009/templates/${secondId}`)).status).toBe(409);
    expect((await serg("DELETE", `/api/slots/slot-009/templates/${secondId}?force=true`)).status).toBe(204);

    const detail = (await (await serg("GET", "/api/slots/slot-009")).json()) as {
      templates: unknown[];
      warnings: string[];
    };
    expect(detail.templates).toEqual([]);
    expect(detail.warnings).toContain("template_missing:style");
    expect(detail.warnings).toContain("public_base_url_missing");
    expect((await serg("DELETE", `/api/slots/slot-009/templates/${secondId}`)).status).toBe(404);
    expect((await serg("GET", `/api/slots/slot-009/templates/${secondId}/preview`)).status).toBe(404);
  });
});

describe("recent results and the stats summary", () => {
  test("booth results show up with links; reset_stats starts the counts again", async () => {
    await app.configureSlot("slot-011", { provider: "local", operation: "greyscale", settings: {} });
    const ids: string[] = [];
    for (let i = 0; i < 2; i++) {
      const res = await postIngest(app, "slot-011", dslrForm(photo));
      expect(res.status).toBe(200);
      ids.push(res.headers.get("x-job-id")!);
    }
    await serg("POST", "/api/slots/slot-011/test-run", { form: fileForm("test_image", photo) });

    const detail = (await (await serg("GET", "/api/slots/slot-011")).json()) as {
      recent_results: { job_id: string; result_url: string; download_url: string; thumb_url: string }[];
      stats: { total: number; succeeded: number; since: string | null };
    };
    expect(detail.recent_results).toHaveLength(3);
    const booth = detail.recent_results.find((r) => r.job_id === ids[1])!;
    expect(booth.result_url).toBe(`${app.url}/public/results/${ids[1]}`);
    expect(booth.download_url).toBe(`${app.url}/public/results/${ids[1]}?download=1`);
    expect((await fetch(booth.download_url)).headers.get("content-disposition")).toStartWith("attachment");
    expect(detail.stats).toMatchObject({ total: 2, succeeded: 2, since: null });

    const reset = await igor("POST", "/api/slots/slot-011/reset_stats");
    expect(reset.status).toBe(200);
    const { stats_reset_at } = (await reset.json()) as { stats_reset_at: string };
    const after = (await (await serg("GET", "/api/slots/slot-011")).json()) as {
      stats: { total: number; since: string };
      recent_results: unknown[];
    };
    expect(after.stats).toMatchObject({ total: 0, since: stats_reset_at });
    expect(after.recent_results).toHaveLength(3);
    expect((await anon("POST", "/api/slots/slot-011/reset_stats")).status).toBe(401);
  });
});
