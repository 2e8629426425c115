/** Shapes of the settings API (SPEC §6, §9). */
import { Type } from "@sinclair/typebox";
import { CURRENCY_PATTERN, PRICE_RANGE, PRICED_PROVIDERS } from "../../domain/cost";
import { FALLBACK_MIN_SECONDS_RANGE } from "../../domain/fallback";
import { MIN_INGEST_PASSWORD } from "../../domain/passwords";
import { PROVIDER_IDS } from "../../providers/types";

/** Providers that take an API key (the local provider needs none). */
export const KEYED_PROVIDERS = ["gemini", "turbotext", "openai"] as const;

export const RANGES = {
  sync_response_seconds: { minimum: 10, maximum: 60 },
  result_retention_hours: { minimum: 24, maximum: 168 },
  // A held booth request is a socket and a pending job, and a running one a network wait (see
  // docs/benchmarks.md, row 3): the caps are for the operator to set, not for the server's sake.
  max_in_flight_jobs: { minimum: 1, maximum: 5000 },
  provider_concurrency: { minimum: 1, maximum: 2048 },
  provider_daily_limit: { minimum: 1, maximum: 10_000_000 },
  fallback_min_seconds: FALLBACK_MIN_SECONDS_RANGE,
} as const;

const range = (r: { minimum: number; maximum: number }, description: string) =>
  Type.Integer({
    ...r,
    description,
    errorMessage: `Expected a whole number from ${r.minimum} to ${r.maximum}`,
  });

/** PUT /api/settings: every key optional. */
export const SettingsUpdate = Type.Object(
  {
    sync_response_seconds: Type.Optional(
      range(RANGES.sync_response_seconds, "How long the booth's request is held (T_sync_response)"),
    ),
    result_retention_hours: Type.Optional(
      range(RANGES.result_retention_hours, "How long results stay downloadable (T_result_retention)"),
    ),
    max_in_flight_jobs: Type.Optional(
      range(RANGES.max_in_flight_jobs, "Global cap on pending+processing jobs"),
    ),
    fallback_min_seconds: Type.Optional(
      range(
        RANGES.fallback_min_seconds,
        "Seconds of the deadline kept for a slot's fallback provider (the primary gets the rest); below sync_response_seconds",
      ),
    ),
    provider_concurrency: Type.Optional(
      Type.Object(
        Object.fromEntries(
          PROVIDER_IDS.map((id) => [
            id,
            Type.Optional(range(RANGES.provider_concurrency, `Parallel ${id} calls`)),
          ]),
        ),
        { additionalProperties: false },
      ),
    ),
    provider_daily_limit: Type.Optional(
      Type.Object(
        Object.fromEntries(
          KEYED_PROVIDERS.map((id) => [
            id,
            Type.Optional(
              Type.Union(
                [
                  Type.Integer({
                    ...RANGES.provider_daily_limit,
                    errorMessage: `Expected a whole number from ${RANGES.provider_daily_limit.minimum} to ${RANGES.provider_daily_limit.maximum}, or null for no limit`,
                  }),
                  Type.Null(),
                ],
                {
                  description: `Requests ${id} may take per quota day; null = unlimited`,
                  errorMessage: `Expected a whole number from ${RANGES.provider_daily_limit.minimum} to ${RANGES.provider_daily_limit.maximum}, or null for no limit`,
                },
              ),
            ),
          ]),
        ),
        { additionalProperties: false },
      ),
    ),
    provider_price: Type.Optional(
      Type.Object(
        Object.fromEntries(
          PRICED_PROVIDERS.map((id) => [
            id,
            Type.Optional(
              Type.Union(
                [
                  Type.Number({
                    ...PRICE_RANGE,
                    errorMessage: `Expected a price from ${PRICE_RANGE.minimum} to ${PRICE_RANGE.maximum}, or null for none`,
                  }),
                  Type.Null(),
                ],
                {
                  description: `Money (in \`currency\`) per ${id} request that returns an image; null = not set`,
                  errorMessage: `Expected a price from ${PRICE_RANGE.minimum} to ${PRICE_RANGE.maximum}, or null for none`,
                },
              ),
            ),
          ]),
        ),
        { additionalProperties: false },
      ),
    ),
    currency: Type.Optional(
      Type.String({
        pattern: CURRENCY_PATTERN,
        description: "ISO 4217 code of the prices, e.g. USD, EUR, RUB",
        errorMessage: "Expected a three-letter currency code such as USD or RUB",
      }),
    ),
    public_base_url: Type.Optional(
      Type.Union([Type.String({ maxLength: 500 }), Type.Null()], {
        description: "Public http(s) base URL (needed by providers that fetch inputs by URL); null clears",
        errorMessage: "Expected an http(s) URL or null",
      }),
    ),
    ingest_password: Type.Optional(
      Type.Object(
        {
          value: Type.Optional(
            Type.String({
              minLength: MIN_INGEST_PASSWORD,
              maxLength: 256,
              errorMessage: `Expected a password of at least ${MIN_INGEST_PASSWORD} characters`,
            }),
          ),
          generate: Type.Optional(Type.Literal(true)),
        },
        {
          additionalProperties: false,
          description: 'Rotate: {"value": "…"} or {"generate": true} (the new password is returned once)',
        },
      ),
    ),
    notify: Type.Optional(
      Type.Object(
        {
          webhook_url: Type.Optional(Type.Union([Type.String({ maxLength: 2048 }), Type.Null()])),
          telegram_bot_token: Type.Optional(Type.Union([Type.String({ maxLength: 300 }), Type.Null()])),
          telegram_chat_id: Type.Optional(Type.Union([Type.String({ maxLength: 80 }), Type.Null()])),
        },
        {
          additionalProperties: false,
          description:
            'Where failure bursts and recoveries are announced; a value sets a field, null or "" clears it (NOTIFY_* from the environment applies again)',
        },
      ),
    ),
    provider_keys: Type.Optional(
      Type.Object(
        Object.fromEntries(
          KEYED_PROVIDERS.map((id) => [
            id,
            Type.Optional(
              Type.Object(
                { api_key: Type.String({ maxLength: 4096, description: "Empty clears the stored key" }) },
                { additionalProperties: false },
              ),
            ),
          ]),
        ),
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);
export type SettingsUpdate = typeof SettingsUpdate.static;

const iso = Type.Union([Type.String({ format: "date-time" }), Type.Null()]);
const who = Type.Union([Type.String(), Type.Null()]);

export const SettingsViewSchema = Type.Object({
  sync_response_seconds: Type.Integer(),
  result_retention_hours: Type.Integer(),
  max_in_flight_jobs: Type.Integer(),
  fallback_min_seconds: Type.Integer(),
  provider_concurrency: Type.Record(Type.String(), Type.Integer()),
  provider_daily_limit: Type.Record(Type.String(), Type.Union([Type.Integer(), Type.Null()])),
  provider_price: Type.Record(Type.String(), Type.Union([Type.Number(), Type.Null()])),
  currency: Type.String(),
  public_base_url: Type.Union([Type.String(), Type.Null()]),
  ingest_password: Type.Object({
    is_set: Type.Boolean(),
    updated_at: iso,
    updated_by: who,
    value: Type.Optional(Type.String({ description: "Only in the PUT response that generated it" })),
  }),
  provider_keys: Type.Record(
    Type.String(),
    Type.Object({
      configured: Type.Boolean(),
      source: Type.Union([Type.Literal("settings"), Type.Literal("environment"), Type.Null()]),
      updated_at: iso,
      updated_by: who,
    }),
  ),
  notify: Type.Record(
    Type.String(),
    Type.Object({
      source: Type.Union([Type.Literal("settings"), Type.Literal("environment"), Type.Null()]),
      shown: Type.Union([
        Type.String({
          description: "The chat id; only the origin of a URL, the last 4 characters of a token",
        }),
        Type.Null(),
      ]),
      updated_at: iso,
      updated_by: who,
    }),
  ),
  ranges: Type.Record(Type.String(), Type.Object({ minimum: Type.Integer(), maximum: Type.Integer() })),
});
