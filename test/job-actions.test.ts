/**
 * Deleting a guest's photo and re-running a failed job (SPEC §11), through the API and the CLI:
 * what goes from the media store (a directory, or an S3 bucket), what the public links and the
 * guest page say afterwards, that the statistics do not move, and how a failed job's photo is kept
 * for a re-run until the result retention ends — then removed by the cleaner.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { utimesSync } from "node:fs";
import { join } from "node:path";
import { eq } from "drizzle-orm";
import { runCleanup } from "../src/cron/cleanup";
import { job } from "../src/db/schema";
import { type Api, api, changeScopes, login } from "./helpers/admin";
import { dslrForm, eventually, json, postIngest, startTestApp, type TestApp, whenFinal } from "./helpers/app";
import { runCli } from "./helpers/cli";
import { makeJpeg } from "./helpers/images";
import { startTestBucket, type TestBucket } from "./helpers/s3";

let app: TestApp;
let serg: Api;
let photo: Uint8Array;

beforeAll(async () => {
  // No Gemini key anywhere: a Gemini slot fails its jobs (invalid_config) until it is fixed.
  app = await startTestApp();
  serg = api(app, await login(app, "serg"));
  photo = await makeJpeg(160, 120);
});
afterAll(() => app.stop());

async function row(id: string) {
  const [r] = await app.db.select().from(job).where(eq(job.id, id));
  return r!;
}

/** A booth upload to a slot that cannot run (Gemini without a key): a failed job. */
async function failedJob(slotId: string): Promise<string> {
  await app.configureSlot(slotId, { provider: "gemini", operation: "image_edit", settings: { prompt: "x" } });
  const res = await postIngest(app, slotId, dslrForm(photo));
  expect(res.status).toBe(502);
  return res.headers.get("x-job-id")!;
}

async function succeededJob(slotId: string): Promise<string> {
  await app.configureSlot(slotId, { provider: "local", operation: "greyscale", settings: {} });
  const res = await postIngest(app, slotId, dslrForm(photo));
  expect(res.status).toBe(200);
  return res.headers.get("x-job-id")!;
}

async function slotStats(slotId: string) {
  const res = await serg("GET", `/api/stats/${slotId}`);
  expect(res.status).toBe(200);
  return ((await res.json()) as { summary: Record<string, unknown> }).summary;
}

describe("re-run", () => {
  test("a failed job keeps its photo; once the slot is fixed it runs again as a new job with its own result", async () => {
    const oldId = await failedJob("slot-001");
    const old = await row(oldId);
    expect(old.status).toBe("failed");
    expect(old.payloadPath).not.toBeNull();
    expect(await app.runtime.media.exists(old.payloadPath!)).toBe(true);

    await app.configureSlot("slot-001", { provider: "local", operation: "greyscale", settings: {} });
    const res = await serg("POST", `/api/jobs/${oldId}/rerun`);
    expect(res.status).toBe(202);
    const { job_id } = (await res.json()) as { job_id: string };
    expect(job_id).not.toBe(oldId);
    const done = await whenFinal(app, job_id);
    expect(done.status).toBe("succeeded");
    expect(done.source).toBe("rerun");
    expect(done.rerunOf).toBe(oldId);
    expect(done.provider).toBe("local"); // the slot's current configuration
    expect(done.clientMeta.user_id).toBe("Acer"); // the booth's metadata comes along
    expect((await fetch(`${app.url}/public/results/${job_id}`)).status).toBe(200);
    expect((await fetch(`${app.url}/r/${job_id}`)).status).toBe(200);
    // the new job's own copy of the photo went at its success; the old job still keeps its own
    expect(done.payloadPath).toBeNull();
    expect(await app.runtime.media.exists(old.payloadPath!)).toBe(true);

    const detail = (await (await serg("GET", `/api/jobs/${oldId}`)).json()) as {
      reruns: { id: string; status: string }[];
      photo_kept: boolean;
    };
    expect(detail.reruns).toEqual([{ id: job_id, status: "succeeded" }]);
    expect(detail.photo_kept).toBe(true);
    const listed = (await (await serg("GET", "/api/jobs?source=rerun")).json()) as {
      data: { id: string; rerun_of: string }[];
    };
    expect(listed.data).toEqual([expect.objectContaining({ id: job_id, rerun_of: oldId })]);
    // re-runs are not booth ingests: the slot's statistics count the failure only
    expect((await slotStats("slot-001")).ingest_count).toBe(1);
    const [audit] = await app.runtime.store.audit.recent(1);
    expect(audit).toMatchObject({ actor: "serg", action: "job.rerun" });
  });

  test("409 for a job that succeeded or is still running, 404 for an unknown one, 403 without jobs:write", async () => {
    const ok = await succeededJob("slot-002");
    const res = await serg("POST", `/api/jobs/${ok}/rerun`);
    expect(res.status).toBe(409);
    expect((await json(res)).error.code).toBe("job_succeeded");

    await app.configureSlot("slot-002", {
      provider: "local",
      operation: "passthrough",
      settings: { simulate_delay_ms: 1500 },
    });
    const slow = postIngest(app, "slot-002", dslrForm(photo));
    const running = await eventuallyActive("slot-002");
    const busy = await serg("POST", `/api/jobs/${running}/rerun`);
    expect(busy.status).toBe(409);
    expect((await json(busy)).error.code).toBe("job_active");
    expect((await slow).status).toBe(200);

    const unknown = await serg("POST", "/api/jobs/00000000-0000-4000-8000-000000000000/rerun");
    expect(unknown.status).toBe(404);
    expect((await json(unknown)).error.code).toBe("job_not_found");

    await changeScopes(app, "igor", { remove: ["jobs:write"] });
    const igor = api(app, await login(app, "igor"));
    expect((await igor("POST", `/api/jobs/${ok}/rerun`)).status).toBe(403);
    expect((await igor("DELETE", `/api/jobs/${ok}`)).status).toBe(403);
    await changeScopes(app, "igor", { add: ["jobs:write"] });
  });

  test("the cleaner removes a failed job's photo when the result retention ends; then a re-run is 409 photo_gone", async () => {
    const kept = await failedJob("slot-003");
    const expired = await failedJob("slot-003");
    const keptPath = (await row(kept)).payloadPath!;
    const expiredPath = (await row(expired)).payloadPath!;
    // Both files look hours old (so no orphan rule may take the kept one); one job ended 73 h ago.
    const old = new Date(Date.now() - 5 * 3600_000);
    for (const p of [keptPath, expiredPath]) utimesSync(join(app.config.mediaRoot, p), old, old);
    await app.sql`update job set finalized_at = now() - interval '73 hours' where id = ${expired}`;

    const report = await runCleanup(app.runtime, { trigger: "test" });
    expect(report.photos.count).toBe(1);
    expect(await app.runtime.media.exists(expiredPath)).toBe(false);
    expect((await row(expired)).payloadPath).toBeNull();
    expect(await app.runtime.media.exists(keptPath)).toBe(true);
    expect((await row(kept)).payloadPath).toBe(keptPath);

    const res = await serg("POST", `/api/jobs/${expired}/rerun`);
    expect(res.status).toBe(409);
    expect((await json(res)).error.code).toBe("photo_gone");
  });
});

describe("delete", () => {
  test("a guest's photo, result and thumbnail go; the links answer 410 result_deleted; statistics unchanged; audited", async () => {
    const id = await succeededJob("slot-004");
    expect((await fetch(`${app.url}/public/results/${id}/thumb`)).status).toBe(200); // makes the thumbnail
    const before = await row(id);
    expect(before.thumbPath).not.toBeNull();
    const stats = await slotStats("slot-004");

    const res = await serg("DELETE", `/api/jobs/${id}`);
    expect(res.status).toBe(204);
    for (const p of [before.resultPath!, before.thumbPath!])
      expect(await app.runtime.media.exists(p)).toBe(false);
    const after = await row(id);
    expect(after.deletedAt).not.toBeNull();
    expect(after.deletedBy).toBe("serg");
    expect(after.status).toBe("succeeded"); // the row stays, as it ended

    for (const path of [`/public/results/${id}`, `/public/results/${id}/thumb`]) {
      const gone = await fetch(`${app.url}${path}`);
      expect(gone.status).toBe(410);
      expect((await json(gone)).error.code).toBe("result_deleted");
    }
    expect((await fetch(`${app.url}/r/${id}/qr.svg`)).status).toBe(410); // the QR code goes too
    const page = await fetch(`${app.url}/r/${id}`);
    expect(page.status).toBe(410);
    expect(await page.text()).toContain("удалено по просьбе студии");
    const en = await fetch(`${app.url}/r/${id}?lang=en`);
    expect(await en.text()).toContain("removed at the studio&#x27;s request");

    expect(await slotStats("slot-004")).toEqual(stats);
    const detail = (await (await serg("GET", `/api/jobs/${id}`)).json()) as {
      deleted_at: string | null;
      result_url: string | null;
    };
    expect(detail.deleted_at).not.toBeNull();
    expect(detail.result_url).toBeNull();
    const [audit] = await app.runtime.store.audit.recent(1);
    expect(audit).toMatchObject({ actor: "serg", action: "job.deleted" });
    expect(audit!.details).toMatchObject({ job_id: id, slot_id: "slot-004" });

    // again: nothing left to do, still 204 (and no second audit entry)
    expect((await serg("DELETE", `/api/jobs/${id}`)).status).toBe(204);
    expect((await app.runtime.store.audit.recent(1))[0]!.id).toBe(audit!.id);
  });

  test("a failed job's kept photo goes too, and it can no longer be re-run", async () => {
    const id = await failedJob("slot-005");
    const photoPath = (await row(id)).payloadPath!;
    expect((await serg("DELETE", `/api/jobs/${id}`)).status).toBe(204);
    expect(await app.runtime.media.exists(photoPath)).toBe(false);
    expect((await row(id)).payloadPath).toBeNull();
    const rerun = await serg("POST", `/api/jobs/${id}/rerun`);
    expect(rerun.status).toBe(409);
    expect((await json(rerun)).error.code).toBe("photo_gone");
  });

  test("a running job is refused with 409 job_active and keeps running; an unknown id is 404", async () => {
    await app.configureSlot("slot-006", {
      provider: "local",
      operation: "passthrough",
      settings: { simulate_delay_ms: 1500 },
    });
    const slow = postIngest(app, "slot-006", dslrForm(photo));
    const running = await eventuallyActive("slot-006");
    const res = await serg("DELETE", `/api/jobs/${running}`);
    expect(res.status).toBe(409);
    expect((await json(res)).error.code).toBe("job_active");
    expect((await slow).status).toBe(200);
    expect((await row(running)).deletedAt).toBeNull();

    for (const id of ["00000000-0000-4000-8000-000000000000", "not-a-uuid"]) {
      const unknown = await serg("DELETE", `/api/jobs/${id}`);
      expect(unknown.status).toBe(404);
      expect((await json(unknown)).error.code).toBe("job_not_found");
    }
  });
});

describe("photochanger job delete|rerun", () => {
  test("deletes and re-runs like the API (actor cli); bad usage exits 2, an unknown job 1", async () => {
    const env = { DATABASE_URL: app.databaseUrl, PHOTOCHANGER_DATA_DIR: app.dataDir };
    const failed = await failedJob("slot-007");
    await app.configureSlot("slot-007", { provider: "local", operation: "greyscale", settings: {} });
    const rerun = await runCli(["job", "rerun", failed], env);
    expect(rerun.code).toBe(0);
    const newId = /re-run as ([0-9a-f-]{36})/.exec(rerun.stdout)?.[1];
    expect(newId).toBeDefined();
    // the serving instance (this test's app) picks the queued job up
    expect((await whenFinal(app, newId!)).status).toBe("succeeded");

    const resultPath = (await row(newId!)).resultPath!;
    const del = await runCli(["job", "delete", newId!], env);
    expect(del.code).toBe(0);
    expect(del.stdout).toContain(newId!);
    expect(await app.runtime.media.exists(resultPath)).toBe(false);
    expect((await row(newId!)).deletedBy).toBe("cli");
    expect((await fetch(`${app.url}/public/results/${newId}`)).status).toBe(410);

    const unknown = await runCli(["job", "delete", "00000000-0000-4000-8000-000000000000"], env);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain("no job with this id");
    for (const args of [["job"], ["job", "remove", failed], ["job", "delete"]]) {
      const bad = await runCli(args, env);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toContain("job delete <job-id>");
    }
  });
});

describe("delete with media in an S3 bucket", () => {
  let bucket: TestBucket;
  let s3app: TestApp;
  beforeAll(async () => {
    bucket = await startTestBucket();
    s3app = await startTestApp({ env: bucket.env });
  });
  afterAll(async () => {
    await s3app.stop();
    await bucket.stop();
  });

  test("the photo, result and thumbnail objects leave the bucket", async () => {
    await s3app.configureSlot("slot-001", { provider: "local", operation: "greyscale", settings: {} });
    const res = await postIngest(s3app, "slot-001", dslrForm(photo));
    expect(res.status).toBe(200);
    const id = res.headers.get("x-job-id")!;
    expect((await fetch(`${s3app.url}/public/results/${id}/thumb`)).status).toBe(200);
    expect((await bucket.keys("results/")).filter((k) => k.includes(id))).toHaveLength(2);
    const admin = api(s3app, await login(s3app, "serg"));
    expect((await admin("DELETE", `/api/jobs/${id}`)).status).toBe(204);
    expect((await bucket.keys()).filter((k) => k.includes(id))).toEqual([]);
    expect((await fetch(`${s3app.url}/public/results/${id}`)).status).toBe(410);
  });
});

/** The id of the slot's job once a worker is running it. */
async function eventuallyActive(slotId: string): Promise<string> {
  const running = async () => {
    const [r] = await app.sql<{ id: string }[]>`
      select id::text from job where slot_id = ${slotId} and status = 'processing' limit 1`;
    return r?.id;
  };
  return eventually(running, 4_000).catch(() => {
    throw new Error(`no running job on ${slotId}`);
  });
}

describe("photochanger slot set --fallback-…", () => {
  test("sets, changes and removes a slot's fallback through the validated, audited update; bad values exit 2 and change nothing", async () => {
    const env = { DATABASE_URL: app.databaseUrl, PHOTOCHANGER_DATA_DIR: app.dataDir };
    const fallbackOf = async () => (await app.runtime.store.slots.get("slot-009"))!.fallback;
    const set = await runCli(
      [
        "slot",
        "set",
        "slot-009",
        "--fallback-provider",
        "gemini",
        "--fallback-operation",
        "image_edit",
        "--fallback-setting",
        "prompt=Sepia tones",
        "--fallback-setting",
        "aspect_ratio=3:4",
      ],
      env,
    );
    expect(set.code).toBe(0);
    expect(set.stdout).toContain("fallback gemini/image_edit");
    expect(await fallbackOf()).toEqual({
      provider: "gemini",
      operation: "image_edit",
      settings: { prompt: "Sepia tones", aspect_ratio: "3:4" },
    });
    const [audit] = await app.runtime.store.audit.recent(1);
    expect(audit).toMatchObject({ actor: "cli", action: "slot.updated" });
    expect(audit!.details.changed).toContain("fallback");

    // --fallback-setting alone changes the current fallback's settings
    expect((await runCli(["slot", "set", "slot-009", "--fallback-setting", "prompt=Noir"], env)).code).toBe(
      0,
    );
    expect((await fallbackOf())?.settings).toEqual({ prompt: "Noir", aspect_ratio: "3:4" });

    const before = await fallbackOf();
    for (const [args, says] of [
      [["--fallback-provider", "local", "--fallback-operation", "nope"], "--fallback-operation"],
      [
        [
          "--fallback-provider",
          "gemini",
          "--fallback-operation",
          "image_edit",
          "--fallback-setting",
          "aspect_ratio=7:1",
        ],
        "--fallback-setting aspect_ratio",
      ],
      [["--no-fallback", "--fallback-provider", "local"], "--no-fallback"],
      [["--fallback-setting", "oops"], "key=value"],
    ] as const) {
      const bad = await runCli(["slot", "set", "slot-009", ...args], env);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toContain(says);
    }
    expect(await fallbackOf()).toEqual(before);

    const none = await runCli(["slot", "set", "slot-009", "--no-fallback"], env);
    expect(none.code).toBe(0);
    expect(await fallbackOf()).toBeNull();
  });
});
