/** What every page template gets: the dictionary, the signed-in admin and formatting helpers. */
import type { Attention } from "../src/domain/attention";
import type { Dict, Lang } from "./i18n/index";

export interface ViewUser {
  username: string;
  scopes: readonly string[];
}

export interface View {
  t: Dict;
  lang: Lang;
  /** Path + query of this request (for the language switch and redirects). */
  path: string;
  user: ViewUser | null;
  now: Date;
  /** IANA time zone the times are shown in (the server's). */
  timeZone?: string;
  /** The theme chosen with the switch (cookie `pc_theme`); unset follows the system's. */
  theme?: Theme;
  /** What needs the operator (banners on every admin page, failing state on the slot cards). */
  attention?: Attention;
}

export const THEMES = ["light", "dark"] as const;
export type Theme = (typeof THEMES)[number];
export const THEME_COOKIE = "pc_theme";

export function isTheme(x: unknown): x is Theme {
  return typeof x === "string" && (THEMES as readonly string[]).includes(x);
}

export function can(v: View, scope: string): boolean {
  return !!v.user?.scopes.includes(scope);
}

/** Formatters are costly to build (~50 µs each) and a job list formats hundreds of dates: kept. */
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(v: View, withDate: boolean): Intl.DateTimeFormat {
  const key = `${v.t.locale}|${v.timeZone}|${withDate}`;
  let f = formatters.get(key);
  if (!f) {
    f = new Intl.DateTimeFormat(v.t.locale, {
      ...(withDate ? { day: "2-digit", month: "2-digit", year: "numeric" } : {}),
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
      timeZone: v.timeZone,
    });
    if (formatters.size > 100) formatters.clear();
    formatters.set(key, f);
  }
  return f;
}

export function fmtDateTime(v: View, d: Date | string | null | undefined): string {
  if (!d) return v.t.common.none;
  const date = typeof d === "string" ? new Date(d) : d;
  return formatter(v, true).format(date);
}

export function fmtTime(v: View, d: Date | string | null | undefined): string {
  if (!d) return v.t.common.none;
  const date = typeof d === "string" ? new Date(d) : d;
  return formatter(v, false).format(date);
}

const shortFormatters = new Map<string, Intl.DateTimeFormat>();

/** "19:42" for a time today, "12.03, 19:42" for an earlier day (hours and minutes only). */
export function fmtSince(v: View, d: Date | string): string {
  const date = typeof d === "string" ? new Date(d) : d;
  const get = (withDate: boolean) => {
    const key = `${v.t.locale}|${v.timeZone}|${withDate}`;
    let f = shortFormatters.get(key);
    if (!f) {
      f = new Intl.DateTimeFormat(v.t.locale, {
        ...(withDate ? { day: "2-digit", month: "2-digit" } : {}),
        hour: "2-digit",
        minute: "2-digit",
        timeZone: v.timeZone,
      });
      if (shortFormatters.size > 100) shortFormatters.clear();
      shortFormatters.set(key, f);
    }
    return f;
  };
  const day = new Intl.DateTimeFormat("en-CA", { timeZone: v.timeZone });
  return get(day.format(date) !== day.format(v.now)).format(date);
}

/** "5 minutes ago" style, relative to the request time. */
export function fmtAgo(v: View, d: Date | string | null | undefined): string {
  if (!d) return v.t.time.never;
  const date = typeof d === "string" ? new Date(d) : d;
  const s = Math.round((date.getTime() - v.now.getTime()) / 1000);
  if (Math.abs(s) < 10) return v.t.time.justNow;
  const rtf = new Intl.RelativeTimeFormat(v.t.locale, { numeric: "auto" });
  const abs = Math.abs(s);
  if (abs < 60) return rtf.format(s, "second");
  if (abs < 3600) return rtf.format(Math.round(s / 60), "minute");
  if (abs < 86400) return rtf.format(Math.round(s / 3600), "hour");
  return rtf.format(Math.round(s / 86400), "day");
}

/** Milliseconds as "850 мс" / "12.3 с" / "3 мин 5 с". */
export function fmtDuration(v: View, ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return v.t.common.none;
  if (ms < 1000) return `${Math.round(ms)} ${v.t.common.ms}`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} ${v.t.common.seconds}`;
  const m = Math.floor(ms / 60_000);
  const s = Math.round((ms % 60_000) / 1000);
  return `${m} ${v.t.common.minutes} ${s} ${v.t.common.seconds}`;
}

export function fmtNumber(v: View, n: number, digits = 0): string {
  return new Intl.NumberFormat(v.t.locale, { maximumFractionDigits: digits }).format(n);
}

/** An amount of money in the `currency` setting: cents, and a tenth of a cent below one unit. */
export function fmtMoney(v: View, amount: number, currency: string): string {
  const digits = amount !== 0 && Math.abs(amount) < 1 ? 3 : 2;
  try {
    return new Intl.NumberFormat(v.t.locale, {
      style: "currency",
      currency,
      minimumFractionDigits: 2,
      maximumFractionDigits: digits,
    }).format(amount);
  } catch {
    return `${fmtNumber(v, amount, digits)} ${currency}`;
  }
}

/**
 * The localized message for an error code. The server's own message is English: it is shown only
 * in the English UI, the Russian one falls back to a generic line rather than mix languages.
 */
export function errorText(v: View, code: string, message?: string): string {
  const known = v.t.errors.codes[code];
  if (known) return known;
  return v.lang === "en" && message ? message : v.t.errors.title;
}

/** TypeBox's and our services' English validation messages, matched to localized ones. */
const VALIDATION: [RegExp, (v: View, m: RegExpMatchArray) => string][] = [
  [/^Expected required property/, (v) => v.t.validation.required],
  [/^Expected a whole number from (\S+) to (\S+)/, (v, m) => v.t.validation.range(m[1]!, m[2]!)],
  [/^Expected (?:integer|number) to be greater or equal to (\S+)/, (v, m) => v.t.validation.min(m[1]!)],
  [/^Expected (?:integer|number) to be greater than (\S+)/, (v, m) => v.t.validation.min(m[1]!)],
  [/^Expected (?:integer|number) to be less or equal to (\S+)/, (v, m) => v.t.validation.max(m[1]!)],
  [/^Expected (?:integer|number) to be less than (\S+)/, (v, m) => v.t.validation.max(m[1]!)],
  [/^Expected integer/, (v) => v.t.validation.integer],
  [/^Expected number/, (v) => v.t.validation.number],
  [/^Expected string length less or equal to (\d+)/, (v, m) => v.t.validation.maxLength(m[1]!)],
  [/^Expected string length greater or equal to (\d+)/, (v, m) => v.t.validation.minLength(m[1]!)],
  [/^Expected a password of at least (\d+)/, (v, m) => v.t.validation.password(m[1]!)],
  [/^Expected (?:union value|one of)/, (v) => v.t.validation.oneOf],
  [/^Expected boolean/, (v) => v.t.validation.boolean],
  [/^Expected string/, (v) => v.t.validation.text],
  [/^Unexpected property/, (v) => v.t.validation.unexpected],
  [/^This operation needs a prompt/, (v) => v.t.validation.needsPrompt],
  [/^The name cannot be empty/, (v) => v.t.validation.nameEmpty],
  [/^Expected an http\(s\) URL/, (v) => v.t.validation.url],
  [/^A role is a lowercase name/, (v) => v.t.validation.role],
  [/^Expected a slot id/, (v) => v.t.validation.slotId],
  [/^Expected an ISO 8601/, (v) => v.t.validation.date],
];

/** A field's validation message in the page's language (never English inside the Russian UI). */
export function validationText(v: View, message: string): string {
  for (const [re, text] of VALIDATION) {
    const m = message.match(re);
    if (m) return text(v, m);
  }
  return v.lang === "en" ? message : v.t.validation.invalid;
}

/** Slot names still at their seeded default ("Слот 01") read "Slot 01" in English. */
export function slotName(v: View, name: string): string {
  const m = name.match(/^Слот (\d{2})$/);
  return m ? v.t.slot.defaultName(m[1]!) : name;
}

/** Who did something: an admin's name, or a localized word for the system actors. */
export function actorName(v: View, actor: string): string {
  return v.t.actors[actor] ?? actor;
}

/** Our own (English) job messages, matched to localized ones. */
const JOB_MESSAGES: [RegExp, (v: View, m: RegExpMatchArray) => string][] = [
  [/^Cancelled by (.+)$/, (v, m) => v.t.jobs.cancelledBy(actorName(v, m[1]!))],
  [/^No API key for ([^:]+):/, (v, m) => v.t.jobs.messages.noKey(m[1]!)],
  [/^The slot's "([^"]+)" template file is missing/, (v, m) => v.t.jobs.messages.templateGone(m[1]!)],
  [/^Slot settings are not valid/, (v) => v.t.jobs.messages.badSettings],
  [/^Unknown provider/, (v) => v.t.jobs.messages.unknownProvider],
  [/has no operation "/, (v) => v.t.jobs.messages.unknownOperation],
  [/^An input is not a JPEG, PNG, WebP or HEIC image/, (v) => v.t.jobs.messages.notImage],
  [/^The deadline passed before the provider answered/, (v) => v.t.jobs.messages.deadlineProvider],
  [/^The deadline passed before the job finished/, (v) => v.t.jobs.messages.deadlineJob],
  [/^The database was unreachable while the job was running/, (v) => v.t.jobs.messages.databaseDown],
  [/^Internal error/, (v) => v.t.jobs.messages.internal],
];

/**
 * A job's stored error message in the page's language when it is one of ours ("Cancelled by
 * serg"); null when it is not (a provider's own words, shown quoted as such).
 */
export function jobMessage(v: View, message: string | null): string | null {
  if (!message) return null;
  for (const [re, text] of JOB_MESSAGES) {
    const m = message.match(re);
    if (m) return text(v, m);
  }
  return null;
}

/** Bytes as "1.2 ГБ" / "350 МБ". */
export function fmtBytes(v: View, n: number): string {
  const units = v.t.common.byteUnits;
  let i = 0;
  let x = n;
  while (x >= 1024 && i < units.length - 1) {
    x /= 1024;
    i++;
  }
  return `${fmtNumber(v, x, x < 10 && i > 0 ? 1 : 0)} ${units[i]}`;
}
