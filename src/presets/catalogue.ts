/**
 * The curated style presets: booth effects ready to use — a prompt per provider/operation in
 * Russian and English, and a sample picture drawn as SVG (src/presets/sample.ts), never a
 * downloaded image. Operators apply one to a slot with one click, then edit it as they like.
 *
 * The prompts follow the lessons collected in ../shared/reference/ecosystem.md: describe what the
 * picture should be, not what it should not be (naming a thing to avoid tends to summon it), keep
 * the guest recognisable by saying so positively, and keep one clear style per prompt. Turbotext's
 * image2image reads short comma-separated descriptions best, so it gets a compact version.
 *
 * The words live in catalogue.json (one entry a preset: names, descriptions, the prompt, Turbotext's
 * compact prompt and strength, the sample's colours); this file adds what every preset shares.
 */
import type { Text } from "../providers/types";
import entries from "./catalogue.json";

export interface PresetVariant {
  provider: "gemini" | "openai" | "turbotext" | "local";
  operation: string;
  /** The prompt for this provider/operation; falls back to the preset's prompt. */
  prompt?: Text;
  /** Other settings the variant sets (validated and completed with defaults when applied). */
  settings?: Record<string, unknown>;
}

export interface SampleArt {
  /** Background gradient, top → bottom. */
  sky: [string, string];
  /** The portrait silhouette's colour. */
  figure: string;
  motif:
    | "stars"
    | "brush"
    | "dots"
    | "rays"
    | "grid"
    | "frame"
    | "snow"
    | "pixels"
    | "lines"
    | "halo"
    | "waves"
    | "bokeh";
  accent: string;
}

export interface CuratedPreset {
  id: string;
  name: Text;
  description: Text;
  prompt: Text;
  /** First variant = the preset's default provider; a slot keeps its provider when a variant exists for it. */
  variants: PresetVariant[];
  art: SampleArt;
}

/** Said at the end of every prompt. */
const KEEP: Text = {
  ru: "Сохрани лицо, черты, позу и выражение человека узнаваемыми.",
  en: "Keep the person's face, features, pose and expression recognisable.",
};

/** One entry of catalogue.json. */
interface CatalogueEntry {
  id: string;
  name: Text;
  description: Text;
  /** The prompt without the shared KEEP sentence. */
  prompt: Text;
  /** The usual trio (Gemini, OpenAI, then Turbotext with this compact prompt and strength)… */
  turbotext?: { prompt: Text; strength: number };
  /** …followed by these, */
  moreVariants?: PresetVariant[];
  /** or exactly these variants instead. */
  variants?: PresetVariant[];
  art: SampleArt;
}

function curated(e: CatalogueEntry): CuratedPreset {
  const trio: PresetVariant[] = e.turbotext
    ? [
        { provider: "gemini", operation: "image_edit" },
        { provider: "openai", operation: "image_edit" },
        {
          provider: "turbotext",
          operation: "image2image",
          prompt: e.turbotext.prompt,
          settings: { strength: e.turbotext.strength },
        },
      ]
    : [];
  return {
    id: e.id,
    name: e.name,
    description: e.description,
    prompt: { ru: `${e.prompt.ru} ${KEEP.ru}`, en: `${e.prompt.en} ${KEEP.en}` },
    variants: e.variants ?? [...trio, ...(e.moreVariants ?? [])],
    art: e.art,
  };
}

export const CURATED_PRESETS: CuratedPreset[] = (entries as CatalogueEntry[]).map(curated);

export function curatedPreset(id: string): CuratedPreset | undefined {
  return CURATED_PRESETS.find((p) => p.id === id);
}
