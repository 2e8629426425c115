/** Response shapes of the provider check, for the document (TypeBox; mirrors check.ts's CheckReport). */
import { type TSchema, Type } from "@sinclair/typebox";
import { CHECKABLE } from "./check";

const nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);

export const CheckReport = Type.Object(
  {
    provider: Type.Union(CHECKABLE.map((p) => Type.Literal(p))),
    ok: Type.Boolean(),
    code: nullable(
      Type.Union(
        [
          "no_key",
          "bad_key",
          "unknown_model",
          "no_public_url",
          "unreachable_public_url",
          "quota_exhausted",
          "unavailable",
          "timeout",
          "failed",
        ].map((c) => Type.Literal(c)),
        { description: "Why the check failed; null when it passed" },
      ),
    ),
    reason: nullable(Type.String({ description: "Plain words: what went wrong and what to do" })),
    model: nullable(Type.String()),
    latency_ms: Type.Number(),
    steps: Type.Array(
      Type.Object(
        {
          name: Type.Union([Type.Literal("models"), Type.Literal("model"), Type.Literal("edit")]),
          ok: Type.Boolean(),
          ms: Type.Number(),
          detail: Type.String(),
        },
        { additionalProperties: false },
      ),
    ),
    account: Type.Object(
      {
        image_models: Type.Optional(Type.Array(Type.String())),
        balance: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
        rate_limits: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
      },
      {
        additionalProperties: false,
        description: "What the account can use; balance or rate limits reported",
      },
    ),
    quota: nullable(
      Type.Object(
        {
          requests_today: Type.Integer(),
          daily_limit: nullable(Type.Number()),
          exhausted: Type.Boolean(),
          resets_at: Type.String({ format: "date-time" }),
          reset_zone: Type.String(),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false, title: "ProviderCheckReport" },
);
