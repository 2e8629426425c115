/**
 * Style presets: the curated ones shipped in code and the ones operators saved from a slot
 * (PostgreSQL, audited). Applying a preset gives the slot form a provider, operation and settings;
 * nothing is saved until the operator saves the slot, so everything stays editable.
 */
import { randomUUID } from "node:crypto";
import type { Lang } from "../../../templates/i18n/index";
import { AppError } from "../../lib/errors";
import { validationFailed } from "../../lib/validation";
import { CURATED_PRESETS, type CuratedPreset, curatedPreset } from "../../presets/catalogue";
import type { Services } from "../../services";
import type { PresetRow } from "../../store/presets";

type Deps = Pick<Services, "store" | "providers" | "settings" | "clock" | "log">;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const PRESET_NAME_MAX = 80;

export interface SlotChoice {
  provider: string;
  operation: string;
  settings: Record<string, unknown>;
}

export interface PresetView {
  id: string;
  kind: "curated" | "custom";
  name: string;
  description: string | null;
  sample_url: string | null;
  providers: string[];
  created_by: string | null;
  created_at: string | null;
  variants: SlotChoice[];
}

/** A curated preset's variant as slot settings in one language. */
function variantChoice(services: Deps, p: CuratedPreset, index: number, lang: Lang): SlotChoice {
  const v = p.variants[index]!;
  const op = services.providers.operation(v.provider, v.operation);
  const settings: Record<string, unknown> = { ...(v.settings ?? {}) };
  if (op && op.prompt !== "none") settings.prompt = (v.prompt ?? p.prompt)[lang];
  if (v.provider === "turbotext" && op?.settings.properties.original_language)
    settings.original_language = lang;
  return { provider: v.provider, operation: v.operation, settings };
}

export function curatedView(services: Deps, p: CuratedPreset, lang: Lang): PresetView {
  const variants = p.variants
    .map((_, i) => variantChoice(services, p, i, lang))
    .filter((c) => services.providers.operation(c.provider, c.operation));
  return {
    id: p.id,
    kind: "curated",
    name: p.name[lang],
    description: p.description[lang],
    sample_url: `/presets/${p.id}/sample.svg`,
    providers: [...new Set(variants.map((c) => c.provider))],
    created_by: null,
    created_at: null,
    variants,
  };
}

function customView(row: PresetRow): PresetView {
  return {
    id: row.id,
    kind: "custom",
    name: row.name,
    description: null,
    sample_url: null,
    providers: [row.provider],
    created_by: row.createdBy,
    created_at: row.createdAt.toISOString(),
    variants: [{ provider: row.provider, operation: row.operation, settings: row.settings }],
  };
}

export async function listAllPresets(services: Deps, lang: Lang): Promise<PresetView[]> {
  const custom = await services.store.presets.list();
  return [...CURATED_PRESETS.map((p) => curatedView(services, p, lang)), ...custom.map(customView)];
}

export async function findPreset(services: Deps, id: string, lang: Lang): Promise<PresetView> {
  const curated = curatedPreset(id);
  if (curated) return curatedView(services, curated, lang);
  const row = UUID.test(id) ? await services.store.presets.get(id) : null;
  if (!row) throw new AppError("preset_not_found", `There is no preset "${id.slice(0, 80)}"`);
  return customView(row);
}

/**
 * The slot's provider/operation/settings with a preset applied: the variant for the slot's current
 * provider when the preset has one (so a Gemini slot stays on Gemini), else the preset's first.
 * Settings the variant does not set (model, aspect ratio…) are kept when provider and operation
 * stay the same; the result is completed with defaults by the provider's schema.
 */
export async function applyPreset(
  services: Deps,
  id: string,
  current: SlotChoice,
  lang: Lang,
): Promise<SlotChoice> {
  const preset = await findPreset(services, id, lang);
  const variant = preset.variants.find((c) => c.provider === current.provider) ?? preset.variants[0];
  if (!variant) throw new AppError("preset_not_found", `Preset "${id}" has nothing this server can run`);
  const same = variant.provider === current.provider && variant.operation === current.operation;
  const kept = same
    ? Object.fromEntries(Object.entries(current.settings).filter(([k]) => k !== "prompt"))
    : {};
  const settings = { ...kept, ...variant.settings };
  const checked = services.providers.validate(variant.provider, variant.operation, settings);
  return {
    provider: variant.provider,
    operation: variant.operation,
    settings: checked.ok ? checked.settings : settings,
  };
}

/** Saves slot settings as a preset (validated like a slot), audited. */
export async function createPreset(
  services: Deps,
  input: { name: unknown; provider: unknown; operation: unknown; settings: unknown },
  by: string,
): Promise<PresetView> {
  const name = typeof input.name === "string" ? input.name.trim().replace(/\s+/g, " ") : "";
  const errors: { field: string; message: string }[] = [];
  if (!name || name.length > PRESET_NAME_MAX) {
    errors.push({ field: "name", message: `Expected a name of 1–${PRESET_NAME_MAX} characters` });
  }
  const checked = services.providers.validate(
    String(input.provider ?? ""),
    String(input.operation ?? ""),
    input.settings ?? {},
  );
  if (!checked.ok) errors.push(...checked.errors);
  if (errors.length || !checked.ok) throw validationFailed(errors);
  const row = await services.store.presets.insert({
    id: randomUUID(),
    name,
    provider: String(input.provider),
    operation: String(input.operation),
    settings: checked.settings,
    createdBy: by,
    createdAt: services.clock.now(),
  });
  await services.settings.audit(by, "preset.created", {
    preset_id: row.id,
    name: row.name,
    provider: row.provider,
    operation: row.operation,
  });
  services.log.info("admin.preset_created", { by, preset_id: row.id, provider: row.provider });
  return customView(row);
}

export async function removePreset(services: Deps, id: string, by: string): Promise<void> {
  if (curatedPreset(id)) {
    throw new AppError("preset_read_only", "Curated presets are part of the product and cannot be deleted");
  }
  const row = UUID.test(id) ? await services.store.presets.remove(id) : null;
  if (!row) throw new AppError("preset_not_found", `There is no preset "${id.slice(0, 80)}"`);
  await services.settings.audit(by, "preset.deleted", { preset_id: row.id, name: row.name });
  services.log.info("admin.preset_deleted", { by, preset_id: row.id });
}
