/**
 * The statistics page's KPI tiles, rendered: a failure count turns its tile red only when it is
 * not zero, and the success rate is coloured by `rateClass` (green ≥ 95 %, amber ≥ 80 %, red below).
 */
import { describe, expect, test } from "bun:test";
import { dict } from "../templates/i18n/index";
import { StatsBody, type StatsModel } from "../templates/pages/stats";
import type { View } from "../templates/view";

const v: View = {
  t: dict("ru"),
  lang: "ru",
  path: "/stats",
  user: null,
  now: new Date("2026-11-30T12:00:00Z"),
  timeZone: "UTC",
};

function model(over: Partial<StatsModel>): StatsModel {
  return {
    period: "24h",
    total: 0,
    success: 0,
    timeouts: 0,
    providerErrors: 0,
    noImage: 0,
    configErrors: 0,
    cancelled: 0,
    errors: 0,
    successRate: 0,
    p50: null,
    p95: null,
    inFlight: 0,
    sla: [],
    buckets: [],
    hourly: true,
    failures: [],
    ...over,
  };
}

const render = async (m: StatsModel) => String(await StatsBody({ v, m }));

describe("stats KPI tiles", () => {
  test("a failure count is red only when it is not zero", async () => {
    const quiet = await render(model({ total: 10, success: 10, successRate: 1 }));
    expect(quiet).not.toContain('class="kpi bad"');
    expect(quiet).toContain('<div class="kpi" data-kpi="provider_no_image">');

    const failing = await render(
      model({ total: 10, success: 6, successRate: 0.6, timeouts: 1, providerErrors: 2, noImage: 1 }),
    );
    expect(failing.match(/class="kpi bad"(?! data-rate)/g)).toHaveLength(3);
    expect(failing).toContain(`<div class="kpi bad" data-rate="bad">`);
    expect(failing).toContain('<div class="kpi bad" data-kpi="provider_no_image">');
    expect(failing).toContain('<div class="kpi" data-kpi="invalid_config">');
  });

  test("the success rate is coloured by rateClass, with the count of successes", async () => {
    for (const [rate, cls] of [
      [0.96, "good"],
      [0.85, "warn"],
      [0.71, "bad"],
    ] as const) {
      const html = await render(model({ total: 100, success: rate * 100, successRate: rate }));
      expect(html).toContain(`<div class="kpi ${cls}" data-rate="${cls}">`);
      expect(html).toContain(`(${rate * 100})`);
    }
    expect(await render(model({}))).toContain('<div class="kpi " data-rate="">');
  });

  test("the latency tile shows p50 / p95", async () => {
    const html = await render(model({ total: 4, success: 4, successRate: 1, p50: 1200, p95: 3400 }));
    expect(html).toContain('<div class="value small-value">');
    expect(html.match(/<span class="nowrap">/g)?.length).toBeGreaterThanOrEqual(2);
  });
});
