/** @jsxImportSource @kitajs/html */
/** The slot page `/slots/{id}`: its view model, composed from the slot, job, attention and preset services. */
import { Elysia } from "elysia";
import { ErrorPage } from "../../../../templates/pages/error";
import { SlotPage, type SlotPageModel } from "../../../../templates/pages/slot/page";
import type { View } from "../../../../templates/view";
import { AppError } from "../../../lib/errors";
import { linkBaseFor } from "../../../lib/urls";
import type { Services } from "../../../services";
import { listJobs } from "../../jobs/service";
import { BOOTH_FIELD_JOBS, boothFields, getSlot, promptPreview } from "../../slots/service";
import { uiContext } from "../context";
import { render } from "../render";
import { formModel } from "./form-model";
import { presetCards } from "./presets";
import { templateItems } from "./templates";

/** How far back the slot page lists refused booth requests. */
const REFUSAL_HISTORY_MS = 24 * 60 * 60_000;

async function pageModel(
  services: Services,
  v: View,
  slotId: string,
  request: Request,
): Promise<SlotPageModel> {
  const base = await linkBaseFor(services.settings, request);
  const [d, jobs, settings, refusals, fields] = await Promise.all([
    getSlot(services, slotId, base),
    listJobs(services, { slotId, page: 1, pageSize: 10, count: false }, base),
    services.settings.current(),
    services.store.attention.refusalBuckets(slotId, new Date(v.now.getTime() - REFUSAL_HISTORY_MS)),
    boothFields(services, slotId),
  ]);
  const takesPrompt = services.providers.operation(d.provider, d.operation)?.prompt !== "none";
  const prompt = takesPrompt ? String(d.settings.prompt ?? "") : null;
  return {
    form: await formModel(services, v.lang, {
      slotId: d.id,
      version: d.version,
      name: d.name,
      enabled: d.enabled,
      provider: d.provider,
      operation: d.operation,
      settings: d.settings,
      fallback: d.fallback,
      outputFormat: d.output_format,
      sizeLimitMb: d.size_limit_mb,
    }),
    ingestUrl: d.ingest_url,
    syncSeconds: settings.syncResponseSeconds,
    retentionHours: settings.resultRetentionHours,
    templates: templateItems(d.templates),
    results: d.recent_results.map((r) => ({
      jobId: r.job_id,
      slotId: d.id,
      source: r.source,
      finalizedAt: r.finalized_at,
      resultExpiresAt: r.result_expires_at,
    })),
    jobs: jobs.data.map((j) => ({
      id: j.id,
      status: j.status,
      source: j.source,
      createdAt: j.created_at,
      totalMs: j.durations.total_ms,
      failureReason: j.failure_reason,
      errorMessage: j.error_message,
      fallbackUsed: j.fallback_used,
      deleted: !!j.deleted_at,
    })),
    warnings: d.warnings,
    trouble: v.attention?.slots.get(d.id),
    refusals: refusals.map((r) => ({
      at: new Date(r.bucket).toISOString(),
      reason: r.reason,
      count: r.count,
    })),
    presets: await presetCards(services, v),
    boothFields: fields,
    boothFieldJobs: BOOTH_FIELD_JOBS,
    preview: { slotId, prompt, ...promptPreview(prompt ?? "", fields) },
  };
}

function notFoundPage(v: View, err: unknown) {
  if (err instanceof AppError && err.status === 404) {
    return render(<ErrorPage v={v} message={v.t.slot.notFound} />, { status: 404 });
  }
  throw err;
}

export const uiSlotPageRoutes = (services: Services) =>
  new Elysia({ name: "ui-slot-page" }).use(uiContext(services)).get(
    "/slots/:id",
    async ({ params, view, request }) => {
      try {
        return await render(<SlotPage v={view} m={await pageModel(services, view, params.id, request)} />);
      } catch (err) {
        return notFoundPage(view, err);
      }
    },
    { page: "slots:read" },
  );
