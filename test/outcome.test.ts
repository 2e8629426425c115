/**
 * How a job ends is decided once, by `classifyOutcome`: its statistics category, the booth's HTTP
 * status and error code. The statistics' SQL is built from the same rule; the second part pins it
 * to `classifyOutcome` on real rows, written by the queue's own statements.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { randomUUID } from "node:crypto";
import type { FailureReason, NewJobRow } from "../src/db/schema";
import {
  classifyOutcome,
  FAILURE_OUTCOMES,
  FAILURE_REASONS,
  JOB_STATUSES,
  OUTCOME_CATEGORIES,
  providerFault,
} from "../src/domain/outcome";
import { ERROR_CODES } from "../src/lib/errors";
import { providerErrorCode } from "../src/metrics";
import { Store } from "../src/store/index";
import { freshDatabase } from "./helpers/app";

describe("classifyOutcome", () => {
  test("every final status/reason pair falls in exactly one category; active jobs in none", () => {
    const seen = new Set<string>();
    for (const status of JOB_STATUSES) {
      for (const reason of [null, ...FAILURE_REASONS, "a_reason_from_a_newer_build"]) {
        const o = classifyOutcome(status, reason);
        if (status === "pending" || status === "processing") expect(o).toBeNull();
        else expect(OUTCOME_CATEGORIES).toContain(o!.category);
        if (o) seen.add(o.category);
      }
    }
    expect([...seen].sort()).toEqual([...OUTCOME_CATEGORIES].sort());
  });

  test("the booth's answer for each way a job ends (SPEC §2)", () => {
    const answer = (status: string, reason: string | null) => {
      const o = classifyOutcome(status, reason)!;
      return [o.category, o.httpStatus, o.code];
    };
    expect(answer("succeeded", null)).toEqual(["success", 200, null]);
    expect(answer("timeout", "timeout")).toEqual(["timeouts", 504, "sync_timeout"]);
    expect(answer("failed", "timeout")).toEqual(["timeouts", 504, "sync_timeout"]);
    expect(answer("cancelled", "cancelled")).toEqual(["cancelled", 503, "job_cancelled"]);
    expect(answer("failed", "provider_error")).toEqual(["provider_errors", 502, "provider_error"]);
    // Counted apart from the provider's errors: the slot could not run, no provider was called.
    expect(answer("failed", "invalid_config")).toEqual(["invalid_config", 502, "invalid_config"]);
    expect(answer("failed", "provider_blocked")).toEqual(["provider_errors", 422, "provider_blocked"]);
    // Counted apart too: the provider answered, only never with an image (not a timeout, not an error).
    expect(answer("failed", "provider_no_image")).toEqual(["provider_no_image", 502, "provider_no_image"]);
    // Faults are not 500s: work cut short by restarts → 503, a disk that filled after acceptance → 507.
    expect(answer("failed", "interrupted")).toEqual(["provider_errors", 503, "service_unavailable"]);
    expect(answer("failed", "storage_full")).toEqual(["provider_errors", 507, "insufficient_storage"]);
    expect(answer("failed", "internal_error")).toEqual(["provider_errors", 500, "internal_error"]);
    expect(answer("failed", null)).toEqual(["provider_errors", 500, "internal_error"]);
    expect(answer("failed", "a_reason_from_a_newer_build")).toEqual([
      "provider_errors",
      500,
      "internal_error",
    ]);
  });

  test("a reason's HTTP status is its error code's status in the registry", () => {
    for (const reason of FAILURE_REASONS) {
      const o = classifyOutcome("failed", reason)!;
      expect(o.code).toBe(FAILURE_OUTCOMES[reason].code);
      expect(o.httpStatus).toBe(ERROR_CODES[FAILURE_OUTCOMES[reason].code].status);
    }
  });
});

describe("the statistics' SQL counts what classifyOutcome says", () => {
  let store: Store;
  const created = new Date("2026-03-02T10:00:00Z");

  /** A job created through the queue's insert; `later` is after its deadline. */
  async function newJob(expiresInMs = 48_000): Promise<string> {
    const id = randomUUID();
    const row: NewJobRow = {
      id,
      slotId: "slot-004",
      source: "ingest",
      status: "pending",
      provider: "local",
      operation: "greyscale",
      settings: {},
      outputFormat: "jpeg",
      createdAt: created,
      expiresAt: new Date(created.getTime() + expiresInMs),
    };
    const inserted = await store.jobs.insertJobWithinCap(row, 1000, created);
    expect(inserted.kind).toBe("inserted");
    return id;
  }

  async function claimed(expiresInMs?: number) {
    const id = await newJob(expiresInMs);
    const job = await store.jobs.claimNextJob("test/1", created);
    expect(job!.id).toBe(id);
    return job!;
  }

  beforeAll(async () => {
    store = Store.open(await freshDatabase(), { max: 2 });
    const at = new Date(created.getTime() + 1000);
    // every way a job can end, through the queue's own statements
    const ok = await claimed();
    await store.jobs.finalizeSucceeded(
      ok.id,
      ok.leaseToken!,
      at,
      {
        resultPath: `results/${ok.id}.jpg`,
        servedProvider: "local",
        thumbPath: null,
        resultMime: "image/jpeg",
        resultSize: 1,
        resultSha256: "x",
        resultExpiresAt: new Date(at.getTime() + 3_600_000),
        providerLatencyMs: 10,
      },
      { details: {} },
    );
    const reasons = [...FAILURE_REASONS, "a_reason_from_a_newer_build"] as FailureReason[];
    for (const reason of reasons) {
      const j = await claimed();
      expect(
        await store.jobs.finalizeFailed(j.id, j.leaseToken!, at, reason, "x", 5, { details: {} }),
      ).not.toBeNull();
    }
    await store.jobs.cancelJob(await newJob(), at, "test");
    const late = await claimed(500);
    expect(await store.jobs.expireJob(late.id, at)).not.toBeNull();
    await newJob(); // still pending: not counted
  });
  afterAll(() => store.close());

  test("the aggregate, the per-slot window counts and classifyOutcome agree", async () => {
    const { rows } = await store.jobs.list({ offset: 0, limit: 100 });
    expect(rows.length).toBe(FAILURE_REASONS.length + 5);
    const expected = {
      success: 0,
      timeouts: 0,
      provider_errors: 0,
      provider_no_image: 0,
      invalid_config: 0,
      cancelled: 0,
    };
    for (const r of rows) {
      const o = classifyOutcome(r.status, r.failureReason);
      if (o) expected[o.category]++;
    }
    const range = { from: created, to: new Date(created.getTime() + 60_000) };
    const [all] = await store.jobs.aggregateJobs(range, null);
    expect({
      success: all!.success,
      timeouts: all!.timeouts,
      provider_errors: all!.provider_errors,
      provider_no_image: all!.provider_no_image,
      invalid_config: all!.invalid_config,
      cancelled: all!.cancelled,
    }).toEqual(expected);
    const [window] = await store.jobs.windowCounts(created);
    expect(window).toMatchObject({ slot_id: "slot-004", ...expected });
    // each category is hit at least once, so a wrong predicate cannot hide behind zeros
    expect(Object.values(expected).every((n) => n > 0)).toBe(true);
  });
});

describe("the provider's fault, one rule for metrics and statistics", () => {
  const at = new Date();
  test.each([
    ["failed", "provider_error", at, "provider_error"],
    ["failed", "provider_blocked", at, "provider_blocked"],
    ["failed", "provider_no_image", at, "provider_no_image"],
    ["timeout", "timeout", at, "timeout"],
    ["timeout", "timeout", null, null], // never started: no provider was waited on
    ["failed", "invalid_config", at, null],
    ["failed", "interrupted", at, null],
    ["failed", "internal_error", at, null],
    ["failed", "storage_full", at, null],
    ["cancelled", "cancelled", at, null],
    ["succeeded", null, at, null],
  ] as const)("%s/%s (started: %p) → %p", (status, failureReason, startedAt, expected) => {
    const job = { status, failureReason, startedAt } as const;
    expect(providerFault(job)).toBe(expected);
    expect(providerErrorCode(job as never)).toBe(expected);
  });
});
