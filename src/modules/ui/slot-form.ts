/**
 * The slot form both ways: provider catalogue → form fields (from each operation's TypeBox schema:
 * titles, ranges, defaults, enums), and submitted form values → the body of `updateSlot` (numbers
 * and booleans coerced by the schema; a value that does not parse is passed on as typed, so the
 * service reports it against its field).
 */
import type { TObject, TSchema } from "@sinclair/typebox";
import { dict, type Lang } from "../../../templates/i18n/index";
import type {
  OperationChoice,
  ProviderChoice,
  SettingField,
  SlotFormModel,
} from "../../../templates/pages/slot";
import type { OperationSpec } from "../../providers/types";
import type { Services } from "../../services";

type Values = Record<string, string | string[] | undefined>;

interface SchemaLike {
  type?: string;
  title?: string;
  description?: string;
  minimum?: number;
  maximum?: number;
  default?: unknown;
  enum?: unknown[];
  anyOf?: { const?: unknown }[];
  const?: unknown;
}

export function settingFields(op: OperationSpec | undefined): SettingField[] {
  if (!op) return [];
  const schema = op.settings as TObject;
  const required = new Set(schema.required ?? []);
  const out: SettingField[] = [];
  for (const [key, raw] of Object.entries(schema.properties ?? {}) as [string, TSchema][]) {
    if (key === "prompt") continue;
    const s = raw as SchemaLike;
    const literals =
      s.enum ?? (s.anyOf?.every((a) => a.const !== undefined) ? s.anyOf.map((a) => a.const) : null);
    const kind: SettingField["kind"] = literals
      ? "select"
      : s.type === "integer"
        ? "integer"
        : s.type === "number"
          ? "number"
          : s.type === "boolean"
            ? "boolean"
            : "text";
    out.push({
      key,
      kind,
      title: s.title ?? key,
      description: s.description,
      minimum: s.minimum,
      maximum: s.maximum,
      default: s.default,
      options: literals ? literals.map(String) : undefined,
      required: required.has(key) && s.default === undefined,
    });
  }
  return out;
}

function last(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[v.length - 1] : v;
}

function coerce(f: SettingField, raw: string): unknown {
  if (f.kind === "integer" || f.kind === "number") {
    const n = Number(raw);
    return raw.trim() !== "" && Number.isFinite(n) ? n : raw;
  }
  if (f.kind === "boolean") return raw === "true";
  if (f.kind === "select" && f.options?.length) {
    // enum values may be numbers in the schema
    const n = Number(raw);
    const numeric = f.options.every((o) => o !== "" && !Number.isNaN(Number(o)));
    return numeric && Number.isFinite(n) ? n : raw;
  }
  return raw;
}

export interface SubmittedSlot {
  name: string;
  enabled: boolean;
  provider: string;
  operation: string;
  settings: Record<string, unknown>;
  outputFormat: string;
  sizeLimitMb: unknown;
  version: number | null;
}

/** Reads the form. An operation that does not belong to the chosen provider falls back to its first. */
export function readSlotForm(rt: Services, values: Values): SubmittedSlot {
  const provider = last(values.provider) ?? "local";
  const ops = rt.providers.get(provider)?.spec.operations ?? [];
  let operation = last(values.operation) ?? "";
  if (!ops.some((o) => o.id === operation)) operation = ops[0]?.id ?? operation;
  const op = rt.providers.operation(provider, operation);
  const settings: Record<string, unknown> = {};
  for (const f of settingFields(op)) {
    const raw = last(values[`s.${f.key}`]);
    if (raw === undefined || (raw === "" && f.kind !== "text")) continue;
    if (raw === "" && f.kind === "text") continue;
    settings[f.key] = coerce(f, raw);
  }
  const prompt = last(values.prompt);
  if (op && op.prompt !== "none" && prompt !== undefined && prompt.trim() !== "") settings.prompt = prompt;
  const size = last(values.size_limit_mb) ?? "";
  const version = Number(last(values.version));
  const enabled = ([] as string[]).concat(values.enabled ?? []).includes("true");
  return {
    name: (last(values.name) ?? "").trim(),
    enabled,
    provider,
    operation,
    settings,
    outputFormat: last(values.output_format) ?? "jpeg",
    sizeLimitMb: size.trim() !== "" && Number.isFinite(Number(size)) ? Number(size) : size,
    version: Number.isInteger(version) && version > 0 ? version : null,
  };
}

/** The body `updateSlot` takes (SPEC §9 shape). */
export function toUpdateBody(s: SubmittedSlot): Record<string, unknown> {
  return {
    name: s.name,
    enabled: s.enabled,
    provider: s.provider,
    operation: s.operation,
    settings: s.settings,
    size_limit_mb: s.sizeLimitMb,
    output_format: s.outputFormat,
  };
}

/** A settings field with its title, hint and choices in the page's language (schemas are English). */
function localizeField(f: SettingField, lang: Lang): SettingField {
  const t = dict(lang);
  const own = t.fields[f.key];
  if (!own) return f;
  let description = own.hint || undefined;
  // the model's examples are ids, the same in every language
  const examples = f.key === "model" ? f.description?.match(/e\.g\. (.+)$/)?.[1] : undefined;
  if (examples) description = `${own.hint} ${examples}`;
  return {
    ...f,
    title: own.title,
    description,
    optionLabels: f.options?.map((o) => t.fieldOptions[o] ?? o),
  };
}

export async function providerChoices(rt: Services, lang: Lang = "ru"): Promise<ProviderChoice[]> {
  const out: ProviderChoice[] = [];
  for (const p of rt.providers.list()) {
    const key = p.spec.needsApiKey ? await rt.settings.providerKeyStatus(p.spec.id) : null;
    out.push({
      id: p.spec.id,
      label: dict(lang).providers[p.spec.id] ?? p.spec.label,
      needsApiKey: p.spec.needsApiKey,
      needsPublicUrl: p.spec.needsPublicUrl,
      keyConfigured: key ? key.configured : true,
    });
  }
  return out;
}

export async function formModel(
  rt: Services,
  lang: Lang,
  s: Omit<SubmittedSlot, "version"> & { slotId: string; version: number },
): Promise<SlotFormModel> {
  const provider = rt.providers.get(s.provider);
  const op = rt.providers.operation(s.provider, s.operation);
  const operations: OperationChoice[] = (provider?.spec.operations ?? []).map((o) => ({
    id: o.id,
    label: o.label[lang],
    hint: o.hint?.[lang],
  }));
  if (!op) operations.unshift({ id: s.operation, label: s.operation });
  return {
    slotId: s.slotId,
    version: s.version,
    name: s.name,
    enabled: s.enabled,
    provider: s.provider,
    operation: s.operation,
    settings: s.settings,
    outputFormat: s.outputFormat,
    sizeLimitMb: typeof s.sizeLimitMb === "number" ? s.sizeLimitMb : 15,
    providers: await providerChoices(rt, lang),
    operations,
    fields: settingFields(op).map((f) => localizeField(f, lang)),
    prompt: op?.prompt ?? "optional",
    templateNeeds: (op?.templates ?? []).map((t) => ({
      role: t.role,
      label: t.label[lang],
      required: t.required,
    })),
    publicBaseUrlSet: !!(await rt.settings.current()).publicBaseUrl,
  };
}
