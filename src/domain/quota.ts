/**
 * Provider quota days. Every network provider's requests are counted per *quota day*, and the day
 * ends where the provider's own counter resets, so "2,000 a day" here means what it means at the
 * provider:
 *
 * - gemini: Google resets the Gemini API's requests-per-day quotas at midnight Pacific time
 *   (America/Los_Angeles, so 08:00 or 09:00 UTC depending on daylight saving).
 * - openai: OpenAI's limits are per minute and per organisation; its daily budget here is ours,
 *   counted per UTC day.
 * - turbotext: Turbotext sells a balance of attempts (reported as `limits.foto_limit`), with no
 *   daily reset; the daily budget is ours, counted per Moscow day (Turbotext's own time zone).
 *
 * Pure functions of an instant; the counting itself lives in src/store/provider-usage.ts.
 */
import { addCalendar, type WallClock, wallClock, zonedInstant } from "./calendar";

/** Providers whose requests are counted (the local provider has no quota). */
export const QUOTA_PROVIDERS = ["gemini", "turbotext", "openai"] as const;
export type QuotaProvider = (typeof QUOTA_PROVIDERS)[number];

export const QUOTA_ZONES: Record<QuotaProvider, string> = {
  gemini: "America/Los_Angeles",
  openai: "UTC",
  turbotext: "Europe/Moscow",
};

/** Share of the daily limit at which the console warns. */
export const QUOTA_WARN_RATIO = 0.8;

export function isQuotaProvider(id: string): id is QuotaProvider {
  return (QUOTA_PROVIDERS as readonly string[]).includes(id);
}

function midnight(w: WallClock): WallClock {
  return { ...w, hour: 0, minute: 0, second: 0 };
}

/** The provider's quota day at `at`, as `YYYY-MM-DD` in its reset zone. */
export function quotaDay(provider: QuotaProvider, at: Date): string {
  const w = wallClock(at, QUOTA_ZONES[provider]);
  const p = (n: number, len = 2) => String(n).padStart(len, "0");
  return `${p(w.year, 4)}-${p(w.month)}-${p(w.day)}`;
}

/** When the quota day containing `at` ends (the next local midnight in the provider's zone). */
export function quotaResetsAt(provider: QuotaProvider, at: Date): Date {
  const zone = QUOTA_ZONES[provider];
  return zonedInstant(addCalendar(midnight(wallClock(at, zone)), "day", 1), zone);
}

export interface QuotaState {
  provider: QuotaProvider;
  day: string;
  requests: number;
  /** null = unlimited. */
  limit: number | null;
  /** requests / limit (1 when the provider said it is exhausted); null when unlimited and not exhausted. */
  usedRatio: number | null;
  /** The provider itself answered "quota exhausted" during this quota day. */
  exhaustedByProvider: boolean;
  exhaustedMessage: string | null;
  /** New uploads to this provider's slots are refused until `resetsAt`. */
  exhausted: boolean;
  /** At or above QUOTA_WARN_RATIO of the limit (or exhausted). */
  warning: boolean;
  resetsAt: Date;
  zone: string;
}

export function quotaState(
  provider: QuotaProvider,
  at: Date,
  usage: { requests: number; exhaustedAt: Date | null; exhaustedMessage: string | null } | null,
  limit: number | null,
): QuotaState {
  const requests = usage?.requests ?? 0;
  const byProvider = !!usage?.exhaustedAt;
  const ratio = byProvider ? 1 : limit ? requests / limit : null;
  const overLimit = limit !== null && requests >= limit;
  return {
    provider,
    day: quotaDay(provider, at),
    requests,
    limit,
    usedRatio: ratio === null ? null : Math.round(ratio * 10_000) / 10_000,
    exhaustedByProvider: byProvider,
    exhaustedMessage: usage?.exhaustedMessage ?? null,
    exhausted: byProvider || overLimit,
    warning: byProvider || (ratio !== null && ratio >= QUOTA_WARN_RATIO),
    resetsAt: quotaResetsAt(provider, at),
    zone: QUOTA_ZONES[provider],
  };
}
