/**
 * A job's states and failure reasons, and what a finished job means — written once here and derived
 * everywhere else: the statistics' SQL counters (src/store/job-stats.ts builds them from
 * `categoryRule`), the slot page's summary, and the booth's answer (the error code, whose HTTP
 * status comes from the error registry). test/outcome.test.ts pins the SQL to `classifyOutcome`
 * on real rows.
 */
import { ERROR_CODES, type ErrorCode } from "../lib/errors";

export const JOB_STATUSES = ["pending", "processing", "succeeded", "failed", "timeout", "cancelled"] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

/** Jobs still in the queue or at a provider; they count against the in-flight cap. */
export const ACTIVE_STATUSES = ["pending", "processing"] as const;
export const FINAL_STATUSES = ["succeeded", "failed", "timeout", "cancelled"] as const;

export function isFinal(status: string): boolean {
  return (FINAL_STATUSES as readonly string[]).includes(status);
}

/**
 * The disjoint outcomes every finished job is counted as. Two failures are counted apart from the
 * provider's errors because they mean something else to the operator: `provider_no_image` — the
 * provider answered, only without an image, until the retries ran out (Gemini's NO_IMAGE) — and
 * `invalid_config` — the slot could not run as configured (no key, template or public URL), found
 * before any provider was called.
 */
export type OutcomeCategory =
  | "success"
  | "timeouts"
  | "provider_errors"
  | "provider_no_image"
  | "invalid_config"
  | "cancelled";
export const OUTCOME_CATEGORIES: readonly OutcomeCategory[] = [
  "success",
  "timeouts",
  "provider_errors",
  "provider_no_image",
  "invalid_config",
  "cancelled",
];

/** How many finished jobs fell in each category. */
export type OutcomeCounts = Record<OutcomeCategory, number>;

/** Counts of nothing: every category at zero (a fresh object each time). */
export function noOutcomes(): OutcomeCounts {
  return Object.fromEntries(OUTCOME_CATEGORIES.map((c) => [c, 0])) as OutcomeCounts;
}

interface FailureOutcome {
  category: OutcomeCategory;
  /** The error the booth (and a test run) is answered with. */
  code: ErrorCode;
  /**
   * The provider's fault (counted against it in `photochanger_provider_errors_total`): it was
   * called and failed — not a slot found unusable before any call, a cancel, or our own failure.
   */
  providersFault: boolean;
}

export interface Outcome {
  category: OutcomeCategory;
  /** The HTTP status of the answer (200, or the error code's status in the registry). */
  httpStatus: number;
  /** The error code of the answer; null for success. */
  code: ErrorCode | null;
}

/**
 * Every failure reason, one line each: how it is counted and what the booth is answered. Adding a
 * reason is adding a line here (and its code to the error registry when it is a new one).
 */
export const FAILURE_OUTCOMES = {
  timeout: { category: "timeouts", code: "sync_timeout", providersFault: true },
  provider_error: { category: "provider_errors", code: "provider_error", providersFault: true },
  provider_blocked: { category: "provider_errors", code: "provider_blocked", providersFault: true },
  provider_no_image: { category: "provider_no_image", code: "provider_no_image", providersFault: true },
  invalid_config: { category: "invalid_config", code: "invalid_config", providersFault: false },
  cancelled: { category: "cancelled", code: "job_cancelled", providersFault: false },
  // Cut short by restarts more often than it may be re-run: a fault, answered 503 (try again).
  interrupted: { category: "provider_errors", code: "service_unavailable", providersFault: false },
  internal_error: { category: "provider_errors", code: "internal_error", providersFault: false },
  // The media disk filled up after acceptance: the result could not be stored.
  storage_full: { category: "provider_errors", code: "insufficient_storage", providersFault: false },
} as const satisfies Record<string, FailureOutcome>;

export type FailureReason = keyof typeof FAILURE_OUTCOMES;
export const FAILURE_REASONS = Object.keys(FAILURE_OUTCOMES) as FailureReason[];

/**
 * Whether a failure with this reason happened at the provider (it was called): `invalid_config` is
 * found before any call (no key, template or public URL), so a job failed by it never reached one.
 */
export function reachedProvider(reason: string | null): boolean {
  return reason !== "invalid_config";
}

const SUCCESS: Outcome = { category: "success", httpStatus: 200, code: null };
/** A `failed` job with no reason, or one this build does not know (written by a newer one). */
const UNKNOWN_FAILURE: FailureOutcome = {
  category: "provider_errors",
  code: "internal_error",
  providersFault: false,
};

/** Final statuses that decide the outcome by themselves, whatever the reason column says. */
const STATUS_OUTCOMES: Partial<Record<JobStatus, FailureOutcome | null>> = {
  succeeded: null,
  timeout: FAILURE_OUTCOMES.timeout,
  cancelled: FAILURE_OUTCOMES.cancelled,
};

function failure(f: FailureOutcome): Outcome {
  return { category: f.category, code: f.code, httpStatus: ERROR_CODES[f.code].status };
}

function categoryOfStatus(status: JobStatus): OutcomeCategory | undefined {
  if (!Object.hasOwn(STATUS_OUTCOMES, status)) return undefined;
  return STATUS_OUTCOMES[status]?.category ?? SUCCESS.category;
}

/**
 * How a job is counted and answered; null while it is pending or processing (a job counts once it
 * is final). Always `errors = timeouts + provider_errors + provider_no_image + invalid_config +
 * cancelled` and `ingest_count = success + errors`, since every final job falls in exactly one
 * category.
 */
export function classifyOutcome(status: string, reason: string | null): Outcome | null {
  if (!isFinal(status)) return null;
  if (Object.hasOwn(STATUS_OUTCOMES, status)) {
    const byStatus = STATUS_OUTCOMES[status as JobStatus];
    return byStatus ? failure(byStatus) : SUCCESS;
  }
  if (reason !== null && Object.hasOwn(FAILURE_OUTCOMES, reason)) {
    return failure(FAILURE_OUTCOMES[reason as FailureReason]);
  }
  return failure(UNKNOWN_FAILURE);
}

/**
 * Which rows `classifyOutcome` puts in `category`, in the terms SQL needs: rows with one of
 * `statuses`, plus `failed` rows whose reason is one of `failedReasons`, plus — for the category
 * unknown failures fall in — `failed` rows whose reason is null or none of `knownReasons`.
 */
export function categoryRule(category: OutcomeCategory): {
  statuses: JobStatus[];
  failedReasons: string[];
  failedUnknown: boolean;
  knownReasons: string[];
} {
  return {
    statuses: (Object.keys(STATUS_OUTCOMES) as JobStatus[]).filter((s) => categoryOfStatus(s) === category),
    failedReasons: FAILURE_REASONS.filter((r) => FAILURE_OUTCOMES[r].category === category),
    failedUnknown: UNKNOWN_FAILURE.category === category,
    knownReasons: [...FAILURE_REASONS],
  };
}

/**
 * The provider's fault a finished job counts as, by its reason (see `providersFault`): the reason
 * itself (`timeout` only when a provider had started on the job), or null when it is not one.
 */
export function providerFault(job: {
  status: string;
  failureReason: string | null;
  startedAt: Date | null;
}): string | null {
  const reason = job.status === "timeout" ? "timeout" : job.status === "failed" ? job.failureReason : null;
  if (reason === null || !Object.hasOwn(FAILURE_OUTCOMES, reason)) return null;
  if (!FAILURE_OUTCOMES[reason as FailureReason].providersFault) return null;
  return reason === "timeout" && !job.startedAt ? null : reason;
}
