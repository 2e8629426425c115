/**
 * Provider polls you can see (SPEC §11): every Turbotext `get_result` is a `poll` row in the job's
 * timeline (with the queue id and Turbotext's answer) and counts in
 * `photochanger_provider_polls_total`; the statistics tell which booth timeouts Turbotext still had
 * in its queue (a provider job reference) from those no provider had taken.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { quotaResetsAt } from "../src/domain/quota";
import { ManualClock } from "../src/lib/clock";
import { BACKOFF_TIMER } from "../src/providers/common";
import { FakeTurbotext } from "./fakes/turbotext";
import { api, login } from "./helpers/admin";
import { dslrForm, postIngest, startTestApp, type TestApp } from "./helpers/app";
import { makeJpeg } from "./helpers/images";
import { jobOf } from "./helpers/jobs";
import { seedPastJobs } from "./helpers/past-jobs";
import { parseExposition } from "./helpers/prometheus";

const KEY = "turbotext-polls-key-5c1e";
let fake: FakeTurbotext;
let app: TestApp;
const clock = new ManualClock(new Date(), { elapse: [BACKOFF_TIMER] });
let photo: Uint8Array;

beforeAll(async () => {
  fake = new FakeTurbotext([KEY]);
  app = await startTestApp({ clock, env: { TURBOTEXT_BASE_URL: fake.url, TURBOTEXT_API_KEY: KEY } });
  photo = await makeJpeg(320, 240);
  await app.configureSlot("slot-001", {
    provider: "turbotext",
    operation: "image2image",
    settings: { prompt: "акварель", poll_interval_ms: 250 },
  });
});
afterAll(async () => {
  await app.stop();
  fake.stop();
});
beforeEach(async () => {
  fake.reset();
  clock.set(quotaResetsAt("turbotext", clock.now()));
  await app.setSyncSeconds(10);
  await app.setSetting("public_base_url", app.url);
});

const polls = async (answer: string) =>
  parseExposition(await (await fetch(`${app.url}/metrics`)).text()).value(
    "photochanger_provider_polls_total",
    { provider: "turbotext", answer },
  ) ?? 0;

describe("turbotext polls", () => {
  test("each get_result is a poll row with the queue id and the answer, and a metric sample", async () => {
    const [reconnectsBefore, doneBefore] = [await polls("reconnect"), await polls("done")];
    fake.script({ reconnects: 2, result: "top_level" });
    const res = await postIngest(app, "slot-001", dslrForm(photo));
    expect(res.status).toBe(200);
    const queueid = String(fake.calls[0]!.answer.queueid);
    const { log } = await jobOf(app, res);
    const rows = log.filter((l) => l.event === "poll");
    expect(rows.map((r) => r.details)).toEqual([
      { provider: "turbotext", queueid, poll: 1, answer: "reconnect" },
      { provider: "turbotext", queueid, poll: 2, answer: "reconnect" },
      { provider: "turbotext", queueid, poll: 3, answer: "done" },
    ]);
    // as many rows as get_result calls the fake received
    expect(fake.calls.filter((c) => c.do === "get_result")).toHaveLength(3);
    expect(await polls("reconnect")).toBe(reconnectsBefore + 2);
    expect(await polls("done")).toBe(doneBefore + 1);

    // the job page shows them with the queue id
    const { cookie } = await login(app, "serg");
    const page = await (
      await fetch(`${app.url}/jobs/${res.headers.get("x-job-id")}`, { headers: { cookie } })
    ).text();
    expect(page.split(`data-queueid="${queueid}"`)).toHaveLength(4);
  });

  test("a refusal at get_result is a poll row too", async () => {
    fake.script({ reconnects: 0, error: "url_error" });
    const res = await postIngest(app, "slot-001", dslrForm(photo));
    expect(res.status).toBe(502);
    const { log } = await jobOf(app, res);
    expect(log.filter((l) => l.event === "poll").map((l) => l.details.answer)).toEqual(["refused"]);
  });

  test("the statistics give the share of timeouts a provider still had queued", async () => {
    fake.script({ never: true });
    const pending = postIngest(app, "slot-001", dslrForm(photo));
    for (let i = 0; i < 3; i++) await fake.nextRequest();
    clock.advance(10_000);
    const res = await pending;
    expect(res.status).toBe(504);
    expect((await jobOf(app, res)).row.providerJobRef).not.toBeNull();
    // a booth timeout no provider had taken (e.g. the queue was full until the deadline)
    await seedPastJobs(app, [
      {
        status: "timeout",
        failureReason: "timeout",
        provider: "turbotext",
        createdAt: new Date(clock.now().getTime() - 1000),
      },
    ]);

    const serg = api(app, await login(app, "serg"));
    const from = new Date(clock.now().getTime() - 3_600_000).toISOString();
    const to = new Date(clock.now().getTime() + 60_000).toISOString();
    const body = (await (await serg("GET", `/api/stats/global?from=${from}&to=${to}`)).json()) as {
      provider_queue: { timeouts: number; timeouts_with_provider_ref: number; share: number };
    };
    expect(body.provider_queue).toEqual({ timeouts: 2, timeouts_with_provider_ref: 1, share: 0.5 });
    const slot = (await (
      await serg("GET", `/api/stats/slot-001?from=${from}&to=${to}`)
    ).json()) as typeof body;
    expect(slot.provider_queue.timeouts_with_provider_ref).toBe(1);

    const { cookie } = await login(app, "serg");
    const stats = await (await fetch(`${app.url}/stats`, { headers: { cookie } })).text();
    expect(stats).toMatch(/data-kpi="timeouts_queued">\s*<div class="value">50(,0)?%<\/div>/);
  });
});

describe("alert rules", () => {
  test("a rule watches the providers' p95 latency against T_sync_response", async () => {
    const rules = Bun.YAML.parse(await Bun.file(`${import.meta.dir}/../docs/alerts.yml`).text()) as {
      groups: { rules: { alert: string; expr: string }[] }[];
    };
    const rule = rules.groups.flatMap((g) => g.rules).find((r) => r.alert === "PhotoChangerProviderSlowP95");
    expect(rule?.expr).toContain("histogram_quantile(0.95");
    expect(rule?.expr).toContain("photochanger_provider_latency_seconds_bucket");
    expect(rule?.expr).toContain("photochanger_sync_response_seconds");
  });
});
