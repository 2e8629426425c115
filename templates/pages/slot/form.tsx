/** @jsxImportSource @kitajs/html */
/**
 * The slot page's configuration form, generated from the provider catalogue (provider → operation →
 * fields, the fallback's section under `fb.` names); re-rendered whole when the provider or the
 * operation changes, and after a save.
 */
import { OUTPUT_FORMATS } from "../../../src/domain/slots";
import { Alert, AlertText, Field, Para } from "../../components";
import type { FieldErrors } from "../../forms";
import { Icon } from "../../icons";
import { can, type View } from "../../view";

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
        <Para class="hint" text={hint} />
        <Para class="field-error" text={error} />
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
      <AlertText
        kind="warn"
        text={provider?.needsApiKey && !provider.keyConfigured ? v.t.slot.apiKeyMissing : undefined}
      />
      <AlertText
        kind="warn"
        text={provider?.needsPublicUrl && !m.publicBaseUrlSet ? v.t.slot.publicUrlMissing : undefined}
      />
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
    // One request at a time on the form, the newest: a refresh replaces one still on its way (else
    // the older answer, coming last, puts back a choice already changed), and a save replaces it too
    // (else the refreshed form, answering late, replaces the saved one and its "saved" message).
    "hx-sync": "closest form:replace",
  };
  return (
    <form
      id="slot-form"
      class="card"
      hx-post={`/slots/${m.slotId}`}
      hx-target="this"
      hx-swap="outerHTML"
      hx-sync="this:replace"
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
      <AlertText kind="success" text={outcome.saved ? v.t.slot.saved : undefined} />
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
      <AlertText kind="error" text={Object.keys(e).length ? v.t.slot.fixErrors : undefined} />
      <AlertText kind="error" text={outcome.message} />
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
      <Para class="field-error" text={e.settings} />
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
