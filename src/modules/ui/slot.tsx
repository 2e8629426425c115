/** @jsxImportSource @kitajs/html */
/** The slot page `/slots/{id}` and its htmx actions: re-render, save, test run, templates. */
import { Elysia } from "elysia";
import type { Server } from "elysia/universal";
import { pt } from "../../../templates/i18n/providers";
import { ErrorPage } from "../../../templates/pages/error";
import {
  PromptPreview,
  SlotForm,
  SlotPage,
  type SlotPageModel,
  SlotWarnings,
  TemplatesCard,
  TestResult,
} from "../../../templates/pages/slot";
import { type PresetCardView, PresetsCard } from "../../../templates/presets";
import { errorText, type View } from "../../../templates/view";
import { clientAddress } from "../../lib/client";
import { AppError } from "../../lib/errors";
import { linkBaseFor } from "../../lib/urls";
import type { Services } from "../../services";
import { MB, readUpload } from "../ingest/service";
import { listJobs } from "../jobs/service";
import { applyPreset, createPreset, findPreset, listAllPresets, removePreset } from "../presets/service";
import {
  addTemplate,
  BOOTH_FIELD_JOBS,
  boothFields,
  findSlot,
  getSlot,
  promptPreview,
  removeTemplate,
  runTest,
  updateSlot,
} from "../slots/service";
import { uiContext } from "./context";
import { errorLine, fieldErrorsOf } from "./field-errors";
import { providerLabel, roleLabels } from "./labels";
import { render } from "./render";
import { differsFromSaved, formModel, readSlotForm, toUpdateBody } from "./slot-form";

/** How far back the slot page lists refused booth requests. */
const REFUSAL_HISTORY_MS = 24 * 60 * 60_000;

type Values = Record<string, string | string[] | undefined>;

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
    templates: d.templates.map((t) => ({
      id: t.id,
      role: t.role,
      filename: t.filename,
      previewUrl: t.preview_url,
      width: t.width,
      height: t.height,
    })),
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

async function presetCards(services: Services, v: View): Promise<PresetCardView[]> {
  return (await listAllPresets(services, v.lang)).map((p) => ({
    id: p.id,
    kind: p.kind,
    name: p.name,
    description: p.description,
    sampleUrl: p.sample_url,
    providerLabels: p.providers.map((id) => providerLabel(services, id, v.lang)),
    createdBy: p.created_by,
  }));
}

async function presetsCard(
  services: Services,
  v: View,
  slotId: string,
  extra: { message?: string; error?: string },
) {
  return <PresetsCard v={v} slotId={slotId} presets={await presetCards(services, v)} {...extra} />;
}

/**
 * The templates card (for the form's operation, saved or not) and the slot's warnings, for the
 * answers that change them: the card follows the operation chosen in the form at once, and the
 * "template missing" warning goes as soon as the template is there. `oob` sends both out of band
 * next to the form.
 */
async function templatesCard(
  services: Services,
  v: View,
  slotId: string,
  extra: { error?: string; uploaded?: boolean; oob?: boolean },
  chosen?: { provider: string; operation: string },
) {
  const d = await getSlot(services, slotId, "");
  const op = services.providers.operation(chosen?.provider ?? d.provider, chosen?.operation ?? d.operation);
  return (
    <>
      <TemplatesCard
        v={v}
        slotId={slotId}
        roleNames={roleLabels(services, v.lang)}
        needs={(op?.templates ?? []).map((t) => ({
          role: t.role,
          label: t.label[v.lang],
          required: t.required,
        }))}
        templates={d.templates.map((t) => ({
          id: t.id,
          role: t.role,
          filename: t.filename,
          previewUrl: t.preview_url,
          width: t.width,
          height: t.height,
        }))}
        {...extra}
      />
      <SlotWarnings
        v={v}
        warnings={d.warnings}
        labels={Object.fromEntries(
          services.providers
            .operation(d.provider, d.operation)
            ?.templates.map((t) => [t.role, t.label[v.lang]]) ?? [],
        )}
        oob
      />
    </>
  );
}

/** The test form's booth field rows (name + value inputs); rows without a name are left out. */
function testFields(values: Values): Record<string, string> {
  const list = (x: string | string[] | undefined) => (x === undefined ? [] : ([] as string[]).concat(x));
  const names = list(values.test_field_name);
  const vals = list(values.test_field_value);
  const out: Record<string, string> = {};
  names.forEach((name, i) => {
    if (name.trim()) out[name.trim()] = vals[i] ?? "";
  });
  return out;
}

function notFoundPage(v: View, err: unknown) {
  if (err instanceof AppError && err.status === 404) {
    return render(<ErrorPage v={v} message={v.t.slot.notFound} />, { status: 404 });
  }
  throw err;
}

export const uiSlotRoutes = (services: Services) =>
  new Elysia({ name: "ui-slot" })
    .use(uiContext(services))
    .get(
      "/slots/:id",
      async ({ params, view, request }) => {
        try {
          return await render(<SlotPage v={view} m={await pageModel(services, view, params.id, request)} />);
        } catch (err) {
          return notFoundPage(view, err);
        }
      },
      { page: "slots:read" },
    )
    .get(
      "/slots/:id/form",
      async ({ params, query, view }) => {
        const row = await findSlot(services, params.id);
        const s = readSlotForm(services, query as Values);
        const presetId = typeof query.preset === "string" && query.preset ? query.preset : null;
        let notice: string | undefined;
        if (presetId) {
          // One click: the preset's provider, operation and settings fill the form (not saved yet).
          try {
            const preset = await findPreset(services, presetId, view.lang);
            Object.assign(s, await applyPreset(services, presetId, s, view.lang));
            notice = pt(view).presets.applied(preset.name);
          } catch (err) {
            if (!(err instanceof AppError)) throw err;
            const m = await formModel(services, view.lang, {
              ...s,
              slotId: row.id,
              version: s.version ?? row.version,
            });
            return render(
              <SlotForm v={view} m={m} outcome={{ message: errorText(view, err.code, err.message) }} />,
              {
                status: err.status,
              },
            );
          }
        }
        const m = await formModel(services, view.lang, {
          ...s,
          slotId: row.id,
          version: s.version ?? row.version,
        });
        const dirty =
          s.name !== row.name ||
          s.enabled !== row.enabled ||
          String(s.sizeLimitMb) !== String(row.sizeLimitMb) ||
          differsFromSaved(services, s, row);
        return render(
          <>
            <SlotForm v={view} m={m} outcome={{ notice }} dirty={dirty} />
            {await templatesCard(services, view, row.id, { oob: true }, s)}
          </>,
        );
      },
      { page: "slots:read" },
    )
    .get(
      "/slots/:id/prompt-preview",
      async ({ params, query, view }) => {
        const fields = await boothFields(services, params.id);
        const raw = (query as Values).prompt;
        const prompt = (Array.isArray(raw) ? raw[raw.length - 1] : raw) ?? "";
        return render(
          <PromptPreview v={view} p={{ slotId: params.id, prompt, ...promptPreview(prompt, fields) }} />,
        );
      },
      { page: "slots:read" },
    )
    .post(
      "/slots/:id/presets",
      async ({ params, body, view, admin }) => {
        await findSlot(services, params.id);
        const values = (body ?? {}) as Values;
        const s = readSlotForm(services, values);
        const raw = values.preset_name;
        const name = (Array.isArray(raw) ? raw[raw.length - 1] : raw) ?? "";
        if (!name.trim()) {
          return render(
            await presetsCard(services, view, params.id, { error: pt(view).presets.nameRequired }),
            {
              status: 422,
            },
          );
        }
        try {
          const saved = await createPreset(
            services,
            { name, provider: s.provider, operation: s.operation, settings: s.settings },
            admin.username,
          );
          return render(
            await presetsCard(services, view, params.id, { message: pt(view).presets.saved(saved.name) }),
          );
        } catch (err) {
          if (!(err instanceof AppError)) throw err;
          const error = errorLine(view, err);
          return render(await presetsCard(services, view, params.id, { error }), { status: err.status });
        }
      },
      { page: "slots:write" },
    )
    .post(
      "/slots/:id/presets/:pid/delete",
      async ({ params, view, admin }) => {
        await findSlot(services, params.id);
        try {
          await removePreset(services, params.pid, admin.username);
          return render(await presetsCard(services, view, params.id, { message: pt(view).presets.removed }));
        } catch (err) {
          if (!(err instanceof AppError)) throw err;
          return render(
            await presetsCard(services, view, params.id, { error: errorText(view, err.code, err.message) }),
            { status: err.status },
          );
        }
      },
      { page: "slots:write" },
    )
    .post(
      "/slots/:id",
      async ({ params, body, view, admin, request }) => {
        const row = await findSlot(services, params.id);
        const s = readSlotForm(services, (body ?? {}) as Values);
        const ifMatch = s.version === null ? null : `"${s.version}"`;
        try {
          const saved = await updateSlot(services, params.id, toUpdateBody(s), {
            ifMatch,
            by: admin.username,
          });
          const m = await formModel(services, view.lang, {
            slotId: saved.id,
            version: saved.version,
            name: saved.name,
            enabled: saved.enabled,
            provider: saved.provider,
            operation: saved.operation,
            settings: saved.settings,
            fallback: saved.fallback ?? null,
            outputFormat: saved.outputFormat,
            sizeLimitMb: saved.sizeLimitMb,
          });
          const html = (
            <>
              <SlotForm v={view} m={m} outcome={{ saved: true }} />
              {await templatesCard(services, view, saved.id, { oob: true })}
            </>
          );
          if (request.headers.get("hx-request")) return render(html);
          return new Response(null, { status: 303, headers: { Location: `/slots/${saved.id}` } });
        } catch (err) {
          if (!(err instanceof AppError)) throw err;
          const m = await formModel(services, view.lang, {
            ...s,
            slotId: row.id,
            version: s.version ?? row.version,
          });
          const errors = fieldErrorsOf(err, view);
          const outcome = errors
            ? { errors }
            : err.code === "version_conflict"
              ? { conflict: true }
              : { message: errorText(view, err.code, err.message) };
          return render(<SlotForm v={view} m={m} outcome={outcome} />, { status: err.status });
        }
      },
      { page: "slots:write" },
    )
    .post(
      "/slots/:id/test",
      async ({ params, view, admin, request, server }) => {
        const started = performance.now();
        try {
          const slot = await findSlot(services, params.id);
          const upload = await readUpload(request, slot.sizeLimitMb * MB, ["test_image"]);
          const values: Values = {};
          for (const [k, val] of upload.fields) {
            if (typeof val !== "string") continue;
            const prev = values[k];
            values[k] = prev === undefined ? val : ([] as string[]).concat(prev, val);
          }
          const s = readSlotForm(services, values);
          const overrides =
            values.provider === undefined
              ? null
              : JSON.stringify({
                  provider: s.provider,
                  operation: s.operation,
                  settings: s.settings,
                  fallback: s.fallback,
                  output_format: s.outputFormat,
                });
          // a green test of settings that are not saved must not pass for the booth's configuration
          const unsaved = values.provider !== undefined && differsFromSaved(services, s, slot);
          const result = await runTest(
            services,
            params.id,
            {
              upload,
              overrides,
              fields: JSON.stringify(testFields(values)),
              by: admin.username,
              clientIp: clientAddress(server as Server | null, request),
              signal: request.signal,
              hold: (seconds) => server?.timeout(request, seconds),
            },
            await linkBaseFor(services.settings, request),
          );
          const seconds = ((performance.now() - started) / 1000).toFixed(1);
          return render(
            <TestResult
              v={view}
              r={{
                ok: true,
                jobId: result.job_id,
                seconds,
                queueWaitMs: result.durations.queue_wait_ms,
                providerMs: result.durations.provider_ms,
                totalMs: result.durations.total_ms,
                unsaved,
                viaFallback: result.fallback_used
                  ? providerLabel(services, result.served_provider, view.lang)
                  : undefined,
              }}
            />,
          );
        } catch (err) {
          if (!(err instanceof AppError)) throw err;
          const detail = errorLine(view, err);
          // the provider's own (sanitized) words help the operator more than the generic line; they
          // are quoted as the provider's, not passed off as our text
          const raw = err.code === "provider_error" && err.message ? err.message : undefined;
          return render(<TestResult v={view} r={{ ok: false, error: detail, raw }} />, {
            status: err.status >= 500 ? 200 : err.status,
          });
        }
      },
      { page: "slots:write", parse: "none" },
    )
    .post(
      "/slots/:id/templates",
      async ({ params, view, admin, request }) => {
        try {
          const slot = await findSlot(services, params.id);
          const upload = await readUpload(request, slot.sizeLimitMb * MB, ["file"]);
          await addTemplate(services, params.id, {
            upload,
            role: upload.fields.get("role"),
            by: admin.username,
          });
          return render(await templatesCard(services, view, params.id, { uploaded: true }));
        } catch (err) {
          if (!(err instanceof AppError) || err.code === "slot_not_found") throw err;
          const message = errorText(view, err.code, err.message);
          return render(await templatesCard(services, view, params.id, { error: message }), {
            status: err.status,
          });
        }
      },
      { page: "slots:write", parse: "none" },
    )
    .post(
      "/slots/:id/templates/:tid/delete",
      async ({ params, view, admin }) => {
        try {
          await removeTemplate(services, params.id, params.tid, { force: true, by: admin.username });
          return render(await templatesCard(services, view, params.id, {}));
        } catch (err) {
          if (!(err instanceof AppError) || err.code === "slot_not_found") throw err;
          const message = errorText(view, err.code, err.message);
          return render(await templatesCard(services, view, params.id, { error: message }), {
            status: err.status,
          });
        }
      },
      { page: "slots:write" },
    );
