/** @jsxImportSource @kitajs/html */
/** The slot page's presets card and its htmx actions: save the form as a preset, remove a preset. */
import { Elysia } from "elysia";
import { pt } from "../../../../templates/i18n/providers";
import { type PresetCardView, PresetsCard } from "../../../../templates/presets";
import { errorText, type View } from "../../../../templates/view";
import { AppError } from "../../../lib/errors";
import type { Services } from "../../../services";
import { createPreset, listAllPresets, removePreset } from "../../presets/service";
import { findSlot } from "../../slots/service";
import { uiContext } from "../context";
import { errorLine } from "../field-errors";
import { providerLabel } from "../labels";
import { render } from "../render";
import { readSlotForm, type Values } from "./form-model";

export async function presetCards(services: Services, v: View): Promise<PresetCardView[]> {
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

export const uiSlotPresetsRoutes = (services: Services) =>
  new Elysia({ name: "ui-slot-presets" })
    .use(uiContext(services))
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
    );
