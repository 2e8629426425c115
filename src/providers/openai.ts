/**
 * OpenAI image edits (`gpt-image-1.5`): one multipart POST to `{base}/v1/images/edits` with the
 * photo then the templates as repeated `image[]` parts; the answer carries the image as
 * `data[0].b64_json`. Identity transfer sends `input_fidelity` (default high: it exists to keep
 * faces). Same policy as Gemini: 429/500/503/504 retried with bounded backoff within
 * the deadline, other refusals fail at once; a moderation refusal is provider_blocked.
 */
import { type TSchema, Type } from "@sinclair/typebox";
import type { Config } from "../config";
import { EXT } from "../media/images";
import {
  FACE_TEMPLATE,
  imageFromBytes,
  isNetworkError,
  maxInputSide,
  modelId,
  oneOf,
  operationOf,
  parseRetryAfter,
  refuseHeic,
  requiredPrompt,
  STYLE_TEMPLATE,
  sanitize,
  stopIfAborted,
  TRANSIENT_STATUSES,
  TransientError,
  templatesFor,
  withTransientRetries,
} from "./common";
import { type Provider, type ProviderContext, ProviderFailure, type ProviderImage } from "./types";

export const OPENAI_SIZES = ["auto", "1024x1024", "1536x1024", "1024x1536"] as const;
const BLOCKED_CODES = new Set(["moderation_blocked", "content_policy_violation"]);

/** Models that keep faces closer with `input_fidelity=high` (gpt-image-1-mini takes only `low`). */
export function takesHighFidelity(model: string): boolean {
  return !/mini/.test(model);
}

/**
 * `input_fidelity` (identity transfer only): how hard the model works to keep the input's
 * features, faces above all — `high` is what a face swap needs, and costs more input tokens.
 */
const inputFidelity = () =>
  Type.Optional(
    oneOf(["high", "low"] as const, {
      title: "Input fidelity",
      description:
        "high (the default) keeps the faces of the photo and the template closer, for more input tokens; gpt-image-1-mini takes only low.",
    }),
  );

/**
 * The fidelity sent: the slot's, else high — except for models that take only low, where it is
 * left out (their default). Unset rather than a schema default, so a slot saved before the setting
 * existed keeps working on gpt-image-1-mini.
 */
export function fidelityFor(model: string, setting: unknown): string | null {
  if (setting === "high" || setting === "low") return setting;
  return takesHighFidelity(model) ? "high" : null;
}

const settings = (extra: Record<string, TSchema> = {}) =>
  Type.Object(
    {
      prompt: requiredPrompt,
      model: modelId("gpt-image-1.5", ["gpt-image-1.5", "gpt-image-1", "gpt-image-1-mini"]),
      size: oneOf(OPENAI_SIZES, {
        title: "Size",
        default: "auto",
        description: "1024x1024 (1:1), 1536x1024 (3:2), 1024x1536 (2:3) or auto.",
      }),
      quality: oneOf(["auto", "high", "medium", "low"] as const, { title: "Quality", default: "auto" }),
      output_format: oneOf(["png", "jpeg", "webp"] as const, {
        title: "Format OpenAI returns",
        default: "png",
        description: "The result is converted to the slot's output format anyway.",
      }),
      max_input_side: maxInputSide,
      ...extra,
    },
    { additionalProperties: false },
  );

const SPEC: Provider["spec"] = {
  id: "openai",
  label: "OpenAI GPT Image",
  acceptsHeic: false,
  needsPublicUrl: false,
  needsApiKey: true,
  downscaleInputs: true,
  operations: [
    {
      id: "image_edit",
      label: { ru: "Редактирование фото", en: "Image edit" },
      hint: {
        ru: "Фото + промпт (и, по желанию, референс).",
        en: "Photo + prompt (and an optional reference).",
      },
      prompt: "required",
      templates: [{ role: "reference", required: false, label: { ru: "Референс", en: "Reference" } }],
      needsTestPhoto: true,
      settings: settings(),
    },
    {
      id: "style_transfer",
      label: { ru: "Перенос стиля", en: "Style transfer" },
      hint: { ru: "Фото + шаблон стиля + промпт.", en: "Photo + style template + prompt." },
      prompt: "required",
      templates: [STYLE_TEMPLATE],
      needsTestPhoto: true,
      settings: settings(),
    },
    {
      id: "identity_transfer",
      label: { ru: "Перенос лица", en: "Identity transfer" },
      hint: { ru: "Фото + шаблон лица + промпт.", en: "Photo + face template + prompt." },
      prompt: "required",
      templates: [FACE_TEMPLATE],
      needsTestPhoto: true,
      settings: settings({ input_fidelity: inputFidelity() }),
      refine: (s) =>
        s.input_fidelity === "high" && !takesHighFidelity(String(s.model))
          ? [{ field: "settings.input_fidelity", message: `${s.model} takes only input_fidelity "low"` }]
          : [],
    },
  ],
};

const WHO = { id: "openai", label: "OpenAI" };

interface OpenAIError {
  error?: { message?: string; type?: string; code?: string | null };
}

function file(image: ProviderImage, name: string): File {
  return new File([image.bytes as Uint8Array<ArrayBuffer>], `${name}.${EXT[image.format]}`, {
    type: image.mime,
  });
}

/** OpenAI's `x-ratelimit-*` headers, passed on for `provider check`. */
function reportRateLimits(ctx: ProviderContext, headers: Headers): void {
  if (!ctx.report) return;
  const facts: Record<string, unknown> = {};
  for (const name of [
    "x-ratelimit-limit-requests",
    "x-ratelimit-remaining-requests",
    "x-ratelimit-reset-requests",
  ]) {
    const v = headers.get(name);
    if (v !== null) facts[name.slice("x-ratelimit-".length).replaceAll("-", "_")] = v;
  }
  if (Object.keys(facts).length) ctx.report({ rate_limits: facts });
}

export function createOpenAIProvider(config: Config): Provider {
  const base = config.providers.openai.baseUrl.replace(/\/+$/, "");
  return {
    spec: SPEC,
    async run(ctx: ProviderContext): Promise<ProviderImage> {
      const op = operationOf(SPEC, ctx);
      refuseHeic(ctx, "OpenAI");
      const templates = templatesFor(op, ctx);
      const s = ctx.settings;
      const form = () => {
        const f = new FormData();
        f.append("model", String(s.model));
        f.append("prompt", String(s.prompt));
        f.append("image[]", file(ctx.photo, "photo"));
        templates.forEach((t, i) => {
          f.append("image[]", file(t.image, `template-${i + 1}-${t.role}`));
        });
        f.append("size", String(s.size));
        f.append("quality", String(s.quality));
        f.append("output_format", String(s.output_format));
        const fidelity =
          op.id === "identity_transfer" ? fidelityFor(String(s.model), s.input_fidelity) : null;
        if (fidelity) f.append("input_fidelity", fidelity);
        f.append("n", "1");
        return f;
      };

      const body = await withTransientRetries(ctx, WHO, async () => {
        let res: Response;
        await ctx.countRequest?.();
        try {
          res = await fetch(`${base}/v1/images/edits`, {
            method: "POST",
            headers: { Authorization: `Bearer ${ctx.apiKey}` },
            body: form(),
            signal: ctx.signal,
          });
        } catch (err) {
          stopIfAborted(ctx.signal);
          if (isNetworkError(err)) throw new TransientError("network", "network error");
          throw err;
        }
        const text = await res.text();
        reportRateLimits(ctx, res.headers);
        if (res.ok) return text;
        let parsed: OpenAIError = {};
        try {
          parsed = JSON.parse(text) as OpenAIError;
        } catch {}
        const err = parsed.error ?? {};
        const detail = sanitize(
          `HTTP ${res.status}${err.type ? ` ${err.type}` : ""}${err.code ? `/${err.code}` : ""}: ${
            err.message ?? text
          }`,
          [ctx.apiKey],
        );
        if (err.code === "insufficient_quota" || err.type === "insufficient_quota") {
          // Out of credit or over the monthly budget: retrying cannot help today.
          throw new ProviderFailure(
            "provider_error",
            `OpenAI's quota is exhausted (${detail}) — check the plan and billing of the account`,
            { http_status: res.status, code: "insufficient_quota" },
            true,
          );
        }
        if (TRANSIENT_STATUSES.has(res.status)) {
          throw new TransientError(
            `http_${res.status}`,
            detail,
            res.status,
            parseRetryAfter(res.headers.get("retry-after"), ctx.clock.now()),
          );
        }
        if (err.code && BLOCKED_CODES.has(err.code)) {
          throw new ProviderFailure(
            "provider_blocked",
            `OpenAI's safety system refused this photo (${detail})`,
            {
              http_status: res.status,
              code: err.code,
            },
          );
        }
        const hint = res.status === 401 || res.status === 403 ? " — check the OpenAI API key" : "";
        throw new ProviderFailure("provider_error", `OpenAI refused the request (${detail})${hint}`, {
          http_status: res.status,
        });
      });

      let b64: unknown;
      try {
        b64 = (JSON.parse(body) as { data?: { b64_json?: unknown }[] }).data?.[0]?.b64_json;
      } catch {
        throw new ProviderFailure("provider_error", "OpenAI sent a response that could not be read");
      }
      if (typeof b64 !== "string" || !b64) {
        throw new ProviderFailure("provider_error", "OpenAI answered without an image");
      }
      return imageFromBytes(Buffer.from(b64, "base64"), "OpenAI");
    },
  };
}
