/**
 * A browser's User-Agent told as "Firefox · Linux" so an admin can tell sessions apart (they often
 * share the studio's one address). Only names that are products: words such as "phone" are the
 * page's to translate, from `kind`. Unknown parts are null, never a guess.
 */
export interface UserAgentName {
  /** "Firefox", "Chrome", "Safari", "Edge", "Opera", "Yandex Browser", "Samsung Internet", "curl"… */
  browser: string | null;
  /** "Windows", "macOS", "Linux", "Android", "iPhone", "iPad", "ChromeOS". */
  system: string | null;
  kind: "phone" | "tablet" | "computer" | null;
}

const BROWSERS: [RegExp, string][] = [
  [/\bYaBrowser\//, "Yandex Browser"],
  [/\bEdgA?\//, "Edge"],
  [/\bOPR\//, "Opera"],
  [/\bSamsungBrowser\//, "Samsung Internet"],
  [/\bFirefox\/|\bFxiOS\//, "Firefox"],
  [/\bCriOS\/|\bChrom(e|ium)\//, "Chrome"],
  [/\bVersion\/[\d.]+.*\bSafari\//, "Safari"],
  [/^curl\//, "curl"],
  [/^Wget\//, "Wget"],
];

const SYSTEMS: [RegExp, string, UserAgentName["kind"]][] = [
  [/\biPhone\b/, "iPhone", "phone"],
  [/\biPad\b/, "iPad", "tablet"],
  [/\bAndroid\b.*\bMobile\b/, "Android", "phone"],
  [/\bAndroid\b/, "Android", "tablet"],
  [/\bCrOS\b/, "ChromeOS", "computer"],
  [/\bWindows\b/, "Windows", "computer"],
  [/\bMac OS X\b|\bMacintosh\b/, "macOS", "computer"],
  [/\bLinux\b/, "Linux", "computer"],
];

export function nameUserAgent(ua: string | null | undefined): UserAgentName {
  if (!ua) return { browser: null, system: null, kind: null };
  const browser = BROWSERS.find(([re]) => re.test(ua))?.[1] ?? null;
  const system = SYSTEMS.find(([re]) => re.test(ua));
  return { browser, system: system?.[1] ?? null, kind: system?.[2] ?? null };
}

/** "Firefox · Linux", "Safari · iPhone", "Chrome", or null when nothing is known. */
export function describeUserAgent(ua: string | null | undefined): string | null {
  const n = nameUserAgent(ua);
  const parts = [n.browser, n.system].filter(Boolean);
  return parts.length ? parts.join(" · ") : null;
}

/** The stored value: a header is capped so a hostile client cannot fill the table. */
export function storableUserAgent(ua: string | null | undefined): string | null {
  const s = ua?.trim();
  return s ? s.slice(0, 400) : null;
}
