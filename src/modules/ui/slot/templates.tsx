/** @jsxImportSource @kitajs/html */
/** The slot page's templates card and its htmx actions: upload a template, remove one. */
import { Elysia } from "elysia";
import { SlotWarnings } from "../../../../templates/pages/slot/page";
import { type TemplateItem, TemplatesCard } from "../../../../templates/pages/slot/templates";
import { errorText, type View } from "../../../../templates/view";
import { AppError } from "../../../lib/errors";
import type { Services } from "../../../services";
import { MB, readUpload } from "../../ingest/service";
import { addTemplate, findSlot, getSlot, removeTemplate } from "../../slots/service";
import { uiContext } from "../context";
import { roleLabels } from "../labels";
import { render } from "../render";

type SlotDetail = Awaited<ReturnType<typeof getSlot>>;

/** The slot's templates as the card lists them. */
export function templateItems(templates: SlotDetail["templates"]): TemplateItem[] {
  return templates.map((t) => ({
    id: t.id,
    role: t.role,
    filename: t.filename,
    previewUrl: t.preview_url,
    width: t.width,
    height: t.height,
  }));
}

/**
 * The templates card (for the form's operation, saved or not) and the slot's warnings, for the
 * answers that change them: the card follows the operation chosen in the form at once, and the
 * "template missing" warning goes as soon as the template is there. `oob` sends both out of band
 * next to the form.
 */
export async function templatesCard(
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
        templates={templateItems(d.templates)}
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

export const uiSlotTemplatesRoutes = (services: Services) =>
  new Elysia({ name: "ui-slot-templates" })
    .use(uiContext(services))
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
