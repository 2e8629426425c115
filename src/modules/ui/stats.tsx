/** @jsxImportSource @kitajs/html */
/** `/stats` and `/stats.csv`, built on the statistics service (issue 7). */
import { Elysia } from "elysia";
import {
  type ChartBucket,
  PERIODS,
  type Period,
  type SlaRow,
  type SlotStatsModel,
  SlotStatsPage,
  type StatsModel,
  StatsPage,
  shownRows,
} from "../../../templates/pages/stats";
import { boxTimeZone } from "../../domain/calendar";
import { csvLine } from "../../lib/csv";
import type { Services } from "../../services";
import { resetStats } from "../slots/service";
import type { GlobalStatsResponse } from "../stats/model";
import {
  globalStats,
  hourBuckets,
  overview,
  refusalsBySlot,
  slotStats,
  slotSummaries,
  todaySoFar,
  WINDOW_MINUTES,
} from "../stats/service";
import { uiContext } from "./context";
import { render } from "./render";

const PERIOD_MINUTES: Record<Exclude<Period, "today">, number> = {
  "24h": 1440,
  "7d": 7 * 1440,
  "30d": 30 * 1440,
};

/** "Сегодня" unless another period is asked for. */
function periodOf(q: unknown): Period {
  return (PERIODS as readonly string[]).includes(q as string) ? (q as Period) : "today";
}

/** The period's start, and its length in whole minutes (at least the overview's 5). */
function rangeOf(period: Period, now: Date): { from: Date; minutes: number } {
  if (period === "today") {
    const { from } = todaySoFar(now, boxTimeZone());
    return {
      from,
      minutes: Math.max(WINDOW_MINUTES.min, Math.ceil((now.getTime() - from.getTime()) / 60_000)),
    };
  }
  const minutes = PERIOD_MINUTES[period];
  return { from: new Date(now.getTime() - minutes * 60_000), minutes };
}

async function statsModel(services: Services, period: Period, hideEmpty = false): Promise<StatsModel> {
  const now = services.clock.now();
  const tz = boxTimeZone();
  const range = rangeOf(period, now);
  const from = range.from.toISOString();
  const to = now.toISOString();
  const ov = await overview(services, { window_minutes: range.minutes }, now);
  const [all, perSlot, refusals] = await Promise.all([
    globalStats(services, { from, to, group_by: "day", page_size: 500 }, now, tz),
    slotSummaries(
      services,
      ov.slots.map((s) => s.slot_id),
      range.from,
      now,
    ),
    refusalsBySlot(services, range.from),
  ]);
  let buckets: ChartBucket[];
  const hourly = period === "24h" || period === "today";
  if (hourly) {
    // every slot's jobs, hour by hour (the empty hours as zeros)
    buckets = (await hourBuckets(services, range.from, now, tz)).map((b) => ({
      start: b.period_start,
      success: b.success,
      errors: b.errors,
    }));
  } else {
    buckets = all.data.map((b) => ({ start: b.period_start, success: b.success, errors: b.errors }));
  }
  const sum = all.summary;
  return {
    money: moneyOf(all),
    period,
    total: sum.ingest_count,
    success: sum.success,
    timeouts: sum.timeouts,
    providerErrors: sum.provider_errors,
    noImage: sum.provider_no_image,
    configErrors: sum.invalid_config,
    cancelled: sum.cancelled,
    errors: sum.errors,
    successRate: sum.success_rate,
    p50: sum.p50_latency_ms,
    p95: sum.p95_latency_ms,
    inFlight: ov.system.queue.pending + ov.system.queue.processing,
    sla: ov.slots.map((s, i) => {
      const g = perSlot[i]!.summary;
      return {
        slotId: s.slot_id,
        name: s.name,
        total: g.ingest_count,
        success: g.success,
        timeouts: g.timeouts,
        providerErrors: g.provider_errors,
        noImage: g.provider_no_image,
        configErrors: g.invalid_config,
        cancelled: g.cancelled,
        errors: g.errors,
        successRate: g.success_rate,
        p50: g.p50_latency_ms,
        p95: g.p95_latency_ms,
        fallbackSuccess: g.fallback_success,
        cost: perSlot[i]!.cost,
        refusals: refusals[s.slot_id] ?? 0,
      };
    }),
    hideEmpty,
    buckets,
    hourly,
    failures: ov.recent_failures.map((f) => ({
      jobId: f.job_id,
      slotId: f.slot_id,
      at: f.finished_at,
      reason: f.failure_reason,
      httpStatus: f.http_status,
      message: f.message,
    })),
  };
}

/** One slot over the period: hour buckets for 24 h, days otherwise; the summary runs since its reset. */
async function slotStatsModel(services: Services, slotId: string, period: Period): Promise<SlotStatsModel> {
  const now = services.clock.now();
  const from = rangeOf(period, now).from.toISOString();
  const hourly = period === "24h" || period === "today";
  const r = await slotStats(
    services,
    slotId,
    { from, to: now.toISOString(), group_by: hourly ? "hour" : "day" },
    now,
    boxTimeZone(),
  );
  const sum = r.summary;
  return {
    slotId,
    name: sum.title,
    period,
    total: sum.ingest_count,
    success: sum.success,
    timeouts: sum.timeouts,
    providerErrors: sum.provider_errors,
    cancelled: sum.cancelled,
    successRate: sum.success_rate,
    p50: sum.p50_latency_ms,
    p95: sum.p95_latency_ms,
    since: sum.since,
    lastResetAt: sum.last_reset_at,
    buckets: r.data.map((b) => ({ start: b.period_start, success: b.success, errors: b.errors })),
    hourly,
    money: moneyOf(r),
  };
}

function moneyOf(r: Pick<GlobalStatsResponse, "cost" | "currency" | "cost_detail" | "provider_queue">) {
  return {
    cost: r.cost,
    currency: r.currency,
    unpricedRequests: r.cost_detail.unpriced_requests,
    timeouts: r.provider_queue.timeouts,
    timeoutsWithProviderRef: r.provider_queue.timeouts_with_provider_ref,
  };
}

/** The statistics CSV: a column's header and how a slot's row fills it (one list, so they cannot drift apart). */
const CSV_COLUMNS: [string, (r: SlaRow, m: StatsModel) => unknown][] = [
  ["slot_id", (r) => r.slotId],
  ["name", (r) => r.name],
  ["ingest_count", (r) => r.total],
  ["success", (r) => r.success],
  ["timeouts", (r) => r.timeouts],
  ["provider_errors", (r) => r.providerErrors],
  ["provider_no_image", (r) => r.noImage],
  ["invalid_config", (r) => r.configErrors],
  ["cancelled", (r) => r.cancelled],
  ["errors", (r) => r.errors],
  ["success_rate", (r) => r.successRate.toFixed(4)],
  ["p50_latency_ms", (r) => r.p50],
  ["p95_latency_ms", (r) => r.p95],
  ["refusals", (r) => r.refusals ?? 0],
  ["cost", (r) => r.cost],
  ["currency", (_, m) => m.money?.currency],
];

export const uiStatsRoutes = (services: Services) =>
  new Elysia({ name: "ui-stats" })
    .use(uiContext(services))
    .get(
      "/stats",
      async ({ view, query }) =>
        render(
          <StatsPage
            v={view}
            m={await statsModel(services, periodOf(query.period), query.hide_empty === "1")}
          />,
        ),
      {
        page: "stats:read",
      },
    )
    .get(
      "/stats.csv",
      async ({ query }) => {
        const period = periodOf(query.period);
        const m = await statsModel(services, period, query.hide_empty === "1");
        const lines = [CSV_COLUMNS.map(([name]) => name).join(",")];
        for (const r of shownRows(m)) lines.push(csvLine(CSV_COLUMNS.map(([, cell]) => cell(r, m))));
        const stamp = services.clock.now().toISOString().slice(0, 10);
        return new Response(`${lines.join("\n")}\n`, {
          headers: {
            "Content-Type": "text/csv; charset=utf-8",
            "Content-Disposition": `attachment; filename="photochanger-stats-${period}-${stamp}.csv"`,
            "Cache-Control": "no-store",
          },
        });
      },
      { page: "stats:read" },
    )
    .get(
      "/stats/slots/:id",
      async ({ view, query, params }) => {
        const m = await slotStatsModel(services, params.id, periodOf(query.period));
        return render(<SlotStatsPage v={view} m={m} reset={query.reset === "1"} />);
      },
      { page: "stats:read" },
    )
    .post(
      "/stats/slots/:id/reset",
      async ({ params, admin }) => {
        await resetStats(services, params.id, admin.username);
        return new Response(null, {
          status: 303,
          headers: { Location: `/stats/slots/${params.id}?reset=1` },
        });
      },
      { page: "slots:write" },
    );
