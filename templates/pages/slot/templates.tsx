/** @jsxImportSource @kitajs/html */
/** The slot page's templates card: the images each role of the operation takes, upload and removal. */
import { AlertText, confirmAttrs, DropZone } from "../../components";
import { Icon } from "../../icons";
import { can, type View } from "../../view";
import type { TemplateNeedView } from "./form";

export interface TemplateItem {
  id: string;
  role: string;
  filename: string | null;
  previewUrl: string;
  width: number | null;
  height: number | null;
}

export function TemplatesCard({
  v,
  slotId,
  needs,
  templates,
  error,
  uploaded,
  oob,
  roleNames = {},
}: {
  v: View;
  slotId: string;
  /** Every role's name (a template kept from another operation is named too, never "style"). */
  roleNames?: Record<string, string>;
  needs: TemplateNeedView[];
  templates: TemplateItem[];
  error?: string;
  uploaded?: boolean;
  oob?: boolean;
}): JSX.Element {
  const swap = oob ? "true" : undefined;
  const writable = can(v, "slots:write");
  const roles = [
    ...needs.map((n) => n.role),
    ...templates.map((t) => t.role).filter((r) => !needs.some((n) => n.role === r)),
  ];
  const labelOf = (role: string) => needs.find((n) => n.role === role)?.label ?? roleNames[role] ?? role;
  if (!roles.length) return <section id="templates-card" hx-swap-oob={swap}></section>;
  return (
    <section id="templates-card" class="card" hx-swap-oob={swap}>
      <h2>
        <Icon name="image" /> <span safe>{v.t.slot.templates}</span>
      </h2>
      <p class="hint" safe>
        {v.t.slot.templatesHint}
      </p>
      <AlertText kind="error" text={error} />
      <AlertText kind="success" text={uploaded ? v.t.slot.templateUploaded : undefined} />
      {roles.map((role) => {
        const mine = templates.filter((t) => t.role === role);
        return (
          <div class="stack gap-top" data-role={role}>
            <h3 safe>{labelOf(role)}</h3>
            {mine.length ? (
              <div class="templates">
                {mine.map((t) => (
                  <div class="template-card" data-template-id={t.id}>
                    <img src={t.previewUrl} alt={t.filename ?? role} loading="lazy" />
                    <div class="row small template-meta">
                      <span class="muted mono" safe>
                        {t.width && t.height ? `${t.width}×${t.height}` : (t.filename ?? "")}
                      </span>
                      <span class="spacer"></span>
                      {writable ? (
                        <button
                          type="button"
                          class="btn small danger ghost"
                          hx-post={`/slots/${slotId}/templates/${t.id}/delete`}
                          {...confirmAttrs(
                            v.t.console.actions.removeTemplate,
                            needs.some((n) => n.role === role && n.required) && mine.length === 1
                              ? v.t.slot.confirmRemoveLastRequired(labelOf(role))
                              : v.t.slot.confirmRemoveTemplate,
                          )}
                          hx-target="#templates-card"
                          hx-swap="outerHTML"
                          title={v.t.slot.removeTemplate}
                        >
                          <Icon name="trash" />
                          <span safe>{v.t.common.remove}</span>
                        </button>
                      ) : (
                        ""
                      )}
                    </div>
                  </div>
                ))}
              </div>
            ) : (
              <p class="muted small" safe>
                {v.t.slot.noTemplates}
              </p>
            )}
            {writable ? (
              <form
                hx-post={`/slots/${slotId}/templates`}
                hx-encoding="multipart/form-data"
                hx-target="#templates-card"
                hx-swap="outerHTML"
                class="stack"
              >
                <input type="hidden" name="role" value={role} />
                <DropZone
                  id={`drop-template-${role}`}
                  name="file"
                  label={v.t.slot.dropTemplate}
                  accept="image/jpeg,image/png,image/webp"
                />
                <div class="row" data-when-file hidden>
                  <button class="btn small" type="submit">
                    <Icon name="upload" />
                    <span safe>{v.t.slot.upload}</span>
                  </button>
                  <button
                    type="button"
                    class="btn small ghost"
                    data-clear-drop={`drop-template-${role}`}
                    safe
                  >
                    {v.t.common.remove}
                  </button>
                </div>
              </form>
            ) : (
              ""
            )}
          </div>
        );
      })}
    </section>
  );
}
