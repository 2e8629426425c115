/** GET /api/providers: the provider/operation catalogue the slot form is generated from. */
import { Elysia } from "elysia";
import { isQuotaProvider, type QuotaState } from "../../domain/quota";
import { AppError } from "../../lib/errors";
import { readJson } from "../../lib/validation";
import type { Services } from "../../services";
import { authPlugin } from "../auth/plugin";
import { op } from "../openapi/docs";
import { checkProvider, isCheckable } from "./check";
import { CheckReport } from "./model";

/** A provider's quota day as the API shows it. */
export function quotaJson(q: QuotaState) {
  return {
    provider: q.provider,
    day: q.day,
    requests: q.requests,
    daily_limit: q.limit,
    used_ratio: q.usedRatio,
    warning: q.warning,
    exhausted: q.exhausted,
    exhausted_by_provider: q.exhaustedByProvider,
    exhausted_message: q.exhaustedMessage,
    resets_at: q.resetsAt.toISOString(),
    reset_zone: q.zone,
  };
}

export function providerCatalogue(services: Services) {
  return services.providers.list().map(({ spec }) => ({
    id: spec.id,
    label: spec.label,
    needs_public_url: spec.needsPublicUrl,
    needs_api_key: spec.needsApiKey,
    accepts_heic: spec.acceptsHeic,
    operations: spec.operations.map((op) => ({
      id: op.id,
      label: op.label,
      hint: op.hint ?? null,
      prompt: op.prompt,
      templates: op.templates,
      needs_test_photo: op.needsTestPhoto,
      settings_schema: op.settings,
    })),
  }));
}

export const providersModule = (services: Services) =>
  new Elysia({ name: "providers" })
    .use(authPlugin(services))
    .get("/api/providers", () => ({ data: providerCatalogue(services) }), {
      scope: "slots:read",
      detail: op({
        tag: "providers",
        summary: "The provider/operation catalogue (what each operation needs, its settings schema)",
        scope: "slots:read",
      }),
    })
    .get("/api/providers/usage", async () => ({ data: (await services.quota.states()).map(quotaJson) }), {
      scope: "stats:read",
      detail: op({
        tag: "providers",
        summary: "Requests counted today per provider against its daily limit, and when each quota day ends",
        description:
          "Quota days end where the provider's own counter resets: Gemini at midnight Pacific time, " +
          "OpenAI at midnight UTC, Turbotext at midnight Moscow time. At 100 % (or after the provider " +
          "itself answered that its quota is exhausted) booth uploads to its slots get 429 provider_quota_exhausted.",
        scope: "stats:read",
      }),
    })
    .post(
      "/api/providers/:id/resume",
      async ({ params, admin }) => {
        if (!isQuotaProvider(params.id)) {
          throw new AppError(
            "provider_not_found",
            `"${params.id}" has no quota to resume (gemini, turbotext or openai)`,
          );
        }
        return quotaJson(await services.quota.resume(params.id, admin.username));
      },
      {
        scope: "settings:write",
        detail: op({
          tag: "providers",
          summary: "Take uploads for the provider again after it said its daily quota is exhausted (audited)",
          description:
            "Clears today's \"exhausted\" flag the provider's own quota answer set (its next successful job or " +
            "check clears it too). A daily limit of our own that is used up stays: raise provider_daily_limit. " +
            "Answers 200 with the provider's quota state, as in GET /api/providers/usage.",
          scope: "settings:write",
          errors: [404],
        }),
      },
    )
    .post(
      "/api/providers/:id/check",
      async ({ params, request, admin }) => {
        if (!isCheckable(params.id)) {
          throw new AppError(
            "provider_not_found",
            `Cannot check "${params.id}" (gemini, turbotext or openai)`,
          );
        }
        const parsed = await readJson(request);
        const body = (parsed && typeof parsed === "object" ? parsed : {}) as Record<string, unknown>;
        const str = (v: unknown) => (typeof v === "string" && v.trim() ? v.trim() : undefined);
        return checkProvider(services, params.id, {
          apiKey: str(body.api_key),
          model: str(body.model),
          by: admin.username,
        });
      },
      {
        scope: "settings:write",
        parse: "none",
        detail: op({
          tag: "providers",
          summary: "One minimal real call to the provider (as `photochanger provider check`)",
          description:
            'Body (optional): {"api_key": "…", "model": "…"}; by default the stored key and the model the slots use. ' +
            "Answers 200 with {ok, code, reason, latency_ms, steps, account, quota}; `ok` false with a `code` " +
            "(no_key, bad_key, unknown_model, no_public_url, unreachable_public_url, quota_exhausted, unavailable, timeout, failed).",
          scope: "settings:write",
          ok: { schema: CheckReport },
          errors: [404],
        }),
      },
    );
