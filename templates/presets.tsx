/** @jsxImportSource @kitajs/html */
/** The slot page's style presets: one click fills the form; operators can save their own. */
import { AlertText, confirmAttrs } from "./components";
import { pt } from "./i18n/providers";
import { Icon } from "./icons";
import { can, type View } from "./view";

export interface PresetCardView {
  id: string;
  kind: "curated" | "custom";
  name: string;
  description: string | null;
  sampleUrl: string | null;
  providerLabels: string[];
  createdBy: string | null;
}

function ApplyButton({ v, slotId, p }: { v: View; slotId: string; p: PresetCardView }): JSX.Element {
  return (
    <button
      type="button"
      class="btn small"
      hx-get={`/slots/${slotId}/form`}
      hx-vals={JSON.stringify({ preset: p.id })}
      hx-include="#slot-form"
      hx-target="#slot-form"
      hx-swap="outerHTML"
      data-preset={p.id}
      aria-label={`${pt(v).presets.apply}: ${p.name}`}
    >
      <Icon name="check" />
      <span safe>{pt(v).presets.apply}</span>
    </button>
  );
}

export function PresetsCard({
  v,
  slotId,
  presets,
  message,
  error,
}: {
  v: View;
  slotId: string;
  presets: PresetCardView[];
  message?: string;
  error?: string;
}): JSX.Element {
  const t = pt(v).presets;
  const writable = can(v, "slots:write");
  const curated = presets.filter((p) => p.kind === "curated");
  const mine = presets.filter((p) => p.kind === "custom");
  return (
    // a long card on a phone: it folds (app.js closes it there on load; a tap opens it)
    <details class="card collapsible" id="presets-card" open data-fold-on-phone>
      <summary>
        <h2 safe>{`${t.title} (${presets.length})`}</h2>
      </summary>
      <p class="hint" safe>
        {t.hint}
      </p>
      <AlertText kind="success" text={message} />
      <AlertText kind="error" text={error} />
      <div class="preset-grid">
        {curated.map((p) => (
          <div class="preset-card" data-preset-card={p.id}>
            {p.sampleUrl ? <img src={p.sampleUrl} alt="" loading="lazy" width="240" height="180" /> : ""}
            <strong safe>{p.name}</strong>
            {p.description ? (
              <span class="small muted" safe>
                {p.description}
              </span>
            ) : (
              ""
            )}
            <span class="small muted" safe>
              {t.providers(p.providerLabels.join(", "))}
            </span>
            {writable ? <ApplyButton v={v} slotId={slotId} p={p} /> : ""}
          </div>
        ))}
      </div>
      {mine.length ? (
        <>
          <h3 safe>{t.mine}</h3>
          <div class="preset-grid">
            {mine.map((p) => (
              <div class="preset-card" data-preset-card={p.id}>
                <strong safe>{p.name}</strong>
                <span class="small muted" safe>
                  {`${p.providerLabels.join(", ")} · ${t.by(p.createdBy ?? "—")}`}
                </span>
                {writable ? (
                  <div class="row">
                    <ApplyButton v={v} slotId={slotId} p={p} />
                    <button
                      type="button"
                      class="btn small danger ghost"
                      hx-post={`/slots/${slotId}/presets/${p.id}/delete`}
                      {...confirmAttrs(v.t.console.actions.removePreset, t.confirmRemove)}
                      hx-target="#presets-card"
                      hx-swap="outerHTML"
                      safe
                    >
                      {t.remove}
                    </button>
                  </div>
                ) : (
                  ""
                )}
              </div>
            ))}
          </div>
        </>
      ) : (
        ""
      )}
      {writable ? (
        <form
          class="row"
          hx-post={`/slots/${slotId}/presets`}
          hx-include="#slot-form"
          hx-target="#presets-card"
          hx-swap="outerHTML"
        >
          <label for="f-preset_name" class="sr-only" safe>
            {t.name}
          </label>
          <input type="text" id="f-preset_name" name="preset_name" maxlength="80" placeholder={t.name} />
          <button class="btn small ghost" type="submit" title={t.saveTitle} safe>
            {t.save}
          </button>
        </form>
      ) : (
        ""
      )}
    </details>
  );
}
