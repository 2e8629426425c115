/** @jsxImportSource @kitajs/html */
/** The dashboard `/`, its live poll, and the enabled toggle. */
import { Elysia } from "elysia";
import { AttentionBanner } from "../../../templates/attention";
import { pt } from "../../../templates/i18n/providers";
import {
  DashboardPage,
  type DashboardSlot,
  EnabledToggle,
  SlotsLive,
} from "../../../templates/pages/dashboard";
import { QuotaBanners } from "../../../templates/quota";
import { can, type View } from "../../../templates/view";
import { boxTimeZone, truncate, wallClock, zonedInstant } from "../../domain/calendar";
import { isQuotaProvider } from "../../domain/quota";
import { AppError } from "../../lib/errors";
import { linkBaseFor } from "../../lib/urls";
import type { Services } from "../../services";
import { acknowledge, attentionFor } from "../attention/acks";
import { slotAttention } from "../attention/service";
import { liftBlock } from "../blocks/service";
import { listSlots, updateSlot } from "../slots/service";
import { spend } from "../stats/service";
import { uiContext } from "./context";
import { slotsLive } from "./data";
import { operationLabel, providerLabel } from "./labels";
import { quotaViews } from "./quota";
import { render } from "./render";

async function dashboardSlots(services: Services, v: View, request: Request): Promise<DashboardSlot[]> {
  const base = await linkBaseFor(services.settings, request);
  const slots = await listSlots(services, base);
  const [live, trouble] = await Promise.all([
    slotsLive(
      services,
      slots.map((s) => s.id),
      base,
    ),
    v.attention ? Promise.resolve(v.attention.slots) : slotAttention(services, v.now),
  ]);
  return slots.map((s) => {
    const l = live.get(s.id);
    const last = l?.lastResult;
    return {
      id: s.id,
      name: s.name,
      enabled: s.enabled,
      provider: s.provider,
      providerLabel: providerLabel(services, s.provider, v.lang),
      operationLabel: operationLabel(services, s.provider, s.operation, v.lang),
      ingestUrl: s.ingest_url,
      inFlight: l?.inFlight ?? 0,
      lastResult: last ? { jobId: last.id, finishedAt: last.finalized_at, thumbUrl: last.thumb_url } : null,
      trouble: trouble.get(s.id),
    };
  });
}

/** The providers' cost since midnight in the box's time zone (src/domain/cost.ts). */
function spendToday(services: Services, now: Date) {
  const tz = boxTimeZone();
  const midnight = zonedInstant(truncate(wallClock(now, tz), "day"), tz);
  return spend(services, midnight, now);
}

/** The attention banner again, as this admin now sees it (after an acknowledgement or a lifted block). */
async function attentionBanner(services: Services, view: View, username: string): Promise<Response> {
  return render(
    <AttentionBanner v={{ ...view, attention: await attentionFor(services, username, view.now) }} />,
  );
}

export const uiDashboardRoutes = (services: Services) =>
  new Elysia({ name: "ui-dashboard" })
    .use(uiContext(services))
    .get(
      "/",
      async ({ view, request }) => {
        const slots = await dashboardSlots(services, view, request);
        const { publicBaseUrl } = await services.settings.current();
        const quotas = await quotaViews(services);
        const spend = can(view, "stats:read") ? await spendToday(services, view.now) : undefined;
        return render(
          <DashboardPage
            v={view}
            slots={slots}
            publicBaseUrl={publicBaseUrl}
            quotas={quotas}
            spend={spend}
          />,
        );
      },
      { page: "slots:read" },
    )
    .get("/partials/attention", async ({ view, admin }) => attentionBanner(services, view, admin.username), {
      page: "slots:read",
    })
    .post(
      "/attention/ack",
      async ({ view, admin, body }) => {
        const form = (body ?? {}) as Record<string, unknown>;
        const key = typeof form.key === "string" ? form.key : "";
        const fingerprint = typeof form.fingerprint === "string" ? form.fingerprint : "";
        if (key && fingerprint) await acknowledge(services, admin.username, key, fingerprint, view.now);
        return attentionBanner(services, view, admin.username);
      },
      { page: "slots:read" },
    )
    .post(
      "/providers/:id/resume",
      async ({ view, params, admin }) => {
        if (!isQuotaProvider(params.id)) {
          throw new AppError("provider_not_found", `"${params.id}" has no quota to resume`);
        }
        await services.quota.resume(params.id, admin.username);
        const quotas = await quotaViews(services);
        const label = quotas.find((q) => q.provider === params.id)?.label ?? params.id;
        return render(<QuotaBanners v={view} quotas={quotas} message={pt(view).quota.resumed(label)} />);
      },
      { page: "settings:write" },
    )
    .post(
      "/attention/unblock",
      async ({ view, body, admin }) => {
        const form = (body ?? {}) as Record<string, unknown>;
        // a block lifted meanwhile (by the CLI, another admin, the booth's right password) is no error here
        await liftBlock(services, String(form.scope ?? ""), String(form.key ?? ""), admin.username).catch(
          (err) => {
            if (!(err instanceof AppError && err.code === "block_not_found")) throw err;
          },
        );
        return attentionBanner(services, view, admin.username);
      },
      { page: "settings:write" },
    )
    .get(
      "/partials/slots-live",
      async ({ view, request }) =>
        render(<SlotsLive v={view} slots={await dashboardSlots(services, view, request)} />),
      { page: "slots:read" },
    )
    .post(
      "/slots/:id/enabled",
      async ({ params, body, view, admin }) => {
        const raw = (body ?? {}) as Record<string, unknown>;
        const values = ([] as unknown[]).concat(raw.enabled ?? []);
        const enabled = values.includes("true");
        const row = await updateSlot(services, params.id, { enabled }, { ifMatch: null, by: admin.username });
        return render(<EnabledToggle v={view} slotId={row.id} enabled={row.enabled} />);
      },
      { page: "slots:write" },
    );
