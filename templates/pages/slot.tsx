/** @jsxImportSource @kitajs/html */
/**
 * The slot page: configuration generated from the provider catalogue (provider → operation →
 * fields), templates, a test run with the result inline, the booth's settings, recent results
 * and recent jobs.
 */

import { OUTPUT_FORMATS } from "../../src/domain/slots";
import type { SlotAttention } from "../../src/modules/attention/service";
import { refusalText, SlotTrouble } from "../attention";
import {
  Alert,
  AlertText,
  CopyField,
  confirmAttrs,
  DropZone,
  Field,
  type JobRowView,
  JobsTable,
  PageNav,
  ResultCard,
  type ResultItem,
} from "../components";
import type { FieldErrors } from "../forms";
import { pt } from "../i18n/providers";
import { Icon } from "../icons";
import { Layout } from "../layout";
import { type PresetCardView, PresetsCard } from "../presets";
import { can, fmtDateTime, fmtDuration, slotName, type View } from "../view";

/** One settings field of an operation, derived from its TypeBox schema. */
export interface SettingField {
  key: string;
  kind: "integer" | "number" | "boolean" | "select" | "text";
  title: string;
  description?: string;
  minimum?: number;
  maximum?: number;
  default?: unknown;
  options?: string[];
  /** How each option reads (same order as `options`); the values themselves are sent. */
  optionLabels?: string[];
  required: boolean;
}

export interface OperationChoice {
  id: string;
  label: string;
  hint?: string;
}

export interface ProviderChoice {
  id: string;
  label: string;
  needsApiKey: boolean;
  needsPublicUrl: boolean;
  keyConfigured: boolean;
}

export interface TemplateNeedView {
  role: string;
  label: string;
  required: boolean;
}

export interface SlotFormModel {
  slotId: string;
  version: number;
  name: string;
  enabled: boolean;
  provider: string;
  operation: string;
  settings: Record<string, unknown>;
  outputFormat: string;
  sizeLimitMb: number;
  providers: ProviderChoice[];
  operations: OperationChoice[];
  fields: SettingField[];
  prompt: "required" | "optional" | "none";
  templateNeeds: TemplateNeedView[];
  publicBaseUrlSet: boolean;
  /** The fallback section: the same provider-driven form, under `fb.` names; provider "" is none. */
  fallback: FallbackFormModel;
}

export interface FallbackFormModel {
  provider: string;
  operation: string;
  settings: Record<string, unknown>;
  operations: OperationChoice[];
  fields: SettingField[];
  prompt: "required" | "optional" | "none";
  /** Seconds of the deadline kept for the fallback (the `fallback_min_seconds` setting). */
  minSeconds: number;
}

export interface TemplateItem {
  id: string;
  role: string;
  filename: string | null;
  previewUrl: string;
  width: number | null;
  height: number | null;
}

export interface SlotPageModel {
  form: SlotFormModel;
  ingestUrl: string;
  syncSeconds: number;
  retentionHours: number;
  templates: TemplateItem[];
  results: ResultItem[];
  jobs: JobRowView[];
  warnings: string[];
  trouble?: SlotAttention;
  /** Refused booth requests per hour and reason (last 24 h). */
  refusals: { at: string; reason: string; count: number }[];
  presets?: PresetCardView[];
  /** Fields the booth sent with its recent jobs, and how many jobs were looked at. */
  boothFields: BoothFieldView[];
  boothFieldJobs: number;
  preview: PromptPreviewModel;
}

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

function fieldValue(f: SettingField, settings: Record<string, unknown>): string {
  const v = settings[f.key] ?? f.default;
  return v === undefined || v === null ? "" : String(v);
}

function SettingInput({
  v,
  f,
  settings,
  error,
  disabled,
  prefix = "",
}: {
  v: View;
  f: SettingField;
  settings: Record<string, unknown>;
  error?: string;
  disabled: boolean;
  /** `fb.` for the fallback's fields (form names `fb.s.<key>`, errors `fallback.settings.<key>`). */
  prefix?: "" | "fb.";
}): JSX.Element {
  const name = `${prefix}s.${f.key}`;
  const id = prefix ? `f-fb-s-${f.key}` : `f-s-${f.key}`;
  const errorField = prefix ? `fallback.settings.${f.key}` : `settings.${f.key}`;
  const hints: string[] = [];
  if (f.description) hints.push(f.description);
  if (f.minimum !== undefined && f.maximum !== undefined) {
    hints.push(v.t.slot.range(String(f.minimum), String(f.maximum)));
  }
  if (f.default !== undefined) {
    const i = f.options?.indexOf(String(f.default)) ?? -1;
    const shown =
      typeof f.default === "boolean"
        ? f.default
          ? v.t.common.yes
          : v.t.common.no
        : i >= 0
          ? (f.optionLabels?.[i] ?? String(f.default))
          : String(f.default);
    hints.push(v.t.slot.byDefault(shown));
  }
  const hint = hints.join(" · ");
  if (f.kind === "boolean") {
    return (
      <div class={error ? "field invalid" : "field"} data-field={errorField}>
        <input type="hidden" name={name} value="false" />
        <label class="checkbox" for={id}>
          <input
            type="checkbox"
            id={id}
            name={name}
            value="true"
            checked={fieldValue(f, settings) === "true"}
            disabled={disabled}
          />
          <span safe>{f.title}</span>
        </label>
        {hint ? (
          <p class="hint" safe>
            {hint}
          </p>
        ) : (
          ""
        )}
        {error ? (
          <p class="field-error" safe>
            {error}
          </p>
        ) : (
          ""
        )}
      </div>
    );
  }
  const value = fieldValue(f, settings);
  return (
    <Field label={f.title} name={errorField} id={id} error={error} hint={hint} required={f.required}>
      {f.kind === "select" ? (
        <select id={id} name={name} disabled={disabled}>
          {(f.options ?? []).map((o, i) => (
            <option value={o} selected={o === value} safe>
              {f.optionLabels?.[i] ?? o}
            </option>
          ))}
        </select>
      ) : f.kind === "text" ? (
        <input type="text" id={id} name={name} value={value} disabled={disabled} />
      ) : (
        <input
          type="number"
          id={id}
          name={name}
          value={value}
          min={f.minimum === undefined ? undefined : String(f.minimum)}
          max={f.maximum === undefined ? undefined : String(f.maximum)}
          step={f.kind === "integer" ? "1" : "any"}
          inputmode={f.kind === "integer" ? "numeric" : "decimal"}
          disabled={disabled}
        />
      )}
    </Field>
  );
}

function Needs({ v, m }: { v: View; m: SlotFormModel }): JSX.Element {
  const items: string[] = [v.t.slot.needsPhoto];
  if (m.prompt === "required") items.push(v.t.slot.needsPrompt);
  if (m.prompt === "optional") items.push(v.t.slot.needsPromptOptional);
  for (const n of m.templateNeeds) {
    items.push(n.required ? v.t.slot.needsTemplate(n.label) : v.t.slot.needsTemplateOptional(n.label));
  }
  const provider = m.providers.find((p) => p.id === m.provider);
  if (provider?.needsApiKey) items.push(v.t.slot.needsApiKey);
  return (
    <div class="stack" id="needs">
      <p class="hint">
        <span safe>{v.t.slot.needs}</span> <span safe>{items.join("; ")}</span>.
      </p>
      {provider?.needsApiKey && !provider.keyConfigured ? (
        <Alert kind="warn">
          <span safe>{v.t.slot.apiKeyMissing}</span>
        </Alert>
      ) : (
        ""
      )}
      {provider?.needsPublicUrl && !m.publicBaseUrlSet ? (
        <Alert kind="warn">
          <span safe>{v.t.slot.publicUrlMissing}</span>
        </Alert>
      ) : (
        ""
      )}
    </div>
  );
}

/**
 * The fallback provider (SPEC §11): the same provider → operation → fields form as the primary,
 * under `fb.` names; "none" switches it off. Changing its provider or operation re-renders the form.
 */
function FallbackSection({
  v,
  m,
  e,
  writable,
  refresh,
}: {
  v: View;
  m: SlotFormModel;
  e: FieldErrors;
  writable: boolean;
  refresh: Record<string, string>;
}): JSX.Element {
  const fb = m.fallback;
  const op = fb.operations.find((o) => o.id === fb.operation);
  return (
    <fieldset class="bare params" id="fallback-section" data-fallback-section>
      <legend class="eyebrow" safe>
        {v.t.slot.fallbackTitle}
      </legend>
      <p class="hint" safe>
        {v.t.slot.fallbackHint(fb.minSeconds)}
      </p>
      <div class="grid-2">
        <Field
          label={v.t.slot.provider}
          name="fallback.provider"
          id="f-fb-provider"
          error={e["fallback.provider"] ?? e.fallback}
        >
          <select id="f-fb-provider" name="fb.provider" disabled={!writable} {...refresh}>
            <option value="" selected={fb.provider === ""} safe>
              {v.t.slot.fallbackNone}
            </option>
            {m.providers.map((p) => (
              <option value={p.id} selected={p.id === fb.provider} safe>
                {p.label}
              </option>
            ))}
          </select>
        </Field>
        {fb.provider ? (
          <Field
            label={v.t.slot.operation}
            name="fallback.operation"
            id="f-fb-operation"
            error={e["fallback.operation"]}
            hint={op?.hint}
          >
            <select id="f-fb-operation" name="fb.operation" disabled={!writable} {...refresh}>
              {fb.operations.map((o) => (
                <option value={o.id} selected={o.id === fb.operation} safe>
                  {o.label}
                </option>
              ))}
            </select>
          </Field>
        ) : (
          ""
        )}
      </div>
      {fb.provider && fb.prompt !== "none" ? (
        <Field
          label={v.t.slot.prompt}
          name="fallback.settings.prompt"
          id="f-fb-prompt"
          error={e["fallback.settings.prompt"]}
          hint={v.t.slot.fallbackPromptHint}
          required={fb.prompt === "required"}
        >
          <textarea id="f-fb-prompt" name="fb.prompt" rows="3" disabled={!writable} safe>
            {String(fb.settings.prompt ?? "")}
          </textarea>
        </Field>
      ) : (
        ""
      )}
      {fb.provider && fb.fields.length ? (
        <div class="grid-2">
          {fb.fields.map((f) => (
            <SettingInput
              v={v}
              f={f}
              settings={fb.settings}
              error={e[`fallback.settings.${f.key}`]}
              disabled={!writable}
              prefix="fb."
            />
          ))}
        </div>
      ) : (
        ""
      )}
    </fieldset>
  );
}

export interface FormOutcome {
  saved?: boolean;
  conflict?: boolean;
  errors?: FieldErrors;
  message?: string;
  /** An informational line, e.g. "preset applied — review and save". */
  notice?: string;
}

/** The configuration form; re-rendered whole when the provider/operation changes or after saving. */
export function SlotForm({
  v,
  m,
  outcome = {},
  dirty = false,
}: {
  v: View;
  m: SlotFormModel;
  outcome?: FormOutcome;
  /** The form holds values that are not saved (re-rendered after a provider/operation change). */
  dirty?: boolean;
}): JSX.Element {
  const writable = can(v, "slots:write");
  const e = outcome.errors ?? {};
  const op = m.operations.find((o) => o.id === m.operation);
  const refresh = {
    "hx-get": `/slots/${m.slotId}/form`,
    "hx-trigger": "change",
    "hx-target": "#slot-form",
    "hx-swap": "outerHTML",
    "hx-include": "#slot-form",
  };
  return (
    <form
      id="slot-form"
      class="card"
      hx-post={`/slots/${m.slotId}`}
      hx-target="this"
      hx-swap="outerHTML"
      method="post"
      action={`/slots/${m.slotId}`}
      novalidate
      data-dirty={dirty ? "true" : "false"}
      data-unsaved-warning={v.t.slot.leaveWarning}
    >
      <div class="card-head">
        <h2>
          <Icon name="settings" /> <span safe>{v.t.slot.settingsTitle}</span>
        </h2>
        <span class="pill warn unsaved-marker" data-unsaved-marker safe>
          {v.t.slot.unsaved}
        </span>
      </div>
      {outcome.saved ? (
        <Alert kind="success">
          <span safe>{v.t.slot.saved}</span>
        </Alert>
      ) : (
        ""
      )}
      {outcome.conflict ? (
        <Alert kind="error">
          <span safe>{v.t.slot.conflict}</span>{" "}
          <a href={`/slots/${m.slotId}`} safe>
            {v.t.slot.reload}
          </a>
        </Alert>
      ) : (
        ""
      )}
      {Object.keys(e).length ? (
        <Alert kind="error">
          <span safe>{v.t.slot.fixErrors}</span>
        </Alert>
      ) : (
        ""
      )}
      {outcome.message ? (
        <Alert kind="error">
          <span safe>{outcome.message}</span>
        </Alert>
      ) : (
        ""
      )}
      {outcome.notice ? (
        <Alert kind="info" answer>
          <span safe>{outcome.notice}</span>
        </Alert>
      ) : (
        ""
      )}
      {writable ? (
        ""
      ) : (
        <Alert kind="info">
          <span safe>{v.t.common.readOnly}</span>
        </Alert>
      )}
      <input type="hidden" name="version" value={String(m.version)} />
      <Field label={v.t.slot.name} name="name" error={e.name} hint={v.t.slot.nameHint} required>
        <input
          type="text"
          id="f-name"
          name="name"
          value={m.name}
          maxlength="80"
          placeholder={v.t.slot.namePlaceholder}
          disabled={!writable}
        />
      </Field>
      <div class="field">
        <input type="hidden" name="enabled" value="false" />
        <label class="switch">
          <input
            type="checkbox"
            name="enabled"
            value="true"
            checked={m.enabled}
            disabled={!writable}
            data-confirm-off={v.t.dashboard.confirmOff(m.slotId)}
            data-confirm-title={v.t.console.actions.switchOff}
          />
          <span class="track"></span>
          <span safe>{v.t.slot.enabled}</span>
        </label>
      </div>
      <div class="grid-2">
        <Field label={v.t.slot.provider} name="provider" error={e.provider} required>
          <select id="f-provider" name="provider" disabled={!writable} {...refresh}>
            {m.providers.map((p) => (
              <option value={p.id} selected={p.id === m.provider} safe>
                {p.label}
              </option>
            ))}
          </select>
        </Field>
        <Field label={v.t.slot.operation} name="operation" error={e.operation} hint={op?.hint} required>
          <select id="f-operation" name="operation" disabled={!writable} {...refresh}>
            {m.operations.map((o) => (
              <option value={o.id} selected={o.id === m.operation} safe>
                {o.label}
              </option>
            ))}
          </select>
        </Field>
      </div>
      <Needs v={v} m={m} />
      {m.prompt !== "none" ? (
        <Field
          label={v.t.slot.prompt}
          name="settings.prompt"
          id="f-prompt"
          error={e["settings.prompt"]}
          hint={v.t.slot.promptHint}
          required={m.prompt === "required"}
        >
          <textarea
            id="f-prompt"
            name="prompt"
            rows="6"
            placeholder={v.t.slot.promptPlaceholder}
            disabled={!writable}
            hx-get={`/slots/${m.slotId}/prompt-preview`}
            hx-trigger="input changed delay:400ms"
            hx-target="#prompt-preview"
            hx-swap="outerHTML"
            hx-sync="this:replace"
            safe
          >
            {String(m.settings.prompt ?? "")}
          </textarea>
        </Field>
      ) : (
        ""
      )}
      {m.fields.length ? (
        <fieldset class="bare params">
          <legend class="eyebrow" safe>
            {v.t.slot.params}
          </legend>
          <div class="grid-2">
            {m.fields.map((f) => (
              <SettingInput
                v={v}
                f={f}
                settings={m.settings}
                error={e[`settings.${f.key}`]}
                disabled={!writable}
              />
            ))}
          </div>
        </fieldset>
      ) : (
        ""
      )}
      {e.settings ? (
        <p class="field-error" safe>
          {e.settings}
        </p>
      ) : (
        ""
      )}
      <FallbackSection v={v} m={m} e={e} writable={writable} refresh={refresh} />
      <div class="grid-2">
        <Field label={v.t.slot.outputFormat} name="output_format" error={e.output_format}>
          <select id="f-output_format" name="output_format" disabled={!writable}>
            {OUTPUT_FORMATS.map((f) => (
              <option value={f} selected={f === m.outputFormat} safe>
                {v.t.slot.outputFormats[f] ?? f}
              </option>
            ))}
          </select>
        </Field>
        <Field
          label={v.t.slot.sizeLimit}
          name="size_limit_mb"
          error={e.size_limit_mb}
          hint={v.t.slot.sizeLimitHint}
        >
          <input
            type="number"
            id="f-size_limit_mb"
            name="size_limit_mb"
            min="1"
            max="50"
            step="1"
            value={String(m.sizeLimitMb)}
            disabled={!writable}
          />
        </Field>
      </div>
      {writable ? (
        <div class="row">
          <button class="btn" type="submit">
            <Icon name="check" />
            <span safe>{v.t.slot.save}</span>
          </button>
        </div>
      ) : (
        ""
      )}
    </form>
  );
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
      {uploaded ? (
        <Alert kind="success">
          <span safe>{v.t.slot.templateUploaded}</span>
        </Alert>
      ) : (
        ""
      )}
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

/** What the booth has been sending, and the prompt as the provider would get it. */
function BoothFieldsCard({ v, m }: { v: View; m: SlotPageModel }): JSX.Element {
  return (
    <section class="card" id="booth-fields">
      <h2 safe>{v.t.slot.fieldsTitle}</h2>
      <p class="hint" safe>
        {v.t.slot.fieldsHint(m.boothFieldJobs)}
      </p>
      {m.boothFields.length ? (
        <div class="table-wrap">
          <table class="cards-on-phone">
            <thead>
              <tr>
                <th safe>{v.t.slot.fieldName}</th>
                <th safe>{v.t.slot.fieldLatest}</th>
                <th class="num" safe>
                  {v.t.slot.fieldJobs}
                </th>
              </tr>
            </thead>
            <tbody>
              {m.boothFields.map((f) => (
                <tr data-field={f.name}>
                  <td data-label={v.t.slot.fieldName} class="break">
                    <code safe>{`{${f.name}}`}</code>
                  </td>
                  <td data-label={v.t.slot.fieldLatest} class="mono small break" safe>
                    {f.latest.length > 80 ? `${f.latest.slice(0, 79)}…` : f.latest}
                  </td>
                  <td class="num" data-label={v.t.slot.fieldJobs} safe>
                    {String(f.jobs)}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : (
        <p class="muted" safe>
          {v.t.slot.fieldsEmpty}
        </p>
      )}
    </section>
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
          {p.missing.length ? (
            <Alert kind="warn">
              <span safe>{v.t.slot.previewMissing(p.missing.map((n) => `{${n}}`).join(", "))}</span>
            </Alert>
          ) : (
            ""
          )}
        </>
      )}
    </div>
  );
}

export interface TestOutcome {
  ok: boolean;
  jobId?: string;
  seconds?: string;
  queueWaitMs?: number | null;
  providerMs?: number | null;
  totalMs?: number | null;
  error?: string;
  /** The provider's own words about the failure (English, quoted as such). */
  raw?: string;
  /** The test ran with form values that differ from the saved slot. */
  unsaved?: boolean;
  /** The primary failed and this fallback provider (its label) made the result. */
  viaFallback?: string;
}

export function TestResult({ v, r }: { v: View; r: TestOutcome }): JSX.Element {
  if (!r.ok) {
    return (
      <div id="test-result" class="test-result">
        <Alert kind="error">
          <div>
            <strong safe>{v.t.slot.testFailed}</strong>: <span safe>{r.error ?? ""}</span>
            {r.raw ? (
              <div class="small">
                <span safe>{v.t.jobs.providerSaid}</span>{" "}
                <q class="raw" lang="en" translate="no" safe>
                  {r.raw}
                </q>
              </div>
            ) : (
              ""
            )}
          </div>
        </Alert>
      </div>
    );
  }
  return (
    <div id="test-result" class="test-result stack" data-job-id={r.jobId}>
      <Alert kind="success">
        <span safe>{v.t.slot.testOk(r.seconds ?? "")}</span>
      </Alert>
      {r.unsaved ? (
        <Alert kind="warn" id="test-unsaved">
          <span safe>{v.t.slot.testUnsaved}</span>
        </Alert>
      ) : (
        ""
      )}
      {r.viaFallback ? (
        <Alert kind="warn" id="test-fallback">
          <span safe>{v.t.slot.testViaFallback(r.viaFallback)}</span>
        </Alert>
      ) : (
        ""
      )}
      <a href={`/public/results/${r.jobId}`} target="_blank" rel="noopener">
        <img src={`/public/results/${r.jobId}`} alt={v.t.slot.testTitle} />
      </a>
      <p class="hint" safe>
        {v.t.slot.timings(
          fmtDuration(v, r.queueWaitMs),
          fmtDuration(v, r.providerMs),
          fmtDuration(v, r.totalMs),
        )}
      </p>
      <div class="row">
        <a class="btn small" href={`/public/results/${r.jobId}?download=1`} download="">
          <Icon name="download" />
          <span safe>{v.t.common.download}</span>
        </a>
        <a class="btn small ghost" href={`/r/${r.jobId}`} target="_blank" rel="noopener">
          <Icon name="share" />
          <span safe>{v.t.common.share}</span>
        </a>
      </div>
    </div>
  );
}

function TestCard({
  v,
  slotId,
  fieldNames,
}: {
  v: View;
  slotId: string;
  /** The prompt's placeholders first, then the other fields the booth has sent. */
  fieldNames: string[];
}): JSX.Element {
  return (
    <section class="card" id="test-card">
      <h2>
        <Icon name="play" /> <span safe>{v.t.slot.testTitle}</span>
      </h2>
      <p class="hint" safe>
        {v.t.slot.testHint}
      </p>
      <form
        id="test-form"
        hx-post={`/slots/${slotId}/test`}
        hx-encoding="multipart/form-data"
        hx-include="#slot-form"
        hx-target="#test-result"
        hx-swap="outerHTML"
        hx-indicator="#test-progress"
        hx-disabled-elt="find button[type=submit]"
        data-timer
        class="stack"
      >
        <DropZone id="drop-test" name="test_image" label={v.t.slot.dropPhoto} />
        <fieldset class="bare" id="test-fields">
          <legend class="eyebrow" safe>
            {v.t.slot.testFields}
          </legend>
          <p class="hint" safe>
            {v.t.slot.testFieldsHint}
          </p>
          {[0, 1, 2].map((i) => (
            <div class="grid-2">
              <input
                type="text"
                name="test_field_name"
                maxlength="64"
                aria-label={v.t.slot.testFieldName}
                placeholder={v.t.slot.testFieldName}
                list="booth-field-names"
                value={fieldNames[i] ?? ""}
              />
              <input
                type="text"
                name="test_field_value"
                maxlength="2000"
                aria-label={v.t.slot.testFieldValue}
                placeholder={v.t.slot.testFieldValue}
              />
            </div>
          ))}
          <datalist id="booth-field-names">
            {fieldNames.map((n) => (
              <option value={n} />
            ))}
          </datalist>
        </fieldset>
        <div class="row">
          <button class="btn" type="submit" disabled data-needs-file>
            <Icon name="play" />
            <span safe>{v.t.slot.runTest}</span>
          </button>
          <div class="progress" id="test-progress" role="status">
            <span class="spinner"></span>
            <span safe>{v.t.slot.running}</span>
            <span class="muted small">
              <span safe>{v.t.slot.elapsed}</span> <span data-elapsed>0.0</span>
            </span>
          </div>
        </div>
      </form>
      <div id="test-result"></div>
    </section>
  );
}

function BoothCard({ v, m }: { v: View; m: SlotPageModel }): JSX.Element {
  const recommended = m.syncSeconds + 10;
  return (
    <section class="card" id="booth-card">
      <h2>
        <Icon name="camera" /> <span safe>{v.t.slot.boothTitle}</span>
      </h2>
      <p class="hint" safe>
        {v.t.slot.boothHint}
      </p>
      <CopyField v={v} id="ingest-url" value={m.ingestUrl} label={v.t.slot.boothUrl} />
      <div class="table-wrap gap-top">
        <table>
          <tbody>
            <tr>
              <th scope="row" safe>
                {v.t.slot.boothFileField}
              </th>
              <td>
                <code>fileToUpload</code>
              </td>
            </tr>
            <tr>
              <th scope="row" safe>
                {v.t.slot.boothField}
              </th>
              <td>
                <code>password</code>
              </td>
            </tr>
            <tr>
              <th scope="row" safe>
                {v.t.slot.boothPassword}
              </th>
              <td>
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
              </td>
            </tr>
            <tr>
              <th scope="row" safe>
                {v.t.slot.boothTimeout}
              </th>
              <td safe>{v.t.slot.boothTimeoutValue(recommended, m.syncSeconds)}</td>
            </tr>
          </tbody>
        </table>
      </div>
    </section>
  );
}

function RefusalsCard({ v, m }: { v: View; m: SlotPageModel }): JSX.Element {
  return (
    <section class="card" id="refusals">
      <div class="card-head">
        <h2 safe>{v.t.attention.refusalsTitleSlot}</h2>
        <span class="hint" safe>
          {v.t.slot.refusalsHint}
        </span>
      </div>
      {m.refusals.length ? (
        <div class="table-wrap">
          <table class="cards-on-phone">
            <thead>
              <tr>
                <th safe>{v.t.slot.refusalHour}</th>
                <th safe>{v.t.jobs.reason}</th>
                <th class="num" safe>
                  {v.t.slot.refusalCount}
                </th>
              </tr>
            </thead>
            <tbody>
              {m.refusals.map((r) => (
                <tr data-reason={r.reason}>
                  <td data-label={v.t.slot.refusalHour} safe>
                    {fmtDateTime(v, r.at)}
                  </td>
                  <td data-label={v.t.jobs.reason} safe>
                    {refusalText(v, r.reason)}
                  </td>
                  <td class="num" data-label={v.t.slot.refusalCount} safe>
                    {String(r.count)}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : (
        <p class="muted" safe>
          {v.t.attention.refusalsEmpty}
        </p>
      )}
    </section>
  );
}

/** The slot's configuration warnings (swapped out of band when a save or an upload changes them). */
export function SlotWarnings({
  v,
  warnings,
  labels = {},
  oob,
}: {
  v: View;
  warnings: string[];
  /** Template role → its name in the page's language. */
  labels?: Record<string, string>;
  oob?: boolean;
}): JSX.Element {
  return (
    <div id="slot-warnings" hx-swap-oob={oob ? "true" : undefined}>
      {warnings.map((w) => (
        <Alert kind="warn">
          <span safe>
            {w.startsWith("template_missing:")
              ? v.t.slot.templateMissing(
                  labels[w.slice("template_missing:".length)] ?? w.slice("template_missing:".length),
                )
              : (v.t.slot.warnings[w] ?? v.t.slot.warningUnknown)}
          </span>
        </Alert>
      ))}
    </div>
  );
}

/** Downloads every kept result of the slot with an index (GET /api/slots/{id}/export). */
export function ExportButton({ v, slotId }: { v: View; slotId: string }): JSX.Element {
  return (
    <a
      class="btn small ghost"
      href={`/api/slots/${slotId}/export`}
      download=""
      title={v.t.slot.exportHint}
      data-export={slotId}
    >
      <Icon name="download" />
      <span safe>{v.t.slot.exportZip}</span>
    </a>
  );
}

function testFieldNames(m: SlotPageModel): string[] {
  const names = [...m.preview.placeholders];
  for (const f of m.boothFields) if (!names.includes(f.name)) names.push(f.name);
  return names;
}

export function SlotPage({ v, m }: { v: View; m: SlotPageModel }): JSX.Element {
  const f = m.form;
  return (
    <Layout v={v} title={`${slotName(v, f.name)} · ${f.slotId}`}>
      <div class="page-head">
        <div>
          <a href="/" class="small" safe>
            {v.t.slot.back}
          </a>
          <div class="eyebrow" safe>
            {`${v.t.slot.eyebrow} ${f.slotId}`}
          </div>
          <h1 safe>{slotName(v, f.name)}</h1>
        </div>
        <div class="row">
          {can(v, "stats:read") ? (
            <a class="btn small ghost" href={`/stats/slots/${f.slotId}`}>
              <Icon name="stats" />
              <span safe>{v.t.stats.slotTitle}</span>
            </a>
          ) : (
            ""
          )}
          <span class={f.enabled ? "pill ok" : "pill off"} safe>
            {f.enabled ? v.t.common.enabled : v.t.common.disabled}
          </span>
        </div>
      </div>
      <PageNav
        v={v}
        links={[
          ["#slot-form", v.t.slot.settingsTitle],
          ...(can(v, "slots:write") ? [["#test-card", v.t.slot.testTitle] as [string, string]] : []),
          ["#booth-card", v.t.slot.boothTitle],
          ...(m.presets ? [["#presets-card", pt(v).presets.title] as [string, string]] : []),
          ["#recent-results", v.t.slot.recentResults],
          ["#recent-jobs", v.t.slot.recentJobs],
        ]}
      />
      <SlotTrouble v={v} s={m.trouble} />
      <SlotWarnings
        v={v}
        warnings={m.warnings}
        labels={Object.fromEntries(m.form.templateNeeds.map((n) => [n.role, n.label]))}
      />
      <div class="grid-2">
        <div>
          <SlotForm v={v} m={f} />
          <TemplatesCard v={v} slotId={f.slotId} needs={f.templateNeeds} templates={m.templates} />
        </div>
        <div>
          {can(v, "slots:write") ? <TestCard v={v} slotId={f.slotId} fieldNames={testFieldNames(m)} /> : ""}
          <BoothCard v={v} m={m} />
          <BoothFieldsCard v={v} m={m} />
          <section class="card">
            <PromptPreview v={v} p={m.preview} />
          </section>
        </div>
      </div>
      {m.presets ? <PresetsCard v={v} slotId={f.slotId} presets={m.presets} /> : ""}
      <section class="card" id="recent-results">
        <div class="card-head">
          <h2 safe>{v.t.slot.recentResults}</h2>
          <span class="hint" safe>
            {v.t.slot.recentResultsHint(m.retentionHours)}
          </span>
          {can(v, "stats:read") ? <ExportButton v={v} slotId={f.slotId} /> : ""}
        </div>
        {m.results.length ? (
          <div class="gallery">
            {m.results.map((r) => (
              <ResultCard v={v} r={r} />
            ))}
          </div>
        ) : (
          <p class="muted" safe>
            {v.t.slot.noRecentResults}
          </p>
        )}
      </section>
      <RefusalsCard v={v} m={m} />
      <section class="card" id="recent-jobs">
        <div class="card-head">
          <h2 safe>{v.t.slot.recentJobs}</h2>
          <a class="btn small ghost" href={`/jobs?slot=${f.slotId}`} safe>
            {v.t.nav.jobs}
          </a>
        </div>
        {m.jobs.length ? (
          <JobsTable v={v} jobs={m.jobs} />
        ) : (
          <p class="muted" safe>
            {v.t.slot.noRecentJobs}
          </p>
        )}
      </section>
    </Layout>
  );
}
