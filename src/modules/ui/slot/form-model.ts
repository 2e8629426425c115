/**
 * The slot form both ways: provider catalogue → form fields (from each operation's TypeBox schema:
 * titles, ranges, defaults, enums), and submitted form values → the body of `updateSlot` (numbers
 * and booleans coerced by the schema; a value that does not parse is passed on as typed, so the
 * service reports it against its field).
 */
import type { TObject, TSchema } from "@sinclair/typebox";
import { dict, type Lang } from "../../../../templates/i18n/index";
import type {
  OperationChoice,
  ProviderChoice,
  SettingField,
  SlotFormModel,
} from "../../../../templates/pages/slot/form";
import type { FallbackConfig } from "../../../domain/fallback";
import type { OperationSpec } from "../../../providers/types";
import type { Services } from "../../../services";

export type Values = Record<string, string | string[] | undefined>;

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
  /** The fallback section: null when "none" is chosen. */
  fallback: FallbackConfig | null;
  outputFormat: string;
  sizeLimitMb: unknown;
  version: number | null;
}

/**
 * One provider → operation → settings group of the form (the primary's, or the fallback's under
 * `fb.`). An operation that does not belong to the chosen provider becomes its first.
 */
function readProviderGroup(
  services: Services,
  values: Values,
  prefix: "" | "fb.",
  provider: string,
): FallbackConfig {
  const ops = services.providers.get(provider)?.spec.operations ?? [];
  let operation = last(values[`${prefix}operation`]) ?? "";
  if (!ops.some((o) => o.id === operation)) operation = ops[0]?.id ?? operation;
  const op = services.providers.operation(provider, operation);
  const settings: Record<string, unknown> = {};
  for (const f of settingFields(op)) {
    const raw = last(values[`${prefix}s.${f.key}`]);
    if (raw === undefined || raw === "") continue;
    settings[f.key] = coerce(f, raw);
  }
  const prompt = last(values[`${prefix}prompt`]);
  if (op && op.prompt !== "none" && prompt !== undefined && prompt.trim() !== "") settings.prompt = prompt;
  return { provider, operation, settings };
}

/** Reads the form. An operation that does not belong to the chosen provider falls back to its first. */
export function readSlotForm(services: Services, values: Values): SubmittedSlot {
  const { provider, operation, settings } = readProviderGroup(
    services,
    values,
    "",
    last(values.provider) ?? "local",
  );
  const fbProvider = last(values["fb.provider"]) ?? "";
  const fallback = fbProvider ? readProviderGroup(services, values, "fb.", fbProvider) : null;
  const size = last(values.size_limit_mb) ?? "";
  const version = Number(last(values.version));
  const enabled = ([] as string[]).concat(values.enabled ?? []).includes("true");
  return {
    name: (last(values.name) ?? "").trim(),
    enabled,
    provider,
    operation,
    settings,
    fallback,
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
    fallback: s.fallback,
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

export async function providerChoices(services: Services, lang: Lang = "ru"): Promise<ProviderChoice[]> {
  const out: ProviderChoice[] = [];
  for (const p of services.providers.list()) {
    const key = p.spec.needsApiKey ? await services.settings.providerKeyStatus(p.spec.id) : null;
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

/** The operations of a provider to choose from (the current one first if the catalogue lacks it). */
function operationChoices(
  services: Services,
  lang: Lang,
  provider: string,
  operation: string,
): OperationChoice[] {
  const operations: OperationChoice[] = (services.providers.get(provider)?.spec.operations ?? []).map(
    (o) => ({
      id: o.id,
      label: o.label[lang],
      hint: o.hint?.[lang],
    }),
  );
  if (!services.providers.operation(provider, operation))
    operations.unshift({ id: operation, label: operation });
  return operations;
}

export async function formModel(
  services: Services,
  lang: Lang,
  s: Omit<SubmittedSlot, "version"> & { slotId: string; version: number },
): Promise<SlotFormModel> {
  const op = services.providers.operation(s.provider, s.operation);
  const operations = operationChoices(services, lang, s.provider, s.operation);
  const fb = s.fallback;
  const fbOp = fb ? services.providers.operation(fb.provider, fb.operation) : undefined;
  const current = await services.settings.current();
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
    providers: await providerChoices(services, lang),
    operations,
    fields: settingFields(op).map((f) => localizeField(f, lang)),
    prompt: op?.prompt ?? "optional",
    templateNeeds: (op?.templates ?? []).map((t) => ({
      role: t.role,
      label: t.label[lang],
      required: t.required,
    })),
    publicBaseUrlSet: !!current.publicBaseUrl,
    fallback: {
      provider: fb?.provider ?? "",
      operation: fb?.operation ?? "",
      settings: fb?.settings ?? {},
      operations: fb ? operationChoices(services, lang, fb.provider, fb.operation) : [],
      fields: settingFields(fbOp).map((f) => localizeField(f, lang)),
      prompt: fbOp?.prompt ?? "optional",
      minSeconds: current.fallbackMinSeconds,
    },
  };
}

/** What a test run compares with the saved slot (the fields that change what a job does). */
export interface SavedProviderConfig {
  provider: string;
  operation: string;
  outputFormat: string;
  settings: Record<string, unknown> | null;
  fallback: FallbackConfig | null;
}

/**
 * Whether the submitted form would process a photo differently from the saved slot. Settings are
 * compared with their defaults filled in on both sides: `photochanger slot set` stores only what was
 * given while the form sends every field, and a default left out is the same default sent.
 */
export function differsFromSaved(
  services: Pick<Services, "providers">,
  s: SubmittedSlot,
  saved: SavedProviderConfig,
): boolean {
  const full = (c: FallbackConfig) =>
    services.providers.withDefaults(c.provider, c.operation, c.settings ?? {});
  const same = (a: FallbackConfig | null, b: FallbackConfig | null) =>
    a === null || b === null
      ? a === b
      : a.provider === b.provider && a.operation === b.operation && Bun.deepEquals(full(a), full(b));
  return (
    s.outputFormat !== saved.outputFormat ||
    !same(s, { provider: saved.provider, operation: saved.operation, settings: saved.settings ?? {} }) ||
    !same(s.fallback, saved.fallback ?? null)
  );
}
