/** @jsxImportSource @kitajs/html */
/**
 * What the slot page tells about the booth: how to point it at the slot, the fields it has been
 * sending, and the prompt as the provider would get it with those fields filled in.
 */
import { AlertText, Card, CardsTable, CopyField, FactRow } from "../../components";
import { Icon } from "../../icons";
import { can, type View } from "../../view";

export interface BoothFieldView {
  name: string;
  latest: string;
  jobs: number;
}

/** The slot's prompt with the booth's latest field values filled in (what the provider would get). */
export interface PromptPreviewModel {
  slotId: string;
  /** The prompt as written; null: the operation takes no prompt. */
  prompt: string | null;
  filled: string;
  placeholders: string[];
  /** Placeholders naming fields the booth has not sent recently (they become empty). */
  missing: string[];
}

/** How to point the booth at the slot: its URL, form fields, password and timeout. */
export function BoothCard({
  v,
  ingestUrl,
  syncSeconds,
}: {
  v: View;
  ingestUrl: string;
  syncSeconds: number;
}): JSX.Element {
  const recommended = syncSeconds + 10;
  return (
    <section class="card" id="booth-card">
      <h2>
        <Icon name="camera" /> <span safe>{v.t.slot.boothTitle}</span>
      </h2>
      <p class="hint" safe>
        {v.t.slot.boothHint}
      </p>
      <CopyField v={v} id="ingest-url" value={ingestUrl} label={v.t.slot.boothUrl} />
      <div class="table-wrap gap-top">
        <table>
          <tbody>
            <FactRow label={v.t.slot.boothFileField}>
              <code>fileToUpload</code>
            </FactRow>
            <FactRow label={v.t.slot.boothField}>
              <code>password</code>
            </FactRow>
            <FactRow label={v.t.slot.boothPassword}>
              <span safe>{v.t.slot.boothPasswordValue}</span>
              {can(v, "settings:read") ? (
                <>
                  {" "}
                  <a href="/settings#ingest-password" safe>
                    {v.t.nav.settings}
                  </a>
                </>
              ) : (
                ""
              )}
            </FactRow>
            <FactRow
              label={v.t.slot.boothTimeout}
              text={v.t.slot.boothTimeoutValue(recommended, syncSeconds)}
            />
          </tbody>
        </table>
      </div>
    </section>
  );
}

/** What the booth has been sending with its recent jobs. */
export function BoothFieldsCard({
  v,
  fields,
  jobsLookedAt,
}: {
  v: View;
  fields: BoothFieldView[];
  /** How many of the slot's recent jobs were looked at. */
  jobsLookedAt: number;
}): JSX.Element {
  return (
    <Card id="booth-fields" title={v.t.slot.fieldsTitle} hint={v.t.slot.fieldsHint(jobsLookedAt)}>
      {fields.length ? (
        <CardsTable
          rows={fields}
          rowAttrs={(f) => ({ "data-field": f.name })}
          columns={[
            { label: v.t.slot.fieldName, class: "break", cell: (f) => <code safe>{`{${f.name}}`}</code> },
            {
              label: v.t.slot.fieldLatest,
              mono: true,
              class: "small break",
              text: (f) => (f.latest.length > 80 ? `${f.latest.slice(0, 79)}…` : f.latest),
            },
            { label: v.t.slot.fieldJobs, num: true, text: (f) => String(f.jobs) },
          ]}
        />
      ) : (
        <p class="muted" safe>
          {v.t.slot.fieldsEmpty}
        </p>
      )}
    </Card>
  );
}

export function PromptPreview({ v, p }: { v: View; p: PromptPreviewModel }): JSX.Element {
  return (
    <div id="prompt-preview" class="stack">
      <h3 safe>{v.t.slot.previewTitle}</h3>
      {p.prompt === null ? (
        <p class="muted" safe>
          {v.t.slot.previewNoPrompt}
        </p>
      ) : p.placeholders.length === 0 ? (
        <p class="muted" safe>
          {v.t.slot.previewNone}
        </p>
      ) : (
        <>
          <p class="hint" safe>
            {v.t.slot.previewHint}
          </p>
          <blockquote class="mono small break" translate="no" data-filled-prompt safe>
            {p.filled}
          </blockquote>
          <AlertText
            kind="warn"
            text={
              p.missing.length
                ? v.t.slot.previewMissing(p.missing.map((n) => `{${n}}`).join(", "))
                : undefined
            }
          />
        </>
      )}
    </div>
  );
}
