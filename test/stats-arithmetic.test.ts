import { describe, expect, test } from "bun:test";
import { addCalendar, bucketEdges, truncate, wallClock, wallKey, zonedInstant } from "../src/domain/calendar";
import { AppError } from "../src/lib/errors";
import {
  GLOBAL_RANGE,
  pageOf,
  parseTime,
  percentile,
  rate,
  resolveRange,
  SLOT_RANGE,
  withTotals,
} from "../src/modules/stats/arithmetic";

const iso = (d: Date) => d.toISOString();

describe("counting", () => {
  test("the derived counters follow the identities", () => {
    const c = withTotals({
      success: 7,
      timeouts: 2,
      provider_errors: 3,
      provider_no_image: 4,
      invalid_config: 5,
      cancelled: 1,
    });
    expect(c).toEqual({
      success: 7,
      timeouts: 2,
      provider_errors: 3,
      provider_no_image: 4,
      invalid_config: 5,
      cancelled: 1,
      errors: 15,
      ingest_count: 22,
    });
  });

  test("rates round to 4 decimals and are 0 without jobs", () => {
    expect(rate(1, 3)).toBe(0.3333);
    expect(rate(2, 3)).toBe(0.6667);
    expect(rate(0, 0)).toBe(0);
    expect(rate(5, 5)).toBe(1);
  });
});

describe("percentiles (percentile_cont)", () => {
  test("linear interpolation between closest ranks", () => {
    expect(percentile([], 0.5)).toBeNull();
    expect(percentile([42], 0.95)).toBe(42);
    expect(percentile([1, 2, 3, 4], 0.5)).toBe(2.5);
    expect(percentile([4, 1, 3, 2], 0.5)).toBe(2.5);
    // 20 values 1..20: position 0.95 * 19 = 18.05 → 19 + 0.05 * (20 - 19)
    const twenty = Array.from({ length: 20 }, (_, i) => i + 1);
    expect(percentile(twenty, 0.95)).toBeCloseTo(19.05, 10);
    expect(percentile(twenty, 0)).toBe(1);
    expect(percentile(twenty, 1)).toBe(20);
  });
});

describe("wall clocks", () => {
  test("wall clock and back, in a zone with and without DST", () => {
    const t = new Date("2026-07-01T12:34:56Z");
    expect(wallClock(t, "Europe/Moscow")).toEqual({
      year: 2026,
      month: 7,
      day: 1,
      hour: 15,
      minute: 34,
      second: 56,
    });
    expect(iso(zonedInstant(wallClock(t, "Europe/Moscow"), "Europe/Moscow"))).toBe(iso(t));
    expect(iso(zonedInstant(wallClock(t, "America/New_York"), "America/New_York"))).toBe(iso(t));
    expect(iso(zonedInstant(wallClock(t, "Asia/Kolkata"), "Asia/Kolkata"))).toBe(iso(t));
  });

  test("ambiguous and skipped local times resolve as PostgreSQL does", () => {
    const ny = "America/New_York";
    // 2018-11-04 01:30 happens twice in New York: PostgreSQL takes the later (EST) one.
    const amb = { year: 2018, month: 11, day: 4, hour: 1, minute: 30, second: 0 };
    expect(iso(zonedInstant(amb, ny))).toBe("2018-11-04T06:30:00.000Z");
    // 2018-03-11 02:30 does not exist: it is read with the offset before the jump (03:30 EDT).
    const gap = { year: 2018, month: 3, day: 11, hour: 2, minute: 30, second: 0 };
    expect(iso(zonedInstant(gap, ny))).toBe("2018-03-11T07:30:00.000Z");
  });

  test("truncation: weeks start on Monday; months on the 1st", () => {
    const w = { year: 2026, month: 11, day: 22, hour: 13, minute: 5, second: 9 }; // a Sunday
    expect(wallKey(truncate(w, "hour"))).toBe("2026-11-22T13:00:00");
    expect(wallKey(truncate(w, "day"))).toBe("2026-11-22T00:00:00");
    expect(wallKey(truncate(w, "week"))).toBe("2026-11-16T00:00:00");
    expect(wallKey(truncate(w, "month"))).toBe("2026-11-01T00:00:00");
    expect(wallKey(truncate({ ...w, month: 1, day: 1 }, "week"))).toBe("2025-12-29T00:00:00");
    expect(wallKey(addCalendar({ ...w, month: 1, day: 31 }, "month", 1))).toBe("2026-03-03T13:05:09");
    expect(wallKey(addCalendar(truncate(w, "month"), "month", 2))).toBe("2027-01-01T00:00:00");
  });
});

describe("bucket edges", () => {
  test("days in Moscow start at 21:00 UTC; the range is clipped at both ends", () => {
    const from = new Date("2026-11-01T00:00:00Z"); // 03:00 Moscow
    const to = new Date("2026-11-03T12:00:00Z");
    const b = bucketEdges(from, to, "day", "Europe/Moscow");
    expect(b.map((x) => x.key)).toEqual([
      "2026-11-01T00:00:00",
      "2026-11-02T00:00:00",
      "2026-11-03T00:00:00",
    ]);
    expect(b.map((x) => [iso(x.start), iso(x.end)])).toEqual([
      ["2026-11-01T00:00:00.000Z", "2026-11-01T21:00:00.000Z"],
      ["2026-11-01T21:00:00.000Z", "2026-11-02T21:00:00.000Z"],
      ["2026-11-02T21:00:00.000Z", "2026-11-03T12:00:00.000Z"],
    ]);
  });

  test("buckets tile the range with no gaps or overlaps", () => {
    for (const grain of ["hour", "day", "week", "month"] as const) {
      for (const tz of ["UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata"]) {
        const from = new Date("2026-02-20T05:17:00Z");
        const to = new Date(grain === "hour" ? "2026-03-12T00:00:00Z" : "2026-05-10T10:00:00Z");
        const b = bucketEdges(from, to, grain, tz);
        expect(iso(b[0]!.start)).toBe(iso(from));
        expect(iso(b[b.length - 1]!.end)).toBe(iso(to));
        for (let i = 1; i < b.length; i++) expect(iso(b[i]!.start)).toBe(iso(b[i - 1]!.end));
        expect(new Set(b.map((x) => x.key)).size).toBe(b.length);
      }
    }
  });

  test("a DST switch makes a 23-hour and a 25-hour local day; hours stay real hours", () => {
    const tz = "Europe/Berlin";
    const days = bucketEdges(
      new Date("2026-03-28T00:00:00+01:00"),
      new Date("2026-03-30T00:00:00+02:00"),
      "day",
      tz,
    );
    expect(days.map((d) => (d.end.getTime() - d.start.getTime()) / 3_600_000)).toEqual([24, 23]);
    const autumn = bucketEdges(
      new Date("2026-10-25T00:00:00+02:00"),
      new Date("2026-10-26T00:00:00+01:00"),
      "day",
      tz,
    );
    expect(autumn.map((d) => (d.end.getTime() - d.start.getTime()) / 3_600_000)).toEqual([25]);
    // The autumn night's repeated 02:00 hour is one bucket of two real hours (as date_trunc groups it).
    const hours = bucketEdges(
      new Date("2026-10-25T00:00:00+02:00"),
      new Date("2026-10-25T04:00:00+01:00"),
      "hour",
      tz,
    );
    expect(hours.map((h) => h.key.slice(11, 13))).toEqual(["00", "01", "02", "03"]);
    expect((hours[2]!.end.getTime() - hours[2]!.start.getTime()) / 3_600_000).toBe(2);
  });

  test("weeks and months are calendar periods", () => {
    const weeks = bucketEdges(
      new Date("2026-11-04T00:00:00Z"),
      new Date("2026-11-20T00:00:00Z"),
      "week",
      "UTC",
    );
    expect(weeks.map((w) => w.key)).toEqual([
      "2026-11-02T00:00:00",
      "2026-11-09T00:00:00",
      "2026-11-16T00:00:00",
    ]);
    const months = bucketEdges(
      new Date("2026-01-15T00:00:00Z"),
      new Date("2026-04-01T00:00:00Z"),
      "month",
      "UTC",
    );
    expect(months.map((m) => m.key)).toEqual([
      "2026-01-01T00:00:00",
      "2026-02-01T00:00:00",
      "2026-03-01T00:00:00",
    ]);
    expect(iso(months[0]!.start)).toBe("2026-01-15T00:00:00.000Z");
  });
});

describe("ranges", () => {
  const now = new Date("2026-11-21T21:30:00Z");

  function refusal(fn: () => unknown): AppError {
    try {
      fn();
    } catch (err) {
      expect(err).toBeInstanceOf(AppError);
      return err as AppError;
    }
    throw new Error("expected a refusal");
  }

  test("parsing: offsets, local times and whole local days", () => {
    expect(iso(parseTime("2026-11-01T10:00:00Z", "UTC", "from"))).toBe("2026-11-01T10:00:00.000Z");
    expect(iso(parseTime("2026-11-01T10:00:00+03:00", "UTC", "from"))).toBe("2026-11-01T07:00:00.000Z");
    expect(iso(parseTime("2026-11-01T10:00:00.250Z", "UTC", "from"))).toBe("2026-11-01T10:00:00.250Z");
    expect(iso(parseTime("2026-11-01T10:00", "Europe/Moscow", "from"))).toBe("2026-11-01T07:00:00.000Z");
    expect(iso(parseTime("2026-11-01", "Europe/Moscow", "from"))).toBe("2026-10-31T21:00:00.000Z");
    expect(iso(parseTime("2026-11-01", "Europe/Moscow", "to"))).toBe("2026-11-01T21:00:00.000Z");
    for (const bad of ["yesterday", "2026-13-01", "2026-02-30", "2026-11-01T25:00:00Z", "1969-12-31"]) {
      const e = refusal(() => parseTime(bad, "UTC", "from"));
      expect(e.status).toBe(400);
      expect(e.details.fields).toEqual([{ field: "from", message: expect.any(String) }]);
    }
  });

  test("defaults: slot 14 days by day, global 8 weeks aligned to a week start", () => {
    const slot = resolveRange({}, "day", now, "UTC", SLOT_RANGE);
    expect(iso(slot.to)).toBe(iso(now));
    expect(iso(slot.from)).toBe("2026-11-07T00:00:00.000Z");
    const global = resolveRange({}, "week", now, "UTC", GLOBAL_RANGE);
    expect(iso(global.from)).toBe("2026-09-21T00:00:00.000Z"); // the Monday on or before 2026-09-26
  });

  test("limits: 31 days per slot, 90 days global, from before to", () => {
    expect(() =>
      resolveRange({ from: "2026-10-01", to: "2026-10-31" }, "day", now, "UTC", SLOT_RANGE),
    ).not.toThrow();
    const tooLong = refusal(() =>
      resolveRange({ from: "2026-10-01", to: "2026-11-01" }, "day", now, "UTC", SLOT_RANGE),
    );
    expect(tooLong.details).toMatchObject({ max_days: 31 });
    expect(() =>
      resolveRange(
        { from: "2026-08-01T00:00:00Z", to: "2026-10-30T00:00:00Z" },
        "week",
        now,
        "UTC",
        GLOBAL_RANGE,
      ),
    ).not.toThrow();
    refusal(() =>
      resolveRange(
        { from: "2026-08-01T00:00:00Z", to: "2026-10-30T00:00:01Z" },
        "week",
        now,
        "UTC",
        GLOBAL_RANGE,
      ),
    );
    const reversed = refusal(() =>
      resolveRange({ from: "2026-11-02", to: "2026-11-01T00:00:00Z" }, "day", now, "UTC", SLOT_RANGE),
    );
    expect(reversed.details.fields).toEqual([{ field: "from", message: expect.any(String) }]);
    // 31 calendar days across a DST switch are 31 × 24 h + 1 h, and still allowed.
    expect(() =>
      resolveRange({ from: "2026-10-01", to: "2026-10-31" }, "day", now, "Europe/Berlin", SLOT_RANGE),
    ).not.toThrow();
  });

  test("paging", () => {
    const items = Array.from({ length: 7 }, (_, i) => i);
    expect(pageOf(items, 2, 3)).toEqual({ data: [3, 4, 5], meta: { page: 2, page_size: 3, total: 7 } });
    expect(pageOf(items, 4, 3).data).toEqual([]);
  });
});
