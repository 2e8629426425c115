/**
 * The statistics' arithmetic, free of I/O: the derived counters, percentiles, the requested time
 * range and its buckets in the box's time zone. How a job is counted is `classifyOutcome`
 * (src/domain/outcome.ts); the SQL follows these definitions and the tests hold both to them.
 */
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
// Wall clocks in a time zone

export type Grain = "hour" | "day" | "week" | "month";

/** A local date and time in some zone (month 1–12). */
export interface WallClock {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

/** The zone the box runs in (the TZ environment variable, else the system's), UTC if unknown. */
export function boxTimeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
}

const formatters = new Map<string, Intl.DateTimeFormat>();
function formatter(tz: string): Intl.DateTimeFormat {
  let f = formatters.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat("en-US", {
      timeZone: tz,
      hourCycle: "h23",
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
    });
    formatters.set(tz, f);
  }
  return f;
}

/** Recent `wallClock` answers: a range's bucket edges ask for the same instants on every request. */
const wallClocks = new Map<string, Readonly<WallClock>>();

/** What a clock on the wall in `tz` shows at `instant` (a shared object: do not modify it). */
export function wallClock(instant: Date, tz: string): WallClock {
  const key = `${tz}|${instant.getTime()}`;
  let w = wallClocks.get(key);
  if (!w) {
    w = Object.freeze(computeWallClock(instant, tz));
    if (wallClocks.size >= 20_000) wallClocks.clear();
    wallClocks.set(key, w);
  }
  return w;
}

function computeWallClock(instant: Date, tz: string): WallClock {
  const parts: Record<string, number> = {};
  for (const p of formatter(tz).formatToParts(instant)) {
    if (p.type !== "literal") parts[p.type] = Number(p.value);
  }
  return {
    year: parts.year!,
    month: parts.month!,
    day: parts.day!,
    hour: parts.hour! % 24,
    minute: parts.minute!,
    second: parts.second!,
  };
}

function asUtcMs(w: WallClock): number {
  return Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second);
}

function fromUtcMs(ms: number): WallClock {
  const d = new Date(ms);
  return {
    year: d.getUTCFullYear(),
    month: d.getUTCMonth() + 1,
    day: d.getUTCDate(),
    hour: d.getUTCHours(),
    minute: d.getUTCMinutes(),
    second: d.getUTCSeconds(),
  };
}

/** The zone's offset from UTC at `instant`, in ms. */
function offsetMs(instant: number, tz: string): number {
  return asUtcMs(wallClock(new Date(instant), tz)) - Math.floor(instant / 1000) * 1000;
}

/**
 * The instant a wall clock in `tz` shows `w`. As in PostgreSQL (`timestamp AT TIME ZONE`), a time
 * repeated at a DST fall-back is read as its later occurrence (standard time), and a time skipped
 * by a spring-forward jump is read with the offset from before the jump (02:30 becomes 03:30).
 */
export function zonedInstant(w: WallClock, tz: string): Date {
  const local = asUtcMs(w);
  // Zones change offset at most once a day: the offsets a day either side bracket any jump.
  const before = local - offsetMs(local - 86_400_000, tz);
  const after = local - offsetMs(local + 86_400_000, tz);
  const shows = (t: number) => asUtcMs(wallClock(new Date(t), tz)) === local;
  const valid = [before, after].filter(shows);
  if (valid.length === 0) return new Date(before); // skipped by a jump forward
  return new Date(Math.max(...valid));
}

/** The start of the grain's period that contains `w` (weeks start on Monday, as ISO and PostgreSQL). */
export function truncate(w: WallClock, grain: Grain): WallClock {
  switch (grain) {
    case "hour":
      return { ...w, minute: 0, second: 0 };
    case "day":
      return { ...w, hour: 0, minute: 0, second: 0 };
    case "week": {
      const weekday = (new Date(Date.UTC(w.year, w.month - 1, w.day)).getUTCDay() + 6) % 7; // Monday = 0
      return fromUtcMs(Date.UTC(w.year, w.month - 1, w.day - weekday));
    }
    case "month":
      return { year: w.year, month: w.month, day: 1, hour: 0, minute: 0, second: 0 };
  }
}

/** `w` moved by `n` calendar units (wall-clock arithmetic: a day is a date, not 24 h). */
export function addCalendar(w: WallClock, unit: Grain, n: number): WallClock {
  switch (unit) {
    case "hour":
      return fromUtcMs(Date.UTC(w.year, w.month - 1, w.day, w.hour + n, w.minute, w.second));
    case "day":
      return fromUtcMs(Date.UTC(w.year, w.month - 1, w.day + n, w.hour, w.minute, w.second));
    case "week":
      return fromUtcMs(Date.UTC(w.year, w.month - 1, w.day + 7 * n, w.hour, w.minute, w.second));
    case "month":
      return fromUtcMs(Date.UTC(w.year, w.month - 1 + n, w.day, w.hour, w.minute, w.second));
  }
}

/** The bucket key shared with SQL: `to_char(date_trunc(grain, t AT TIME ZONE tz), 'YYYY-MM-DD"T"HH24:MI:SS')`. */
export function wallKey(w: WallClock): string {
  const p = (n: number, len = 2) => String(n).padStart(len, "0");
  return `${p(w.year, 4)}-${p(w.month)}-${p(w.day)}T${p(w.hour)}:${p(w.minute)}:${p(w.second)}`;
}

export interface Bucket {
  /** Local start of the full period, the key the SQL groups by. */
  key: string;
  /** The part of the period inside the requested range: [start, end). */
  start: Date;
  end: Date;
}

/** Upper bound on buckets in one answer (744 hours = 31 days is the largest legal request). */
export const MAX_BUCKETS = 1000;

/**
 * The ascending buckets covering [from, to) in `tz`, each clipped to the range. Hours step by
 * real hours (a repeated local hour at a DST fall-back is one bucket, as in SQL); days, weeks and
 * months step by the calendar, so a day is midnight to midnight local time, 23 or 25 h at a switch.
 */
export function bucketEdges(from: Date, to: Date, grain: Grain, tz: string): Bucket[] {
  const out: Bucket[] = [];
  if (from >= to) return out;
  const push = (key: string, start: number, end: number) => {
    const clippedStart = Math.max(start, from.getTime());
    const clippedEnd = Math.min(end, to.getTime());
    const last = out[out.length - 1];
    if (last && last.key === key) last.end = new Date(clippedEnd);
    else if (clippedEnd > clippedStart)
      out.push({ key, start: new Date(clippedStart), end: new Date(clippedEnd) });
  };
  if (grain === "hour") {
    let start = zonedInstant(truncate(wallClock(from, tz), "hour"), tz).getTime();
    while (start < to.getTime()) {
      const end = start + 3_600_000;
      push(wallKey(truncate(wallClock(new Date(start), tz), "hour")), start, end);
      start = end;
      if (out.length > MAX_BUCKETS) throw new Error("too many buckets");
    }
    return out;
  }
  let wall = truncate(wallClock(from, tz), grain);
  for (;;) {
    const start = zonedInstant(wall, tz).getTime();
    if (start >= to.getTime()) break;
    const next = addCalendar(wall, grain, 1);
    push(wallKey(wall), start, zonedInstant(next, tz).getTime());
    wall = next;
    if (out.length > MAX_BUCKETS) throw new Error("too many buckets");
  }
  return out;
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
