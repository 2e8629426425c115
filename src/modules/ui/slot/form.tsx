/** @jsxImportSource @kitajs/html */
/**
 * The slot page's configuration form and its htmx actions: re-render for a provider, operation or
 * preset chosen in the form (not saved), the prompt preview, and save.
 */
import { Elysia } from "elysia";
import type { Lang } from "../../../../templates/i18n/index";
import { pt } from "../../../../templates/i18n/providers";
import { PromptPreview } from "../../../../templates/pages/slot/booth";
import { SlotForm } from "../../../../templates/pages/slot/form";
import { errorText } from "../../../../templates/view";
import { AppError } from "../../../lib/errors";
import type { Services } from "../../../services";
import { applyPreset, findPreset } from "../../presets/service";
import { boothFields, findSlot, promptPreview, updateSlot } from "../../slots/service";
import { uiContext } from "../context";
import { fieldErrorsOf } from "../field-errors";
import { render } from "../render";
import {
  differsFromSaved,
  formModel,
  readSlotForm,
  type SubmittedSlot,
  toUpdateBody,
  type Values,
} from "./form-model";
import { templatesCard } from "./templates";

/** The form as submitted (not saved), on the slot's id and, when the form has none, its saved version. */
function unsavedFormModel(
  services: Services,
  lang: Lang,
  row: { id: string; version: number },
  s: SubmittedSlot,
) {
  return formModel(services, lang, { ...s, slotId: row.id, version: s.version ?? row.version });
}

export const uiSlotFormRoutes = (services: Services) =>
  new Elysia({ name: "ui-slot-form" })
    .use(uiContext(services))
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
            const m = await unsavedFormModel(services, view.lang, row, s);
            return render(
              <SlotForm v={view} m={m} outcome={{ message: errorText(view, err.code, err.message) }} />,
              {
                status: err.status,
              },
            );
          }
        }
        const m = await unsavedFormModel(services, view.lang, row, s);
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
          const m = await unsavedFormModel(services, view.lang, row, s);
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
    );
