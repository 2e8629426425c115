/** The pure rules of src/domain (other than outcomes, see outcome.test.ts): slot ids and deadlines. */
import { describe, expect, test } from "bun:test";
import { HOLD_MARGIN_S, holdSeconds, jobExpiresAt, resultExpiresAt } from "../src/domain/deadlines";
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
