/**
 * A slot's fallback provider (SPEC §11): when the primary fails with a provider failure and the
 * deadline still leaves `fallback_min_seconds`, the job runs once on the fallback within the same
 * deadline. The rules — which failures fall back, how the deadline is shared — live here; the
 * worker (src/worker/pool.ts) and the ingest path only apply them.
 */

/**
 * What a job runs on now: its fallback once it went there (`fallback_used`), else its own provider
 * and operation. The claim statement's `runs_on` (store/queue/rows.ts) is the same rule in SQL.
 */
export function currentRun(job: {
  provider: string;
  operation: string;
  fallback?: FallbackConfig | null;
  fallbackUsed?: boolean | null;
}): { provider: string; operation: string } {
  return job.fallbackUsed && job.fallback ? job.fallback : job;
}

/** A slot's second provider, validated like the primary (provider catalogue); null when there is none. */
export interface FallbackConfig {
  provider: string;
  operation: string;
  settings: Record<string, unknown>;
}

export const FALLBACK_MIN_SECONDS_DEFAULT = 8;
/** `fallback_min_seconds` range: a provider call needs a few seconds; more than 30 leaves the primary little. */
export const FALLBACK_MIN_SECONDS_RANGE = { minimum: 3, maximum: 30 } as const;

/**
 * How late (past the primary's share) a failure may come and still fall back: the share's own
 * timer, the provider giving up and the failure being handled take a moment, and a primary cut at
 * its share must not lose the fallback it was cut for.
 */
export const FALLBACK_SLACK_MS = 1_000;

/**
 * Why a primary's failure falls back: its errors (HTTP failures, unavailability, a quota the
 * provider said is used up), an answer without an image, or its share of the deadline used up.
 * Safety blocks do not (another provider must not be asked to do what one refused), nor does a
 * slot that cannot run as configured (`invalid_config`: shown to the operator, not masked).
 */
const FALLBACK_REASONS = new Set(["provider_error", "provider_no_image", "timeout"]);

export function fallsBack(reason: string): boolean {
  return FALLBACK_REASONS.has(reason);
}

/**
 * When the primary's share of the deadline ends: the deadline minus `fallback_min_seconds` when the
 * job has a fallback to go to, else the whole deadline.
 */
export function primaryDeadline(expiresAt: Date, hasFallback: boolean, minSeconds: number): Date {
  if (!hasFallback) return expiresAt;
  return new Date(expiresAt.getTime() - minSeconds * 1000);
}

/** Whether the deadline still leaves the fallback its `fallback_min_seconds` at `now` (with FALLBACK_SLACK_MS). */
export function timeForFallback(now: Date, expiresAt: Date, minSeconds: number): boolean {
  return expiresAt.getTime() - now.getTime() >= minSeconds * 1000 - FALLBACK_SLACK_MS;
}

/** A fallback from the API or a row: an object with provider, operation and settings, or null. */
export function isFallbackConfig(value: unknown): value is FallbackConfig {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return false;
  const v = value as Record<string, unknown>;
  return (
    typeof v.provider === "string" &&
    typeof v.operation === "string" &&
    v.settings !== null &&
    typeof v.settings === "object" &&
    !Array.isArray(v.settings)
  );
}
