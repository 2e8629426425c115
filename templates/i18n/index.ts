/** Language choice and the per-request view context every template receives. */
import { en } from "./en";
import { type Dict, ru } from "./ru";

export type { Dict };
export const LANGS = ["ru", "en"] as const;
export type Lang = (typeof LANGS)[number];
export const DEFAULT_LANG: Lang = "ru";
export const LANG_COOKIE = "pc_lang";

const dictionaries: Record<Lang, Dict> = { ru, en };

export function isLang(v: unknown): v is Lang {
  return typeof v === "string" && (LANGS as readonly string[]).includes(v);
}

export function dict(lang: Lang): Dict {
  return dictionaries[lang];
}
