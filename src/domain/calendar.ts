/**
 * The calendar in a time zone, free of I/O: what a wall clock in a zone shows at an instant, the
 * instant a wall-clock time means there, and the calendar's steps (hours by real hours, days, weeks
 * and months by the calendar, so a day at a DST switch is 23 or 25 h). The statistics bucket by it
 * in the box's zone; the providers' quota days end at midnight in their own zones.
 */

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

/** The wall-clock time read as if in UTC, in ms since the epoch. */
export function asUtcMs(w: WallClock): number {
  return Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second);
}

/** The wall clock in UTC at `ms` since the epoch. */
export function fromUtcMs(ms: number): WallClock {
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
