/**
 * Turbotext (turbotext.ru): form-encoded POSTs to `{base}/api_ai/<method>` with a Bearer key.
 * Turbotext downloads its inputs by URL, so the photo and templates are published as temporary
 * public media objects first. `do=create_queue` answers a `queueid` (kept on the job), then
 * `do=get_result` is polled — `{"action":"reconnect"}` while it works — until the result's
 * `uploaded_image` can be downloaded. Polling ends at the job's deadline. Every poll is a `poll`
 * step in the job's timeline (with the queue id and what Turbotext said) and counts in
 * `photochanger_provider_polls_total`.
 */
import { Type } from "@sinclair/typebox";
import type { Config } from "../config";
import {
  FACE_TEMPLATE,
  imageFromBytes,
  isNetworkError,
  maxInputSide,
  operationOf,
  optionalPrompt,
  parseRetryAfter,
  pause,
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

const pollInterval = Type.Integer({
  minimum: 250,
  maximum: 10_000,
  default: 2000,
  title: "Result check interval, ms",
  description: "How often Turbotext is asked whether the image is ready.",
});

const SPEC: Provider["spec"] = {
  id: "turbotext",
  label: "Turbotext",
  acceptsHeic: false,
  needsPublicUrl: true,
  needsApiKey: true,
  downscaleInputs: true,
  operations: [
    {
      id: "image2image",
      label: { ru: "Обработка фото", en: "Image to image" },
      hint: { ru: "Фото + промпт (generate_image2image).", en: "Photo + prompt (generate_image2image)." },
      prompt: "required",
      templates: [],
      needsTestPhoto: true,
      settings: Type.Object(
        {
          prompt: requiredPrompt,
          strength: Type.Integer({
            minimum: 0,
            maximum: 80,
            default: 40,
            title: "Strength",
            description: "How far the result may move away from the photo (0–80).",
          }),
          seed: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000_000_000, title: "Seed" })),
          scale: Type.Number({
            minimum: 0.1,
            maximum: 20,
            default: 7.5,
            title: "Prompt adherence (scale)",
          }),
          negative_prompt: Type.Optional(
            Type.String({ maxLength: 1000, title: "Negative prompt", description: "What to avoid." }),
          ),
          original_language: Type.String({
            pattern: "^[a-z]{2}$",
            default: "ru",
            title: "Prompt language",
            description: "Two-letter code of the prompt's language.",
          }),
          max_input_side: maxInputSide,
          poll_interval_ms: pollInterval,
        },
        { additionalProperties: false },
      ),
    },
    {
      id: "style_transfer",
      label: { ru: "Микс-фото (перенос стиля)", en: "Style transfer (mix images)" },
      hint: { ru: "Фото + шаблон стиля (mix_images).", en: "Photo + style template (mix_images)." },
      prompt: "optional",
      templates: [STYLE_TEMPLATE],
      needsTestPhoto: true,
      settings: Type.Object(
        { prompt: optionalPrompt, max_input_side: maxInputSide, poll_interval_ms: pollInterval },
        { additionalProperties: false },
      ),
    },
    {
      id: "identity_transfer",
      label: { ru: "Замена лица", en: "Face swap" },
      hint: {
        ru: "Лицо с шаблона переносится на фото (deepfake_photo).",
        en: "The template's face goes onto the photo (deepfake_photo).",
      },
      prompt: "none",
      templates: [FACE_TEMPLATE],
      needsTestPhoto: true,
      settings: Type.Object(
        {
          face_restore: Type.Boolean({ default: true, title: "Restore face detail" }),
          max_input_side: maxInputSide,
          poll_interval_ms: pollInterval,
        },
        { additionalProperties: false },
      ),
    },
  ],
};

const WHO = { id: "turbotext", label: "Turbotext" };

interface TurbotextAnswer {
  success?: boolean;
  action?: string;
  error?: string;
  message?: string;
  queueid?: number | string;
  uploaded_image?: string;
  /** The account's remaining balance, e.g. `{"foto_limit": 99, "text_limit": 0}`. */
  limits?: Record<string, unknown>;
  data?: {
    uploaded_image?: string;
    image?: string[] | string;
    forbidden_content?: boolean | string | number;
  };
}

/** The method and form fields of `do=create_queue` for the slot's operation. */
async function buildRequest(
  ctx: ProviderContext,
): Promise<{ method: string; fields: Record<string, string> }> {
  const op = operationOf(SPEC, ctx);
  refuseHeic(ctx, "Turbotext");
  const templates = templatesFor(op, ctx);
  const s = ctx.settings;
  const photoUrl = await ctx.publish(ctx.photo, "turbotext_photo");
  const templateUrl = async (role: string) => {
    const t = templates.find((x) => x.role === role)!;
    return ctx.publish(t.image, `turbotext_${role}`);
  };
  switch (op.id) {
    case "image2image": {
      const fields: Record<string, string> = {
        url: photoUrl,
        content: String(s.prompt),
        strength: String(s.strength),
        scale: String(s.scale),
        original_language: String(s.original_language),
      };
      if (s.seed !== undefined) fields.seed = String(s.seed);
      if (s.negative_prompt) fields.negative_prompt = String(s.negative_prompt);
      return { method: "generate_image2image", fields };
    }
    case "style_transfer": {
      const fields: Record<string, string> = { url_image_target: photoUrl, url: await templateUrl("style") };
      if (typeof s.prompt === "string" && s.prompt.trim()) fields.content = s.prompt;
      return { method: "mix_images", fields };
    }
    case "identity_transfer":
      return {
        method: "deepfake_photo",
        fields: {
          url: photoUrl,
          url_image_target: await templateUrl("face"),
          face_restore: s.face_restore === false ? "False" : "True",
        },
      };
    default:
      throw new ProviderFailure("invalid_config", `Turbotext has no operation "${op.id}"`);
  }
}

/** Maps Turbotext's `success:false` error codes to job failures. */
function refusal(answer: TurbotextAnswer, apiKey: string | null): ProviderFailure {
  const code = sanitize(String(answer.error || answer.message || "unknown error"), [apiKey], 200);
  if (/forbidden|nsfw|censor|prohibit/i.test(code)) {
    return new ProviderFailure("provider_blocked", `Turbotext refused this photo (${code})`, { error: code });
  }
  if (/limit|balance|no_money|not enough/i.test(code)) {
    return new ProviderFailure(
      "provider_error",
      `Turbotext's balance is used up (${code}) — top up the account`,
      { error: code },
      true,
    );
  }
  return new ProviderFailure("provider_error", `Turbotext refused the job (${code})`, { error: code });
}

export function createTurbotextProvider(config: Config): Provider {
  const base = config.providers.turbotext.baseUrl.replace(/\/+$/, "");

  async function post(ctx: ProviderContext, method: string, fields: Record<string, string>) {
    return withTransientRetries(ctx, WHO, async () => {
      let res: Response;
      // Each queued job is a billed attempt; polling for its result is not.
      if (fields.do === "create_queue") await ctx.countRequest?.();
      try {
        res = await fetch(`${base}/api_ai/${method}`, {
          method: "POST",
          headers: {
            Authorization: `Bearer ${ctx.apiKey}`,
            "Content-Type": "application/x-www-form-urlencoded",
            Accept: "application/json",
          },
          body: new URLSearchParams(fields).toString(),
          signal: ctx.signal,
        });
      } catch (err) {
        stopIfAborted(ctx.signal);
        if (isNetworkError(err)) throw new TransientError("network", "network error");
        throw err;
      }
      const text = await res.text();
      if (TRANSIENT_STATUSES.has(res.status)) {
        throw new TransientError(
          `http_${res.status}`,
          `HTTP ${res.status}`,
          res.status,
          parseRetryAfter(res.headers.get("retry-after"), ctx.clock.now()),
        );
      }
      if (res.status === 401 || res.status === 403) {
        throw new ProviderFailure(
          "provider_error",
          `Turbotext rejected the API key (HTTP ${res.status}) — check it in Settings → Provider keys`,
          { http_status: res.status },
        );
      }
      if (!res.ok) {
        throw new ProviderFailure(
          "provider_error",
          `Turbotext refused the request (HTTP ${res.status}: ${sanitize(text, [ctx.apiKey], 200)})`,
          { http_status: res.status },
        );
      }
      try {
        return JSON.parse(text) as TurbotextAnswer;
      } catch {
        throw new ProviderFailure("provider_error", "Turbotext sent a response that could not be read");
      }
    });
  }

  /** Downloads the result; the key is only sent back to Turbotext's own host. */
  async function download(ctx: ProviderContext, link: string): Promise<ProviderImage> {
    const url = new URL(link, `${base}/`);
    const sameHost = url.origin === new URL(base).origin;
    return withTransientRetries(ctx, WHO, async () => {
      let res: Response;
      try {
        res = await fetch(url, {
          headers: sameHost ? { Authorization: `Bearer ${ctx.apiKey}` } : {},
          signal: ctx.signal,
        });
      } catch (err) {
        stopIfAborted(ctx.signal);
        if (isNetworkError(err)) throw new TransientError("network", "network error while downloading");
        throw err;
      }
      // The file can appear a moment after the queue says it is done.
      if (TRANSIENT_STATUSES.has(res.status) || res.status === 404 || res.status === 410) {
        throw new TransientError(`download_${res.status}`, `result download HTTP ${res.status}`, res.status);
      }
      if (!res.ok) {
        throw new ProviderFailure("provider_error", `Turbotext result download failed (HTTP ${res.status})`);
      }
      return imageFromBytes(new Uint8Array(await res.arrayBuffer()), "Turbotext");
    });
  }

  return {
    spec: SPEC,
    async run(ctx) {
      const { method, fields } = await buildRequest(ctx);
      const created = await post(ctx, method, { do: "create_queue", ...fields });
      if (!created.success || created.queueid === undefined || created.queueid === null) {
        throw refusal(created, ctx.apiKey);
      }
      const queueid = String(created.queueid);
      await ctx.setProviderRef(queueid);
      const interval = Number(ctx.settings.poll_interval_ms ?? 2000);

      for (let poll = 1; ; poll++) {
        await pause(interval, ctx.signal);
        let answer: TurbotextAnswer;
        try {
          answer = await post(ctx, method, { do: "get_result", queueid });
        } catch (err) {
          // A poll that failed for good is still a poll the timeline shows (not one the deadline cut).
          if (!ctx.signal.aborted)
            await ctx.step("poll", { provider: "turbotext", queueid, poll, answer: "failed" });
          throw err;
        }
        const said = answer.action === "reconnect" ? "reconnect" : answer.success ? "done" : "refused";
        await ctx.step("poll", { provider: "turbotext", queueid, poll, answer: said });
        if (answer.action === "reconnect") continue;
        if (answer.limits && ctx.report) ctx.report({ limits: answer.limits });
        if (!answer.success) throw refusal(answer, ctx.apiKey);
        const forbidden = answer.data?.forbidden_content;
        if (forbidden === true || forbidden === "true" || forbidden === "True" || forbidden === 1) {
          throw new ProviderFailure("provider_blocked", "Turbotext flagged the photo as forbidden content");
        }
        const images = answer.data?.image;
        const link =
          answer.uploaded_image ||
          answer.data?.uploaded_image ||
          (Array.isArray(images) ? images[0] : images) ||
          null;
        if (!link) {
          throw new ProviderFailure("provider_error", "Turbotext finished without a result image");
        }
        ctx.log.debug("turbotext.done", { queueid, polls: poll });
        return download(ctx, link);
      }
    },
  };
}
