/** Request and response shapes of the slot API (TypeBox; the TS types are `typeof X.static`). */
import { Type } from "@sinclair/typebox";
import { OUTPUT_FORMATS, SLOT_ID_PATTERN } from "../../domain/slots";

export const TEMPLATE_ROLE_PATTERN = "^[a-z][a-z0-9_]{0,31}$";

const outputFormat = Type.Union(
  OUTPUT_FORMATS.map((f) => Type.Literal(f)),
  { errorMessage: `Expected one of ${OUTPUT_FORMATS.join(", ")}`, description: "Format of the result" },
);
const settings = Type.Record(Type.String(), Type.Unknown(), {
  description:
    "Provider settings, validated against the operation's schema in GET /api/providers. " +
    "`prompt` holds the prompt, `model` the Gemini model id.",
});

/** A slot's fallback provider: validated like the primary's provider, operation and settings. */
export const Fallback = Type.Object(
  {
    provider: Type.String({ minLength: 1, maxLength: 40 }),
    operation: Type.String({ minLength: 1, maxLength: 60 }),
    settings: Type.Optional(settings),
  },
  {
    additionalProperties: false,
    description:
      "The provider a job falls back to when the primary fails (error, no image, quota, unavailable, " +
      "or its share of the deadline used up); null: none",
  },
);
const fallback = Type.Union([Fallback, Type.Null()], {
  description: Fallback.description,
  errorMessage: "Expected {provider, operation, settings} or null",
});

/** PUT /api/slots/{id}: every key optional; missing keys keep their current value. */
export const SlotUpdate = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 80 })),
    enabled: Type.Optional(Type.Boolean()),
    provider: Type.Optional(Type.String({ minLength: 1, maxLength: 40 })),
    operation: Type.Optional(Type.String({ minLength: 1, maxLength: 60 })),
    settings: Type.Optional(settings),
    fallback: Type.Optional(fallback),
    size_limit_mb: Type.Optional(Type.Integer({ minimum: 1, maximum: 50 })),
    output_format: Type.Optional(outputFormat),
  },
  { additionalProperties: false },
);
export type SlotUpdate = typeof SlotUpdate.static;

/** The `overrides` part of a test run: unsaved provider/operation/settings/fallback/output format. */
export const TestRunOverrides = Type.Object(
  {
    provider: Type.Optional(Type.String({ minLength: 1, maxLength: 40 })),
    operation: Type.Optional(Type.String({ minLength: 1, maxLength: 60 })),
    settings: Type.Optional(settings),
    fallback: Type.Optional(fallback),
    output_format: Type.Optional(outputFormat),
  },
  { additionalProperties: false },
);
export type TestRunOverrides = typeof TestRunOverrides.static;

/** Booth field values for a test run: what the prompt's `{field}` placeholders are filled from. */
export const TestRunFields = Type.Record(Type.String(), Type.String({ maxLength: 2000 }), {
  maxProperties: 100,
  description:
    'The booth\'s form fields as the test should pretend they were sent, e.g. {"style": "gold"}: ' +
    "the prompt's {field} placeholders are filled from them",
});
export type TestRunFields = typeof TestRunFields.static;

export const TemplateRole = Type.String({
  pattern: TEMPLATE_ROLE_PATTERN,
  errorMessage: "A role is a lowercase name such as style or face",
});

const iso = Type.String({ format: "date-time" });
const nullableIso = Type.Union([iso, Type.Null()]);

export const SlotView = Type.Object({
  id: Type.String({ pattern: SLOT_ID_PATTERN }),
  name: Type.String(),
  enabled: Type.Boolean(),
  provider: Type.String(),
  operation: Type.String(),
  settings,
  fallback,
  size_limit_mb: Type.Integer(),
  output_format: outputFormat,
  version: Type.Integer({ minimum: 1 }),
  updated_by: Type.Union([Type.String(), Type.Null()]),
  updated_at: iso,
  stats_reset_at: nullableIso,
  ingest_url: Type.String({ description: "The URL to configure in DSLR Remote Pro" }),
});

export const TemplateView = Type.Object({
  id: Type.String({ format: "uuid" }),
  role: Type.String(),
  mime: Type.String(),
  size_bytes: Type.Integer(),
  filename: Type.Union([Type.String(), Type.Null()]),
  width: Type.Union([Type.Integer(), Type.Null()]),
  height: Type.Union([Type.Integer(), Type.Null()]),
  uploaded_by: Type.Union([Type.String(), Type.Null()]),
  created_at: iso,
  preview_url: Type.String({ description: "Admin-only preview (needs the session)" }),
});

export const RecentResult = Type.Object({
  job_id: Type.String({ format: "uuid" }),
  source: Type.String(),
  finalized_at: iso,
  result_expires_at: nullableIso,
  result_url: Type.String(),
  download_url: Type.String(),
  thumb_url: Type.String(),
});

export const SlotStatsSummary = Type.Object({
  since: nullableIso,
  total: Type.Integer(),
  succeeded: Type.Integer(),
  timeouts: Type.Integer(),
  provider_errors: Type.Integer(),
  provider_blocked: Type.Integer(),
  provider_no_image: Type.Integer({
    description: "The provider answered without an image (Gemini NO_IMAGE)",
  }),
  invalid_config: Type.Integer({
    description: "The slot could not run as configured; no provider was called",
  }),
  cancelled: Type.Integer(),
  other_failures: Type.Integer(),
  in_flight: Type.Integer(),
  fallback_success: Type.Integer({
    description: "Successes the slot's fallback provider served after the primary failed (part of succeeded)",
  }),
});

export const SlotDetail = Type.Composite([
  SlotView,
  Type.Object({
    templates: Type.Array(TemplateView),
    recent_results: Type.Array(RecentResult),
    stats: SlotStatsSummary,
    warnings: Type.Array(Type.String(), {
      description: "e.g. public_base_url_missing, template_missing:style, invalid_settings",
    }),
  }),
]);

export const TestRunResult = Type.Object({
  job_id: Type.String({ format: "uuid" }),
  status: Type.Literal("succeeded"),
  served_provider: Type.String({ description: "The provider whose image this is" }),
  fallback_used: Type.Boolean({ description: "The primary failed and the fallback served the result" }),
  result_url: Type.String(),
  thumb_url: Type.String(),
  durations: Type.Object({
    queue_wait_ms: Type.Union([Type.Integer(), Type.Null()]),
    provider_ms: Type.Union([Type.Integer(), Type.Null()]),
    total_ms: Type.Union([Type.Integer(), Type.Null()]),
  }),
});
