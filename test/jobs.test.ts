import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { eq } from "drizzle-orm";
import { processingLog } from "../src/db/schema";
import { type Api, api, fileForm, login } from "./helpers/admin";
import { dslrForm, json, LogWatch, postIngest, startTestApp, type TestApp, whenQueued } from "./helpers/app";
import { makeJpeg } from "./helpers/images";
import { checkedApi } from "./helpers/openapi";

const watch = new LogWatch();
let app: TestApp;
let serg: Api;
let igor: Api;
let photo: Uint8Array;
const booth: string[] = [];
let testRunId: string;

interface JobListBody {
  data: { id: string; slot_id: string; source: string; status: string; result_url: string | null }[];
  meta: { page: number; page_size: number; total: number };
}

beforeAll(async () => {
  app = await startTestApp({ onLogLine: watch.sink });
  serg = checkedApi(app, api(app, await login(app, "serg")));
  igor = checkedApi(app, api(app, await login(app, "igor")));
  photo = await makeJpeg(120, 90);
  await app.configureSlot("slot-001", { provider: "local", operation: "greyscale", settings: {} });
  await app.configureSlot("slot-002", { provider: "local", operation: "passthrough", settings: {} });
  for (let i = 0; i < 2; i++) {
    const res = await postIngest(app, "slot-001", dslrForm(photo));
    expect(res.status).toBe(200);
    booth.push(res.headers.get("x-job-id")!);
  }
  const run = await serg("POST", "/api/slots/slot-002/test-run", { form: fileForm("test_image", photo) });
  testRunId = ((await run.json()) as { job_id: string }).job_id;
});
afterAll(() => app.stop());

async function list(query = ""): Promise<JobListBody> {
  const res = await igor("GET", `/api/jobs${query}`);
  expect(res.status).toBe(200);
  return (await res.json()) as JobListBody;
}

describe("GET /api/jobs", () => {
  test("newest first, with meta; filters by slot, source and status", async () => {
    const all = await list();
    expect(all.meta).toEqual({ page: 1, page_size: 50, total: 3 });
    expect(all.data.map((j) => j.id)).toEqual([testRunId, booth[1]!, booth[0]!]);
    expect(all.data[0]!.result_url).toBe(`${app.url}/public/results/${testRunId}`);

    expect((await list("?slot=slot-001")).data.map((j) => j.id).sort()).toEqual([...booth].sort());
    expect((await list("?source=test_run")).data.map((j) => j.id)).toEqual([testRunId]);
    expect((await list("?status=succeeded")).meta.total).toBe(3);
    expect((await list("?status=failed,cancelled")).meta.total).toBe(0);
  });

  test("paging and the time window", async () => {
    const page2 = await list("?page=2&page_size=1");
    expect(page2.meta).toEqual({ page: 2, page_size: 1, total: 3 });
    expect(page2.data.map((j) => j.id)).toEqual([booth[1]!]);
    const future = new Date(Date.now() + 3600_000).toISOString();
    expect((await list(`?from=${encodeURIComponent(future)}`)).meta.total).toBe(0);
    expect((await list(`?to=${encodeURIComponent(future)}`)).meta.total).toBe(3);
  });

  test("bad filters are 400 naming the parameter, as on /api/stats; anonymous is 401", async () => {
    for (const [q, field] of [
      ["?status=done", "status"],
      ["?source=booth", "source"],
      ["?from=yesterday", "from"],
      ["?page=0", "page"],
      ["?page_size=500", "page_size"],
      ["?slot=../etc", "slot"],
    ] as const) {
      const res = await serg("GET", `/api/jobs${q}`);
      expect(res.status).toBe(400);
      const body = await json(res);
      expect(body.error.code).toBe("invalid_request");
      expect((body.error.details.fields as { field: string }[])[0]!.field).toBe(field);
    }
    // one parser for times: the same bad `from` is the same answer on both endpoints
    for (const path of ["/api/jobs?from=yesterday", "/api/stats/global?from=yesterday"]) {
      const res = await serg("GET", path);
      expect(res.status).toBe(400);
      expect((await json(res)).error.code).toBe("invalid_request");
    }
    expect((await checkedApi(app, api(app, null))("GET", "/api/jobs")).status).toBe(401);
  });
});

describe("GET /api/jobs/{id}", () => {
  test("the processing-log timeline and the timings", async () => {
    // The booth was answered after the job's last log step was written.
    const res = await serg("GET", `/api/jobs/${booth[0]}`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as {
      status: string;
      source: string;
      client_meta: Record<string, string>;
      timeline: { event: string; offset_ms: number }[];
      durations: { queue_wait_ms: number; provider_ms: number; total_ms: number };
      deadline_left_ms: number | null;
    };
    expect(body.status).toBe("succeeded");
    expect(body.timeline.map((e) => e.event)).toEqual([
      "received",
      "dispatched",
      "provider_responded",
      "succeeded",
    ]);
    const offsets = body.timeline.map((e) => e.offset_ms);
    expect(offsets).toEqual([...offsets].sort((a, b) => a - b));
    expect(body.durations.total_ms).toBeGreaterThanOrEqual(body.durations.queue_wait_ms);
    expect(body.durations.provider_ms).toBeGreaterThanOrEqual(0);
    expect(body.deadline_left_ms).toBeNull();
    expect(body.client_meta.user_id).toBe("Acer");
    expect(JSON.stringify(body)).not.toContain("booth-secret-42");
  });

  test("unknown or malformed ids are 404", async () => {
    for (const id of ["5b0c5a4e-3f0e-4a55-9d1c-1f0f0f0f0f0f", "not-a-uuid"]) {
      const res = await serg("GET", `/api/jobs/${id}`);
      expect(res.status).toBe(404);
      expect((await json(res)).error.code).toBe("job_not_found");
    }
  });
});

describe("POST /api/jobs/{id}/cancel", () => {
  test("a processing job is cancelled: the waiting booth gets 503 job_cancelled", async () => {
    await app.configureSlot("slot-003", {
      provider: "local",
      operation: "passthrough",
      settings: { simulate_delay_ms: 60_000 },
    });
    const running = watch.next("job.dispatched", { slot: "slot-003" });
    const waiting = postIngest(app, "slot-003", dslrForm(photo));
    const id = String((await running).job_id);
    const detail = (await (await serg("GET", `/api/jobs/${id}`)).json()) as { deadline_left_ms: number };
    expect(detail.deadline_left_ms).toBeGreaterThan(0);
    expect(detail.deadline_left_ms).toBeLessThanOrEqual(48_000);

    const res = await igor("POST", `/api/jobs/${id}/cancel`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ id, status: "cancelled", failure_reason: "cancelled" });

    const answer = await waiting;
    expect(answer.status).toBe(503);
    const body = await json(answer);
    expect(body.error.code).toBe("job_cancelled");
    expect(body.error.details.job_id).toBe(id);

    const steps = await app.db.select().from(processingLog).where(eq(processingLog.jobId, id));
    expect(steps.find((s) => s.event === "cancelled")!.details).toMatchObject({ by: "igor" });

    const again = await serg("POST", `/api/jobs/${id}/cancel`);
    expect(again.status).toBe(409);
    expect((await json(again)).error).toMatchObject({
      code: "job_not_active",
      details: { status: "cancelled" },
    });
  });

  test("a finished job cannot be cancelled; unknown jobs are 404", async () => {
    const done = await serg("POST", `/api/jobs/${booth[0]}/cancel`);
    expect(done.status).toBe(409);
    const unknown = await serg("POST", "/api/jobs/5b0c5a4e-3f0e-4a55-9d1c-1f0f0f0f0f0f/cancel");
    expect(unknown.status).toBe(404);
    expect((await checkedApi(app, api(app, null))("POST", `/api/jobs/${booth[0]}/cancel`)).status).toBe(401);
  });
});

describe("cancelling a job no worker has claimed yet", () => {
  let idle: TestApp;
  beforeAll(async () => {
    idle = await startTestApp({ workers: false });
  });
  afterAll(() => idle.stop());

  test("a pending job is cancelled and its booth answered 503", async () => {
    const admin = checkedApi(idle, api(idle, await login(idle, "serg")));
    const queued = whenQueued(idle);
    const waiting = postIngest(idle, "slot-001", dslrForm(photo));
    await queued;
    const list = (await (await admin("GET", "/api/jobs?status=pending")).json()) as JobListBody;
    const pending = list.data[0]!.id;
    const res = await admin("POST", `/api/jobs/${pending}/cancel`);
    expect(res.status).toBe(200);
    const answer = await waiting;
    expect(answer.status).toBe(503);
    expect((await json(answer)).error.code).toBe("job_cancelled");
  });
});
