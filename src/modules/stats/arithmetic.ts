/**
 * The statistics' arithmetic, free of I/O: the derived counters, percentiles and the requested time
 * range (its buckets in the box's time zone are src/domain/calendar.ts's). How a job is counted is
 * `classifyOutcome` (src/domain/outcome.ts); the SQL follows these definitions and the tests hold
 * both to them.
 */
import {
  addCalendar,
  asUtcMs,
  fromUtcMs,
  type Grain,
  truncate,
  type WallClock,
  wallClock,
  zonedInstant,
} from "../../domain/calendar";
import { noOutcomes, type OutcomeCounts } from "../../domain/outcome";
import { AppError } from "../../lib/errors";

// ---------------------------------------------------------------------------------------------
// Counting

export type Counts = OutcomeCounts;

export interface Counters extends Counts {
  errors: number;
  ingest_count: number;
}

export const ZERO_COUNTS: Counts = Object.freeze(noOutcomes());

/** Adds the derived counters; the identities hold by construction. */
export function withTotals(c: Counts): Counters {
  const errors = c.timeouts + c.provider_errors + c.provider_no_image + c.invalid_config + c.cancelled;
  return {
    success: c.success,
    timeouts: c.timeouts,
    provider_errors: c.provider_errors,
    provider_no_image: c.provider_no_image,
    invalid_config: c.invalid_config,
    cancelled: c.cancelled,
    errors,
    ingest_count: c.success + errors,
  };
}

/** `part / whole` rounded to 4 decimals; 0 when there is nothing to divide. */
export function rate(part: number, whole: number): number {
  return whole > 0 ? Math.round((part / whole) * 10_000) / 10_000 : 0;
}

/**
 * The p-th percentile (0 ≤ p ≤ 1) with linear interpolation between the closest ranks — the same
 * definition as PostgreSQL's `percentile_cont`, which computes it in the queries. Null when empty.
 */
export function percentile(values: readonly number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const pos = p * (sorted.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  const a = sorted[lo]!;
  const b = sorted[hi]!;
  return a + (b - a) * (pos - lo);
}

/** Latencies are reported in whole milliseconds. */
export function roundMs(value: number | string | null | undefined): number | null {
  if (value === null || value === undefined) return null;
  return Math.round(Number(value));
}

// ---------------------------------------------------------------------------------------------
// Ranges

export interface RangeRule {
  /** Longest allowed range, in calendar days of the box's zone. */
  maxDays: number;
  /** Range used when `from` is omitted: this many days before `to`, widened to a bucket start. */
  defaultDays: number;
}

export const GLOBAL_RANGE: RangeRule = { maxDays: 90, defaultDays: 56 };
export const SLOT_RANGE: RangeRule = { maxDays: 31, defaultDays: 14 };

export interface TimeRange {
  from: Date;
  to: Date;
}

/** A 400 in the same shape as the app's request-validation errors. */
export function invalidRequest(
  field: string,
  message: string,
  extra: Record<string, unknown> = {},
): AppError {
  return new AppError("invalid_request", message, { fields: [{ field, message }], ...extra });
}

const TIME_RE =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?)?(Z|[+-]\d{2}:?\d{2})?$/;

/**
 * Parses `from`/`to`: an ISO 8601 date-time with an offset (`2026-11-01T10:00:00Z`), a local
 * date-time without one (read on the box's clock), or a bare date — the start of that local day,
 * or for `to` its end (so `from=2026-11-01&to=2026-11-07` is seven whole days).
 */
export function parseTime(value: string, tz: string, field: "from" | "to"): Date {
  const m = TIME_RE.exec(value.trim());
  const bad = () => invalidRequest(field, `"${field}" must be an ISO 8601 date or date-time`, { value });
  if (!m) throw bad();
  const [, y, mo, d, h, mi, s, frac, zone] = m;
  const w: WallClock = {
    year: Number(y),
    month: Number(mo),
    day: Number(d),
    hour: Number(h ?? 0),
    minute: Number(mi ?? 0),
    second: Number(s ?? 0),
  };
  const check = fromUtcMs(asUtcMs(w));
  if (
    check.month !== w.month ||
    check.day !== w.day ||
    w.hour > 23 ||
    w.minute > 59 ||
    w.second > 59 ||
    w.year < 1970
  ) {
    throw bad();
  }
  const ms = frac ? Math.round(Number(`0.${frac}`) * 1000) : 0;
  if (zone) {
    const offset =
      zone === "Z"
        ? 0
        : (zone[0] === "-" ? -1 : 1) * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(-2)));
    return new Date(asUtcMs(w) + ms - offset * 60_000);
  }
  if (h === undefined && field === "to") return zonedInstant(addCalendar(w, "day", 1), tz);
  return new Date(zonedInstant(w, tz).getTime() + ms);
}

/**
 * The range a request asks for: `to` defaults to now, `from` to `defaultDays` before `to` (moved
 * back to the start of its bucket so the first bucket is whole). Refuses an empty or reversed
 * range and one longer than `maxDays` calendar days.
 */
export function resolveRange(
  input: { from?: string; to?: string },
  grain: Grain,
  now: Date,
  tz: string,
  rule: RangeRule,
): TimeRange {
  const to = input.to !== undefined ? parseTime(input.to, tz, "to") : now;
  let from: Date;
  if (input.from !== undefined) {
    from = parseTime(input.from, tz, "from");
  } else {
    const back = addCalendar(wallClock(to, tz), "day", -rule.defaultDays);
    const aligned = zonedInstant(truncate(back, grain), tz);
    from = withinMax(aligned, to, tz, rule.maxDays) ? aligned : zonedInstant(back, tz);
  }
  if (from >= to) throw invalidRequest("from", '"from" must be before "to"');
  if (!withinMax(from, to, tz, rule.maxDays)) {
    throw invalidRequest("to", `The range may span at most ${rule.maxDays} days`, { max_days: rule.maxDays });
  }
  return { from, to };
}

function withinMax(from: Date, to: Date, tz: string, maxDays: number): boolean {
  return to.getTime() <= zonedInstant(addCalendar(wallClock(from, tz), "day", maxDays), tz).getTime();
}

/** A whole-number query parameter within [min, max], else a 400 naming it; `fallback` when absent. */
export function intParam(
  field: string,
  value: number | undefined,
  min: number,
  max: number,
  fallback: number,
): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < min || value > max) {
    throw invalidRequest(field, `"${field}" must be a whole number from ${min} to ${max}`, { value });
  }
  return value;
}

/** Page `page` (from 1) of `items`, with the list endpoints' meta. */
export function pageOf<T>(items: T[], page: number, pageSize: number) {
  const start = (page - 1) * pageSize;
  return {
    data: items.slice(start, start + pageSize),
    meta: { page, page_size: pageSize, total: items.length },
  };
}
