/** Request and response schemas of the statistics API (the TS types are `typeof X.static`). */
import { t } from "elysia";
import { FAILURE_REASONS } from "../../domain/outcome";
import { SLOT_ID_PATTERN } from "../../domain/slots";
import { PROVIDER_IDS } from "../../providers/types";

const time = t.String({
  description:
    "ISO 8601 date-time (`2026-11-01T10:00:00Z`), local date-time, or date (`from`: start of that day; `to`: its end)",
});
const providerId = t.Union(
  PROVIDER_IDS.map((p) => t.Literal(p)),
  { description: "Provider id" },
);

export const GlobalStatsQuery = t.Object({
  from: t.Optional(time),
  to: t.Optional(time),
  group_by: t.Optional(
    t.Union([t.Literal("day"), t.Literal("week"), t.Literal("month")], { default: "week" }),
  ),
  slot_id: t.Optional(t.String({ pattern: SLOT_ID_PATTERN })),
  provider: t.Optional(providerId),
  // Bounds are checked by `intParam` (Elysia reports a failed numeric bound without the field name).
  page: t.Optional(t.Numeric({ description: "Page of buckets, from 1" })),
  page_size: t.Optional(t.Numeric({ description: "Buckets per page, 1–500 (default 100)" })),
});
export type GlobalStatsQuery = typeof GlobalStatsQuery.static;

export const SlotStatsQuery = t.Object({
  from: t.Optional(time),
  to: t.Optional(time),
  group_by: t.Optional(t.Union([t.Literal("hour"), t.Literal("day"), t.Literal("week")], { default: "day" })),
});
export type SlotStatsQuery = typeof SlotStatsQuery.static;

export const OverviewQuery = t.Object({
  window_minutes: t.Optional(t.Numeric({ description: "5–43200 (default 60)" })),
});

const count = t.Integer({ minimum: 0 });
const ms = t.Union([t.Integer(), t.Null()], { description: "Milliseconds; null when there were no jobs" });

const counters = {
  success: count,
  timeouts: count,
  provider_errors: t.Integer({
    minimum: 0,
    description:
      "The provider failed or refused: provider_error, provider_blocked, interrupted, internal_error",
  }),
  provider_no_image: t.Integer({
    minimum: 0,
    description: "The provider kept answering without an image (Gemini NO_IMAGE) until the retries ran out",
  }),
  invalid_config: t.Integer({
    minimum: 0,
    description:
      "The slot could not run as configured (no key, template or public URL); no provider was called",
  }),
  cancelled: count,
  errors: t.Integer({
    minimum: 0,
    description: "timeouts + provider_errors + provider_no_image + invalid_config + cancelled",
  }),
  ingest_count: t.Integer({ minimum: 0, description: "success + errors" }),
};
const latencies = {
  p50_latency_ms: ms,
  p95_latency_ms: ms,
  p50_provider_latency_ms: ms,
  p95_provider_latency_ms: ms,
};

export const StatsBucket = t.Object({
  period_start: t.String({ format: "date-time" }),
  period_end: t.String({ format: "date-time" }),
  ...counters,
  ...latencies,
});
export type StatsBucket = typeof StatsBucket.static;

export const FailureReasons = t.Record(t.String(), count, {
  description: `Finished failures by failure_reason (${FAILURE_REASONS.join(", ")})`,
});

export const StatsSummary = t.Object({
  ...counters,
  fallback_success: t.Integer({
    minimum: 0,
    description: "Successes the slot's fallback provider served after the primary failed (part of success)",
  }),
  ...latencies,
  success_rate: t.Number(),
  timeout_rate: t.Number(),
  failure_reasons: FailureReasons,
});
export type StatsSummary = typeof StatsSummary.static;

/** What the period cost (src/domain/cost.ts): billed requests × the prices in Settings. */
const costFields = {
  cost: t.Number({
    minimum: 0,
    description:
      "Money spent in the range, in `currency`: provider answers that carried an image (booth, test runs and re-runs; a late or unstored image too) × provider_price. Providers without a price are left out (cost_detail.unpriced_requests)",
  }),
  currency: t.String({ description: "The `currency` setting (ISO 4217)" }),
  cost_detail: t.Object({
    by_provider: t.Record(
      t.String(),
      t.Object({
        requests: t.Integer({ minimum: 0, description: "Billed requests (answers with an image)" }),
        price: t.Union([t.Number(), t.Null()]),
        cost: t.Union([t.Number(), t.Null()]),
      }),
    ),
    unpriced_requests: t.Integer({ minimum: 0 }),
  }),
  provider_queue: t.Object(
    {
      timeouts: t.Integer({ minimum: 0 }),
      timeouts_with_provider_ref: t.Integer({
        minimum: 0,
        description:
          "Timeouts the provider had already queued (a provider job reference such as Turbotext's queueid): it still worked on them at the deadline",
      }),
      share: t.Number({ description: "timeouts_with_provider_ref / timeouts (0 without timeouts)" }),
    },
    { description: "Booth timeouts in the range, and how many a provider had in its queue" },
  ),
};

const range = t.Object({
  from: t.String({ format: "date-time" }),
  to: t.String({ format: "date-time" }),
  group_by: t.String(),
  time_zone: t.String(),
});

export const GlobalStatsResponse = t.Object({
  range,
  filters: t.Object({ slot_id: t.Union([t.String(), t.Null()]), provider: t.Union([t.String(), t.Null()]) }),
  summary: StatsSummary,
  data: t.Array(StatsBucket),
  meta: t.Object({ page: t.Integer(), page_size: t.Integer(), total: t.Integer() }),
  ...costFields,
});
export type GlobalStatsResponse = typeof GlobalStatsResponse.static;

export const SlotStatsResponse = t.Object({
  slot_id: t.String(),
  range,
  summary: t.Composite([
    StatsSummary,
    t.Object({
      title: t.String(),
      last_reset_at: t.Union([t.String({ format: "date-time" }), t.Null()]),
      since: t.String({ format: "date-time", description: "last_reset_at, or `from` if never reset" }),
    }),
  ]),
  data: t.Array(StatsBucket),
  ...costFields,
});
export type SlotStatsResponse = typeof SlotStatsResponse.static;

const nullableTime = t.Union([t.String({ format: "date-time" }), t.Null()]);

export const OverviewSlot = t.Object({
  slot_id: t.String(),
  name: t.String(),
  enabled: t.Boolean(),
  provider: t.String(),
  operation: t.String(),
  ...counters,
  success_rate: t.Number(),
  timeout_rate: t.Number(),
  last_success_at: nullableTime,
  last_error_at: nullableTime,
  last_error_reason: t.Union([t.String(), t.Null()]),
});
export type OverviewSlot = typeof OverviewSlot.static;

export const RecentFailure = t.Object({
  job_id: t.String(),
  slot_id: t.String(),
  finished_at: t.String({ format: "date-time" }),
  status: t.String(),
  failure_reason: t.String(),
  http_status: t.Integer(),
  message: t.Union([t.String(), t.Null()]),
});
export type RecentFailure = typeof RecentFailure.static;

export const OverviewResponse = t.Object({
  window_minutes: t.Integer(),
  generated_at: t.String({ format: "date-time" }),
  system: t.Object({
    ...counters,
    success_rate: t.Number(),
    timeout_rate: t.Number(),
    queue: t.Object({ pending: count, processing: count }),
    media_bytes: t.Record(t.String(), count),
    disk: t.Object({ free_bytes: count, total_bytes: count }),
  }),
  slots: t.Array(OverviewSlot),
  recent_failures: t.Array(RecentFailure),
});
export type OverviewResponse = typeof OverviewResponse.static;
