/** @jsxImportSource @kitajs/html */
/** The dashboard: the 15 slots with provider/operation, enabled toggle, last result, live state, ingest URL. */
import type { SlotAttention } from "../../src/domain/attention";
import { SlotTrouble } from "../attention";
import { Alert, CopyField, PageHead } from "../components";
import { Icon } from "../icons";
import { Layout } from "../layout";
import { QuotaBanners, QuotaPanel, type QuotaView } from "../quota";
import { can, fmtAgo, fmtDateTime, fmtMoney, slotName, type View } from "../view";

export interface DashboardSlot {
  id: string;
  name: string;
  enabled: boolean;
  provider: string;
  providerLabel: string;
  operationLabel: string;
  ingestUrl: string;
  inFlight: number;
  lastResult: { jobId: string; finishedAt: string | null; thumbUrl: string | null } | null;
  trouble?: SlotAttention;
}

export function EnabledToggle({
  v,
  slotId,
  enabled,
}: {
  v: View;
  slotId: string;
  enabled: boolean;
}): JSX.Element {
  const writable = can(v, "slots:write");
  return (
    <form
      id={`enabled-${slotId}`}
      hx-post={`/slots/${slotId}/enabled`}
      hx-trigger="change"
      hx-target="this"
      hx-swap="outerHTML"
    >
      <input type="hidden" name="enabled" value="false" />
      <label class="switch" title={v.t.dashboard.toggleEnabled}>
        <input
          type="checkbox"
          name="enabled"
          value="true"
          checked={enabled}
          disabled={!writable}
          aria-label={`${v.t.dashboard.toggleEnabled}: ${slotId}`}
          data-confirm-off={v.t.dashboard.confirmOff(slotId)}
          data-confirm-title={v.t.console.actions.switchOff}
        />
        <span class="track"></span>
        <span class="small" safe>
          {enabled ? v.t.common.enabled : v.t.common.disabled}
        </span>
      </label>
    </form>
  );
}

/** The parts of a row that change by themselves (polled, then swapped in out of band). */
export function LiveThumb({ v, s, oob }: { v: View; s: DashboardSlot; oob?: boolean }): JSX.Element {
  return (
    <a
      href={`/slots/${s.id}`}
      id={`thumb-${s.id}`}
      hx-swap-oob={oob ? "true" : undefined}
      tabindex="-1"
      aria-label={slotName(v, s.name)}
    >
      {s.lastResult?.thumbUrl ? (
        <img class="thumb" src={`/public/results/${s.lastResult.jobId}/thumb`} alt="" loading="lazy" />
      ) : (
        <div class="thumb">
          <Icon name="image" />
        </div>
      )}
    </a>
  );
}

export function LiveLast({ v, s, oob }: { v: View; s: DashboardSlot; oob?: boolean }): JSX.Element {
  return (
    <span id={`last-${s.id}`} hx-swap-oob={oob ? "true" : undefined}>
      {s.lastResult ? (
        <time datetime={s.lastResult.finishedAt ?? ""} title={fmtDateTime(v, s.lastResult.finishedAt)} safe>
          {fmtAgo(v, s.lastResult.finishedAt)}
        </time>
      ) : (
        <span safe>{v.t.dashboard.noResults}</span>
      )}
    </span>
  );
}

export function LiveState({ v, s, oob }: { v: View; s: DashboardSlot; oob?: boolean }): JSX.Element {
  return (
    <span id={`state-${s.id}`} hx-swap-oob={oob ? "true" : undefined}>
      {s.inFlight > 0 ? (
        <span class="pill busy" data-in-flight={String(s.inFlight)}>
          <span class="dot"></span>
          <span safe>{v.t.dashboard.processing(s.inFlight)}</span>
        </span>
      ) : s.trouble?.failing ? (
        <span class="pill failed" data-in-flight="0" data-failing="true" safe>
          {v.t.dashboard.failing}
        </span>
      ) : (
        <span class="pill" data-in-flight="0" safe>
          {v.t.dashboard.idle}
        </span>
      )}
    </span>
  );
}

export function LiveTrouble({ v, s, oob }: { v: View; s: DashboardSlot; oob?: boolean }): JSX.Element {
  return (
    <div id={`trouble-${s.id}`} class="trouble-box" hx-swap-oob={oob ? "true" : undefined}>
      <SlotTrouble v={v} s={s.trouble} />
    </div>
  );
}

/** The poll answer: every slot's live parts, out of band. */
export function SlotsLive({ v, slots }: { v: View; slots: DashboardSlot[] }): JSX.Element {
  return (
    <>
      {slots.map((s) => (
        <>
          <LiveThumb v={v} s={s} oob />
          <LiveLast v={v} s={s} oob />
          <LiveState v={v} s={s} oob />
          <LiveTrouble v={v} s={s} oob />
        </>
      ))}
    </>
  );
}

function SlotRow({ v, s }: { v: View; s: DashboardSlot }): JSX.Element {
  return (
    <article
      class={`card slot-row${s.enabled ? "" : " disabled"}${s.trouble?.failing ? " failing" : ""}`}
      id={`slot-${s.id}`}
      data-slot={s.id}
    >
      <LiveThumb v={v} s={s} />
      <div>
        <a class="slot-title" href={`/slots/${s.id}`} safe>
          {slotName(v, s.name)}
        </a>
        <div class="slot-id" safe>
          {s.id}
        </div>
        <div class="slot-meta">
          <span safe>{s.providerLabel}</span> · <span safe>{s.operationLabel}</span>
        </div>
        <div class="slot-meta">
          <span safe>{v.t.dashboard.lastResult}</span>: <LiveLast v={v} s={s} />
        </div>
        <LiveTrouble v={v} s={s} />
      </div>
      <div class="ingest">
        <CopyField v={v} id={`ingest-${s.id}`} value={s.ingestUrl} />
      </div>
      <div class="slot-state">
        <LiveState v={v} s={s} />
        <EnabledToggle v={v} slotId={s.id} enabled={s.enabled} />
        <a class="btn small ghost" href={`/slots/${s.id}`}>
          <Icon name="settings" />
          <span safe>{v.t.dashboard.configure}</span>
        </a>
      </div>
    </article>
  );
}

export function DashboardPage({
  v,
  slots,
  publicBaseUrl,
  quotas = [],
  spend,
}: {
  v: View;
  slots: DashboardSlot[];
  publicBaseUrl: string | null;
  quotas?: QuotaView[];
  /** Today's provider spend (since local midnight), for admins who may read the statistics. */
  spend?: { cost: number; currency: string; unpricedRequests: number };
}): JSX.Element {
  return (
    <Layout v={v} title={v.t.dashboard.title}>
      <PageHead eyebrow={v.t.dashboard.eyebrow} title={v.t.dashboard.title} sub={v.t.dashboard.sub}>
        {spend ? (
          <a
            class="kpi spend-today"
            href="/stats?period=24h"
            data-kpi="spend_today"
            data-cost={String(spend.cost)}
          >
            <div class="value small-value nowrap" safe>
              {fmtMoney(v, spend.cost, spend.currency)}
            </div>
            <div class="label" safe>
              {v.t.dashboard.spendToday}
            </div>
            {spend.unpricedRequests ? (
              <div class="label small" safe>
                {v.t.stats.unpriced(spend.unpricedRequests)}
              </div>
            ) : (
              ""
            )}
          </a>
        ) : (
          ""
        )}
      </PageHead>
      {publicBaseUrl ? (
        ""
      ) : (
        <Alert kind="info">
          <span safe>{v.t.dashboard.publicBaseHint}</span>
        </Alert>
      )}
      <QuotaBanners v={v} quotas={quotas} />
      <div hx-get="/partials/slots-live" hx-trigger="every 3s" hx-swap="none" aria-hidden="true"></div>
      <section class="slot-list">
        {slots.map((s) => (
          <SlotRow v={v} s={s} />
        ))}
      </section>
      <QuotaPanel v={v} quotas={quotas} />
    </Layout>
  );
}
