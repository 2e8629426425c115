/** The pure rules of src/domain (other than outcomes, see outcome.test.ts): slot ids and deadlines. */
import { describe, expect, test } from "bun:test";
import { HOLD_MARGIN_S, holdSeconds, jobExpiresAt, resultExpiresAt } from "../src/domain/deadlines";
import { fallsBack, isFallbackConfig, primaryDeadline, timeForFallback } from "../src/domain/fallback";
import { isSlotId, OUTPUT_FORMATS } from "../src/domain/slots";

describe("slot ids", () => {
  test("exactly slot-001 … slot-015", () => {
    for (let i = 1; i <= 15; i++) expect(isSlotId(`slot-${String(i).padStart(3, "0")}`)).toBe(true);
    for (const bad of [
      "slot-000",
      "slot-016",
      "slot-999",
      "slot-1",
      "slot-0001",
      "SLOT-001",
      "slot-001 ",
      "../etc",
    ]) {
      expect(isSlotId(bad)).toBe(false);
    }
  });

  test("a slot answers JPEG by default, or PNG, WebP, or the original format", () => {
    expect([...OUTPUT_FORMATS]).toEqual(["jpeg", "png", "webp", "original"]);
  });
});

describe("deadlines", () => {
  const t = new Date("2026-11-30T12:00:00Z");
  test("expires_at = created_at + T_sync; result_expires_at = finalized_at + retention", () => {
    expect(jobExpiresAt(t, 48).toISOString()).toBe("2026-11-30T12:00:48.000Z");
    expect(resultExpiresAt(t, 72).toISOString()).toBe("2026-12-03T12:00:00.000Z");
  });

  test("a held request outlives the deadline by the margin, so the 504 still arrives", () => {
    expect(HOLD_MARGIN_S).toBeGreaterThan(0);
    expect(holdSeconds(60)).toBe(60 + HOLD_MARGIN_S);
  });
});

describe("fallback", () => {
  const deadline = new Date("2026-11-30T12:00:48Z");
  test("the primary gets the deadline minus fallback_min_seconds only when there is a fallback", () => {
    expect(primaryDeadline(deadline, true, 8).toISOString()).toBe("2026-11-30T12:00:40.000Z");
    expect(primaryDeadline(deadline, false, 8)).toBe(deadline);
  });

  test("the fallback runs while the deadline leaves fallback_min_seconds (a moment of slack for the share's own timer)", () => {
    expect(timeForFallback(new Date("2026-11-30T12:00:30Z"), deadline, 8)).toBe(true);
    // cut at its share: exactly 8 s left, and a little less once the failure is handled
    expect(timeForFallback(new Date("2026-11-30T12:00:40.500Z"), deadline, 8)).toBe(true);
    expect(timeForFallback(new Date("2026-11-30T12:00:41.500Z"), deadline, 8)).toBe(false);
    expect(timeForFallback(new Date("2026-11-30T12:00:50Z"), deadline, 8)).toBe(false);
  });

  test("provider failures fall back; safety blocks, bad configuration and internal errors do not", () => {
    for (const r of ["provider_error", "provider_no_image", "timeout"]) expect(fallsBack(r)).toBe(true);
    for (const r of ["provider_blocked", "invalid_config", "internal_error", "storage_full", "cancelled"]) {
      expect(fallsBack(r)).toBe(false);
    }
  });

  test("a fallback is an object with provider, operation and settings", () => {
    expect(isFallbackConfig({ provider: "local", operation: "greyscale", settings: {} })).toBe(true);
    for (const bad of [null, [], "local", { provider: "local", operation: "greyscale" }, { provider: 1 }]) {
      expect(isFallbackConfig(bad)).toBe(false);
    }
  });
});
