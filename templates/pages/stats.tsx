/** @jsxImportSource @kitajs/html */
/** Statistics: KPI tiles, per-slot SLA, a server-rendered SVG chart, recent failures, period, CSV, auto-refresh. */
import { DEFAULT_CURRENCY } from "../../src/domain/cost";
import { AlertText, Card, confirmAttrs, FailureReason, PageHead } from "../components";
import { Icon } from "../icons";
import { Layout } from "../layout";
import { can, fmtDateTime, fmtDuration, fmtMoney, fmtNumber, fmtTime, slotName, type View } from "../view";

/** "today" (the studio's calendar day so far, the default) and rolling periods. */
export const PERIODS = ["today", "24h", "7d", "30d"] as const;
export type Period = (typeof PERIODS)[number];

/** What a period's finished jobs came to, for the whole studio and for each slot. */
export interface OutcomeFigures {
  total: number;
  success: number;
  timeouts: number;
  providerErrors: number;
  /** Failures counted apart from the provider's errors: no image after the retries, slot not configured. */
  noImage: number;
  configErrors: number;
  cancelled: number;
  errors: number;
  successRate: number;
  p50: number | null;
  p95: number | null;
}

export interface SlaRow extends OutcomeFigures {
  slotId: string;
  name: string;
  /** Successes the slot's fallback provider served (part of `success`). */
  fallbackSuccess: number;
  /** Booth requests refused before a job was made (wrong password, slot off, too large…). */
  refusals?: number;
  /** Money the slot's provider answers cost in the period (see src/domain/cost.ts). */
  cost: number;
}

/** What the period cost, and the booth timeouts a provider still had in its queue. */
export interface CostModel {
  cost: number;
  currency: string;
  /** Billed requests of providers without a price (left out of `cost`). */
  unpricedRequests: number;
  timeouts: number;
  timeoutsWithProviderRef: number;
}

export interface ChartBucket {
  start: string;
  success: number;
  errors: number;
}

export interface FailureRow {
  jobId: string;
  slotId: string;
  at: string;
  reason: string;
  httpStatus: number;
  message: string | null;
}

export interface StatsModel extends OutcomeFigures {
  period: Period;
  /** "Hide empty slots": rows with no job and no refusal in the period are left out. */
  hideEmpty?: boolean;
  inFlight: number;
  sla: SlaRow[];
  buckets: ChartBucket[];
  hourly: boolean;
  failures: FailureRow[];
  /** The period's cost and queued timeouts (absent: the tiles are not shown). */
  money?: CostModel;
}

const pct = (v: View, r: number) => `${fmtNumber(v, r * 100, 1)}%`;

/** The period switch: a link a period, the one shown marked current. */
function PeriodNav({
  v,
  current,
  href,
}: {
  v: View;
  current: Period;
  href: (p: Period) => string;
}): JSX.Element {
  return (
    <nav class="segmented" aria-label={v.t.stats.period}>
      {PERIODS.map((p) => (
        <a href={href(p)} aria-current={p === current ? "true" : "false"} safe>
          {v.t.stats.periods[p] ?? p}
        </a>
      ))}
    </nav>
  );
}

/** A count tile; `alarm`: red when the count is not zero. `kpi` names it for tests and scripts. */
function Kpi(p: { v: View; n: number; label: string; alarm?: boolean; kpi?: string }): JSX.Element {
  return (
    <div class={p.alarm && p.n ? "kpi bad" : "kpi"} data-kpi={p.kpi}>
      <div class="value" safe>
        {fmtNumber(p.v, p.n)}
      </div>
      <div class="label" safe>
        {p.label}
      </div>
    </div>
  );
}

/** The success-rate tile, coloured by `rateClass`, with the count of successes. */
function RateKpi(p: { v: View; m: { total: number; success: number; successRate: number }; label: string }) {
  const rate = rateClass(p.m.total, p.m.successRate);
  return (
    <div class={`kpi ${rate}`} data-rate={rate}>
      <div class="value" safe>
        {p.m.total ? pct(p.v, p.m.successRate) : p.v.t.common.none}
      </div>
      <div class="label" safe>{`${p.label} (${p.m.success})`}</div>
    </div>
  );
}

/** The money tile: what the providers' answers cost in the period. */
export function CostKpi(p: { v: View; m: { cost: number; currency: string; unpricedRequests: number } }) {
  const s = p.v.t.stats;
  return (
    <div class="kpi" data-kpi="cost" data-cost={String(p.m.cost)}>
      <div class="value small-value nowrap" safe>
        {fmtMoney(p.v, p.m.cost, p.m.currency)}
      </div>
      <div class="label" safe>
        {s.cost}
      </div>
      {p.m.unpricedRequests ? (
        <div class="label small" safe>
          {s.unpriced(p.m.unpricedRequests)}
        </div>
      ) : (
        ""
      )}
    </div>
  );
}

/** Of the booth timeouts, the share a provider had already queued (it was still working at the deadline). */
function QueuedTimeoutsKpi(p: { v: View; m: CostModel }) {
  const s = p.v.t.stats;
  return (
    <div class="kpi" data-kpi="timeouts_queued">
      <div class="value" safe>
        {p.m.timeouts ? pct(p.v, p.m.timeoutsWithProviderRef / p.m.timeouts) : p.v.t.common.none}
      </div>
      <div class="label" safe>
        {s.timeoutsQueued(p.m.timeoutsWithProviderRef, p.m.timeouts)}
      </div>
    </div>
  );
}

/** The latency tile: p50 / p95 of the finished jobs. */
function LatencyKpi(p: {
  v: View;
  m: { p50: number | null; p95: number | null };
  labels: { p50: string; p95: string };
}) {
  return (
    <div class="kpi latency">
      <div class="value small-value">
        <span class="nowrap" safe>
          {fmtDuration(p.v, p.m.p50)}
        </span>{" "}
        /{" "}
        <span class="nowrap" safe>
          {fmtDuration(p.v, p.m.p95)}
        </span>
      </div>
      <div class="label" safe>{`${p.labels.p50} / ${p.labels.p95}`}</div>
    </div>
  );
}

/**
 * A success rate's colour: green only when the booth is served well (≥ 95 %), amber from 80 %, red
 * below — a 71 % day is a bad day, not a green one.
 */
export function rateClass(total: number, rate: number): "" | "good" | "warn" | "bad" {
  if (!total) return "";
  if (rate >= 0.95) return "good";
  if (rate >= 0.8) return "warn";
  return "bad";
}

/**
 * Stacked bars (success below, errors above) with a y-axis and dated x labels. Drawn twice: wide
 * for desktops and narrow (fewer labels) for phones, so the text stays readable at either width.
 */
export function Chart({
  v,
  buckets,
  hourly,
  narrow = false,
}: {
  v: View;
  buckets: ChartBucket[];
  hourly: boolean;
  narrow?: boolean;
}): JSX.Element {
  const W = narrow ? 360 : 760;
  const H = narrow ? 220 : 240;
  const font = narrow ? 12 : 12;
  const left = 40;
  const bottom = 30;
  const top = 10;
  const plotW = W - left - 10;
  const plotH = H - top - bottom;
  const max = Math.max(1, ...buckets.map((b) => b.success + b.errors));
  const niceMax = Math.ceil(max / 4) * 4 || 4;
  const n = Math.max(1, buckets.length);
  const slot = plotW / n;
  const barW = Math.max(2, Math.min(36, slot * 0.7));
  const y = (value: number) => top + plotH - (value / niceMax) * plotH;
  const labelEvery = Math.max(1, Math.ceil(n / (narrow ? 3 : 7)));
  const day = new Intl.DateTimeFormat(v.t.locale, { day: "2-digit", month: "2-digit", timeZone: v.timeZone });
  const hour = new Intl.DateTimeFormat(v.t.locale, {
    hour: "2-digit",
    minute: "2-digit",
    timeZone: v.timeZone,
  });
  // hourly labels carry the date on the first label and wherever the day changes
  let lastDay = "";
  const labelOf = (d: Date) => {
    if (!hourly) return day.format(d);
    const dd = day.format(d);
    const text = dd !== lastDay ? `${dd} ${hour.format(d)}` : hour.format(d);
    lastDay = dd;
    return text;
  };
  let svg = "";
  for (let i = 0; i <= 4; i++) {
    const value = (niceMax / 4) * i;
    const yy = y(value).toFixed(1);
    svg += `<line x1="${left}" x2="${W - 10}" y1="${yy}" y2="${yy}" stroke="#dbe7e3" stroke-width="1"/>`;
    svg += `<text x="${left - 6}" y="${yy}" dy="4" text-anchor="end" font-size="${font}" fill="#47645d">${value}</text>`;
  }
  buckets.forEach((b, i) => {
    const x = left + i * slot + (slot - barW) / 2;
    const ys = y(b.success);
    const ye = y(b.success + b.errors);
    const when = new Date(b.start);
    const title = `${day.format(when)}${hourly ? ` ${hour.format(when)}` : ""}: ${b.success} / ${b.errors}`;
    svg += `<g><title>${title}</title>`;
    if (b.success)
      svg += `<rect x="${x.toFixed(1)}" y="${ys.toFixed(1)}" width="${barW.toFixed(1)}" height="${(top + plotH - ys).toFixed(1)}" rx="3" fill="#0d7a62"/>`;
    if (b.errors)
      svg += `<rect x="${x.toFixed(1)}" y="${ye.toFixed(1)}" width="${barW.toFixed(1)}" height="${(ys - ye).toFixed(1)}" rx="3" fill="#a8321f"/>`;
    svg += "</g>";
    if (i % labelEvery === 0) {
      const anchor = i === 0 ? "start" : "middle";
      const lx = i === 0 ? Math.max(left, x) : x + barW / 2;
      svg += `<text x="${lx.toFixed(1)}" y="${H - 9}" text-anchor="${anchor}" font-size="${font}" fill="#47645d">${labelOf(when)}</text>`;
    }
  });
  return (
    <svg
      class={narrow ? "chart chart-phone" : "chart chart-wide"}
      id={narrow ? "stats-chart-phone" : "stats-chart"}
      viewBox={`0 0 ${W} ${H}`}
      role="img"
      aria-label={v.t.stats.chartTitle}
      xmlns="http://www.w3.org/2000/svg"
    >
      {svg}
    </svg>
  );
}

/** The SLA rows shown (and exported): every slot, or only those with something in the period. */
export function shownRows(m: StatsModel): SlaRow[] {
  return m.hideEmpty ? m.sla.filter((r) => r.total > 0 || (r.refusals ?? 0) > 0) : m.sla;
}

/** The page's own address with its period and the "hide empty slots" choice. */
export function statsHref(path: string, period: Period, hideEmpty: boolean | undefined): string {
  return `${path}?period=${period}${hideEmpty ? "&hide_empty=1" : ""}`;
}

export function StatsBody({ v, m }: { v: View; m: StatsModel }): JSX.Element {
  const chartEmpty = m.buckets.every((b) => b.success + b.errors === 0);
  const rows = shownRows(m);
  return (
    <div
      id="stats-body"
      hx-get={statsHref("/stats", m.period, m.hideEmpty)}
      hx-trigger="every 60s"
      hx-select="#stats-body"
      hx-target="this"
      hx-swap="outerHTML"
    >
      <p class="hint">
        <span safe>{v.t.stats.autoRefresh}</span> ·{" "}
        <span safe>{v.t.common.updatedAt(fmtTime(v, v.now))}</span>
      </p>
      <div class="kpis">
        <Kpi v={v} n={m.total} label={v.t.stats.total} />
        <RateKpi v={v} m={m} label={v.t.stats.successRate} />
        <Kpi v={v} n={m.timeouts} label={v.t.stats.timeouts} alarm />
        <Kpi v={v} n={m.providerErrors} label={v.t.stats.providerErrors} alarm />
        <Kpi v={v} n={m.noImage} label={v.t.stats.noImage} alarm kpi="provider_no_image" />
        <Kpi v={v} n={m.configErrors} label={v.t.stats.configErrors} alarm kpi="invalid_config" />
        <Kpi v={v} n={m.cancelled} label={v.t.stats.cancelled} />
        <LatencyKpi v={v} m={m} labels={v.t.stats} />
        <Kpi v={v} n={m.inFlight} label={v.t.stats.inFlight} />
        {m.money ? <CostKpi v={v} m={m.money} /> : ""}
        {m.money ? <QueuedTimeoutsKpi v={v} m={m.money} /> : ""}
      </div>
      <section class="card">
        <div class="card-head">
          <h2 safe>{v.t.stats.chartTitle}</h2>
          <div class="legend">
            <span class="legend-success" safe>
              {v.t.stats.legendSuccess}
            </span>
            <span class="legend-errors" safe>
              {v.t.stats.legendErrors}
            </span>
          </div>
        </div>
        {chartEmpty ? (
          <p class="muted" safe>
            {v.t.stats.chartEmpty}
          </p>
        ) : (
          <>
            <Chart v={v} buckets={m.buckets} hourly={m.hourly} />
            <Chart v={v} buckets={m.buckets} hourly={m.hourly} narrow />
          </>
        )}
      </section>
      <section class="card" id="sla">
        <div class="card-head">
          <h2 safe>{v.t.stats.slaTitle}</h2>
          <a
            class="btn small ghost"
            href={statsHref("/stats", m.period, !m.hideEmpty)}
            data-hide-empty={m.hideEmpty ? "true" : "false"}
            safe
          >
            {m.hideEmpty ? v.t.stats.showAllSlots : v.t.stats.hideEmptySlots}
          </a>
        </div>
        <div class="table-wrap">
          <table id="sla-table" class="cards-on-phone">
            <thead>
              <tr>
                <th safe>{v.t.stats.slot}</th>
                <th class="num" safe>
                  {v.t.stats.total}
                </th>
                <th class="num" safe>
                  {v.t.stats.success}
                </th>
                <th class="num" safe>
                  {v.t.stats.successRate}
                </th>
                <th class="num" safe>
                  {v.t.stats.fallbackSuccess}
                </th>
                <th class="num" safe>
                  {v.t.stats.timeouts}
                </th>
                <th class="num" safe>
                  {v.t.stats.providerErrors}
                </th>
                <th class="num" safe>
                  {v.t.stats.cancelled}
                </th>
                <th class="num" safe>
                  {v.t.stats.refusals}
                </th>
                <th class="num" safe>
                  {v.t.stats.p50}
                </th>
                <th class="num" safe>
                  {v.t.stats.p95}
                </th>
                <th class="num" safe>
                  {v.t.stats.cost}
                </th>
              </tr>
            </thead>
            <tbody>
              {rows.map((r) => (
                <tr data-slot={r.slotId}>
                  <td data-label={v.t.stats.slot}>
                    <a href={`/slots/${r.slotId}`} safe>
                      {slotName(v, r.name)}
                    </a>
                    <div class="slot-id" safe>
                      {r.slotId}
                    </div>
                    <a class="small" href={`/stats/slots/${r.slotId}`} safe>
                      {v.t.stats.overTime}
                    </a>
                  </td>
                  <td data-label={v.t.stats.total} class="num" safe>
                    {String(r.total)}
                  </td>
                  <td data-label={v.t.stats.success} class="num" safe>
                    {String(r.success)}
                  </td>
                  <td data-label={v.t.stats.successRate} class="num" safe>
                    {r.total ? pct(v, r.successRate) : v.t.common.none}
                  </td>
                  <td data-label={v.t.stats.fallbackSuccess} class="num" data-fallback-success safe>
                    {String(r.fallbackSuccess)}
                  </td>
                  <td data-label={v.t.stats.timeouts} class="num" safe>
                    {String(r.timeouts)}
                  </td>
                  <td data-label={v.t.stats.providerErrors} class="num" safe>
                    {String(r.providerErrors)}
                  </td>
                  <td data-label={v.t.stats.cancelled} class="num" safe>
                    {String(r.cancelled)}
                  </td>
                  <td data-label={v.t.stats.refusals} class="num" data-refusals safe>
                    {String(r.refusals ?? 0)}
                  </td>
                  <td data-label={v.t.stats.p50} class="num" safe>
                    {fmtDuration(v, r.p50)}
                  </td>
                  <td data-label={v.t.stats.p95} class="num" safe>
                    {fmtDuration(v, r.p95)}
                  </td>
                  <td data-label={v.t.stats.cost} class="num" data-cost={String(r.cost)} safe>
                    {fmtMoney(v, r.cost, m.money?.currency ?? DEFAULT_CURRENCY)}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </section>
      <Card title={v.t.stats.failuresTitle}>
        {m.failures.length ? (
          <div class="table-wrap">
            <table class="cards-on-phone">
              <thead>
                <tr>
                  <th safe>{v.t.stats.time}</th>
                  <th safe>{v.t.stats.slot}</th>
                  <th class="num">HTTP</th>
                  <th safe>{v.t.stats.reason}</th>
                </tr>
              </thead>
              <tbody>
                {m.failures.map((f) => (
                  <tr>
                    <td data-label={v.t.stats.time}>
                      <a href={`/jobs/${f.jobId}`} safe>
                        {fmtDateTime(v, f.at)}
                      </a>
                    </td>
                    <td data-label={v.t.stats.slot} safe>
                      {f.slotId}
                    </td>
                    <td data-label={"HTTP"} class="num" safe>
                      {String(f.httpStatus)}
                    </td>
                    <td data-label={v.t.stats.reason}>
                      <FailureReason v={v} reason={f.reason} message={f.message} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ) : (
          <p class="muted" safe>
            {v.t.stats.failuresEmpty}
          </p>
        )}
      </Card>
    </div>
  );
}

export function StatsPage({ v, m }: { v: View; m: StatsModel }): JSX.Element {
  return (
    <Layout v={v} title={v.t.stats.title}>
      <PageHead eyebrow={v.t.stats.eyebrow} title={v.t.stats.title}>
        <div class="row">
          <PeriodNav v={v} current={m.period} href={(p) => statsHref("/stats", p, m.hideEmpty)} />
          <a class="btn ghost" href={statsHref("/stats.csv", m.period, m.hideEmpty)} download="">
            <Icon name="download" />
            <span safe>{v.t.stats.csv}</span>
          </a>
        </div>
      </PageHead>
      <StatsBody v={v} m={m} />
    </Layout>
  );
}

export interface SlotStatsModel {
  slotId: string;
  name: string;
  period: Period;
  total: number;
  success: number;
  timeouts: number;
  providerErrors: number;
  cancelled: number;
  successRate: number;
  p50: number | null;
  p95: number | null;
  since: string;
  lastResetAt: string | null;
  buckets: ChartBucket[];
  hourly: boolean;
  /** The period's cost (not since the reset: money is counted over the chosen period). */
  money: CostModel;
}

/** One slot over time: KPIs since its last reset, successes and failures by hour or day, the reset. */
export function SlotStatsPage({ v, m, reset }: { v: View; m: SlotStatsModel; reset?: boolean }): JSX.Element {
  const s = v.t.stats;
  const empty = m.buckets.every((b) => b.success + b.errors === 0);
  return (
    <Layout v={v} title={`${s.slotTitle} · ${slotName(v, m.name)}`}>
      <PageHead
        back={{ href: `/slots/${m.slotId}`, label: `← ${slotName(v, m.name)}` }}
        eyebrow={`${s.slotTitle} · ${m.slotId}`}
        title={slotName(v, m.name)}
        sub={m.lastResetAt ? s.sinceReset(fmtDateTime(v, m.lastResetAt)) : s.sinceStart}
      >
        <PeriodNav v={v} current={m.period} href={(p) => `/stats/slots/${m.slotId}?period=${p}`} />
      </PageHead>
      <AlertText kind="success" text={reset ? s.resetDone : undefined} />
      <div class="kpis">
        <Kpi v={v} n={m.total} label={s.total} />
        <RateKpi v={v} m={m} label={s.successRate} />
        <Kpi v={v} n={m.timeouts} label={s.timeouts} alarm />
        <Kpi v={v} n={m.providerErrors} label={s.providerErrors} alarm />
        <LatencyKpi v={v} m={m} labels={s} />
        <CostKpi v={v} m={m.money} />
        <QueuedTimeoutsKpi v={v} m={m.money} />
      </div>
      <Card title={s.chartTitle}>
        {empty ? (
          <p class="muted" safe>
            {s.chartEmpty}
          </p>
        ) : (
          <>
            <Chart v={v} buckets={m.buckets} hourly={m.hourly} />
            <Chart v={v} buckets={m.buckets} hourly={m.hourly} narrow />
          </>
        )}
      </Card>
      {can(v, "slots:write") ? (
        <Card id="reset-stats" title={s.resetTitle} hint={s.resetHint}>
          <form
            method="post"
            action={`/stats/slots/${m.slotId}/reset`}
            {...confirmAttrs(v.t.console.actions.resetStats, s.confirmReset)}
          >
            <button class="btn danger ghost" type="submit">
              <Icon name="refresh" />
              <span safe>{s.reset}</span>
            </button>
          </form>
        </Card>
      ) : (
        ""
      )}
    </Layout>
  );
}
