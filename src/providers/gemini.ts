/**
 * Google Gemini image models through @google/genai `models.generateContent`. Parts go photo →
 * templates → prompt; only an image is asked for. Gemini often says "no" with HTTP 200: a
 * finishReason of NO_IMAGE is retried (5 attempts, 3 s apart, while time remains), safety reasons
 * and prompt blocks become provider_blocked. HTTP 429/500/503/504 get bounded backoff within the
 * deadline; 400/403/404 fail at once.
 */
import type { GenerateContentResponse, Part, SafetySetting } from "@google/genai";
import { Type } from "@sinclair/typebox";
import type { Config } from "../config";
import {
  backoff,
  FACE_TEMPLATE,
  imageFromBytes,
  isNetworkError,
  maxInputSide,
  modelId,
  msLeft,
  oneOf,
  operationOf,
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

export const GEMINI_MODELS = ["gemini-2.5-flash-image", "gemini-3-pro-image-preview"] as const;
export const ASPECT_RATIOS = [
  "1:1",
  "2:3",
  "3:2",
  "3:4",
  "4:3",
  "4:5",
  "5:4",
  "9:16",
  "16:9",
  "21:9",
] as const;
export const IMAGE_SIZES = ["1K", "2K", "4K"] as const;

/** Gemini 3 Pro image models accept imageSize; 2.5 Flash Image rejects it. */
export function supportsImageSize(model: string): boolean {
  return /^(models\/)?gemini-3(\.\d+)?-pro/.test(model);
}

export const NO_IMAGE_ATTEMPTS = 5;
export const NO_IMAGE_PAUSE_MS = 3000;
const BLOCKED_FINISH_REASONS = new Set([
  "SAFETY",
  "IMAGE_SAFETY",
  "PROHIBITED_CONTENT",
  "IMAGE_PROHIBITED_CONTENT",
  "BLOCKLIST",
  "SPII",
]);

/**
 * Gemini's own harm categories and block thresholds (`safetySettings`), one optional slot setting
 * per category; unset leaves Google's default. They filter the prompt and text; an image the model
 * refuses to draw (IMAGE_SAFETY) is not governed by them.
 */
export const SAFETY_CATEGORIES = {
  safety_harassment: "HARM_CATEGORY_HARASSMENT",
  safety_hate_speech: "HARM_CATEGORY_HATE_SPEECH",
  safety_sexually_explicit: "HARM_CATEGORY_SEXUALLY_EXPLICIT",
  safety_dangerous_content: "HARM_CATEGORY_DANGEROUS_CONTENT",
} as const;
export const SAFETY_THRESHOLDS = [
  "BLOCK_LOW_AND_ABOVE",
  "BLOCK_MEDIUM_AND_ABOVE",
  "BLOCK_ONLY_HIGH",
  "BLOCK_NONE",
  "OFF",
] as const;

const safetySettingsSchema = () =>
  Object.fromEntries(
    Object.entries(SAFETY_CATEGORIES).map(([key, category]) => [
      key,
      Type.Optional(
        oneOf(SAFETY_THRESHOLDS, {
          title: `Safety filter: ${category}`,
          description: "Gemini's block threshold for this harm category; unset keeps Google's default.",
        }),
      ),
    ]),
  );

/** The slot's safety thresholds as Gemini's `safetySettings` (only the categories it sets). */
export function safetySettingsOf(s: Record<string, unknown>): { category: string; threshold: string }[] {
  return Object.entries(SAFETY_CATEGORIES)
    .filter(([key]) => typeof s[key] === "string")
    .map(([key, category]) => ({ category, threshold: String(s[key]) }));
}

/**
 * Above this many bytes of images a request goes over Gemini's 20 MB limit once base64-encoded
 * (4/3) with its JSON around it: the largest inputs then go through the Files API (an upload, then
 * a `fileData` part), until what stays inline fits.
 */
export const INLINE_LIMIT_BYTES = 14 * 1024 * 1024;

const settings = () =>
  Type.Object(
    {
      prompt: requiredPrompt,
      model: modelId(GEMINI_MODELS[0], [...GEMINI_MODELS]),
      aspect_ratio: Type.Optional(
        oneOf(ASPECT_RATIOS, {
          title: "Aspect ratio",
          description: "Shape of the result; the model decides when unset.",
        }),
      ),
      image_size: Type.Optional(
        oneOf(IMAGE_SIZES, {
          title: "Resolution",
          description: "Only Gemini 3 Pro models use it; ignored for gemini-2.5-flash-image.",
        }),
      ),
      max_input_side: maxInputSide,
      ...safetySettingsSchema(),
    },
    { additionalProperties: false },
  );

const SPEC: Provider["spec"] = {
  id: "gemini",
  label: "Google Gemini",
  acceptsHeic: true,
  needsPublicUrl: false,
  needsApiKey: true,
  downscaleInputs: true,
  operations: [
    {
      id: "image_edit",
      label: { ru: "Редактирование фото", en: "Image edit" },
      hint: { ru: "Фото + промпт.", en: "Photo + prompt." },
      prompt: "required",
      templates: [],
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
      hint: {
        ru: "Фото + шаблон с лицом/персонажем + промпт.",
        en: "Photo + face/person template + prompt.",
      },
      prompt: "required",
      templates: [FACE_TEMPLATE],
      needsTestPhoto: true,
      settings: settings(),
    },
  ],
};

const WHO = { id: "gemini", label: "Gemini" };

type Verdict =
  | { kind: "image"; image: ProviderImage }
  | { kind: "no_image" }
  | { kind: "blocked"; reason: string; message: string }
  | { kind: "empty"; reason: string; message: string };

/** Walks every candidate part for an image, skipping thought parts; otherwise explains why not. */
export function readGeminiResponse(res: GenerateContentResponse): Verdict {
  const candidates = res.candidates ?? [];
  for (const c of candidates) {
    for (const part of c.content?.parts ?? []) {
      if (part.thought) continue;
      const data = part.inlineData?.data;
      if (data && (part.inlineData?.mimeType ?? "image/").startsWith("image/")) {
        return { kind: "image", image: imageFromBytes(Buffer.from(data, "base64"), "Gemini") };
      }
    }
  }
  const blockReason = res.promptFeedback?.blockReason;
  if (blockReason) {
    const msg = res.promptFeedback?.blockReasonMessage;
    return {
      kind: "blocked",
      reason: String(blockReason),
      message: msg ?? `the prompt was blocked (${blockReason})`,
    };
  }
  const reasons = candidates.map((c) => String(c.finishReason ?? "")).filter(Boolean);
  const finishMessage = candidates.map((c) => c.finishMessage).find(Boolean) ?? "";
  const blocked = reasons.find((r) => BLOCKED_FINISH_REASONS.has(r));
  if (blocked) {
    return {
      kind: "blocked",
      reason: blocked,
      message: finishMessage || `the image was blocked (${blocked})`,
    };
  }
  if (reasons.includes("NO_IMAGE")) return { kind: "no_image" };
  const reason = reasons[0] ?? (candidates.length ? "unknown" : "no candidates");
  return { kind: "empty", reason, message: finishMessage };
}

/**
 * Whether a 429 RESOURCE_EXHAUSTED names a per-day quota (a `google.rpc.QuotaFailure` violation
 * such as `GenerateRequestsPerDayPerProjectPerModel`): that one will not clear by retrying today,
 * unlike the per-minute limits, which are retried with backoff.
 */
export function dailyQuotaViolation(details: unknown[]): string | null {
  for (const d of details) {
    const violations = (d as { violations?: unknown })?.violations;
    if (!Array.isArray(violations)) continue;
    for (const v of violations as { quotaId?: unknown; quotaMetric?: unknown }[]) {
      const id = `${v.quotaId ?? ""} ${v.quotaMetric ?? ""}`;
      if (/per_?day|PerDay/i.test(id)) return String(v.quotaId ?? v.quotaMetric);
    }
  }
  return null;
}

type GenAi = typeof import("@google/genai");
let genAi: Promise<GenAi> | null = null;

/**
 * The SDK is megabytes of JavaScript: loaded by the first Gemini call, not at start (it was a third
 * of the binary's cold start).
 */
function loadGenAi(): Promise<GenAi> {
  genAi ??= import("@google/genai");
  return genAi;
}

/** Turns an SDK/network error into a retryable TransientError or a final ProviderFailure. */
function classify(err: unknown, apiKey: string | null, ApiError: GenAi["ApiError"]): unknown {
  if (err instanceof ApiError) {
    const { status: rpcStatus, message, details } = rpcError(err.message);
    const text = sanitize(`HTTP ${err.status}${rpcStatus ? ` ${rpcStatus}` : ""}: ${message}`, [apiKey]);
    const daily = err.status === 429 ? dailyQuotaViolation(details) : null;
    if (daily) {
      return new ProviderFailure(
        "provider_error",
        `Gemini's daily quota is exhausted (${sanitize(daily, [apiKey], 100)}); it resets at midnight Pacific time`,
        { http_status: 429, quota_id: sanitize(daily, [apiKey], 100) },
        true,
      );
    }
    if (TRANSIENT_STATUSES.has(err.status)) return new TransientError(`http_${err.status}`, text, err.status);
    const hint =
      err.status === 403 || /API_KEY_INVALID|API key not valid/i.test(message)
        ? " — check the Gemini API key"
        : err.status === 404
          ? " — check the model id in the slot settings"
          : "";
    return new ProviderFailure("provider_error", `Gemini refused the request (${text})${hint}`, {
      http_status: err.status,
    });
  }
  if (err instanceof SyntaxError) {
    return new ProviderFailure("provider_error", "Gemini sent a response that could not be read");
  }
  if (isNetworkError(err)) {
    return new TransientError("network", sanitize(`network error: ${(err as Error).message}`, [apiKey]));
  }
  return err;
}

/** The SDK puts the JSON error body in the message: pull out Google's status, text and details. */
export function rpcError(body: string): { status: string | null; message: string; details: unknown[] } {
  try {
    const parsed = JSON.parse(body) as { error?: { status?: string; message?: unknown; details?: unknown } };
    const message = parsed.error?.message;
    return {
      status: parsed.error?.status ?? null,
      message: typeof message === "string" ? message : JSON.stringify(message ?? body),
      details: Array.isArray(parsed.error?.details) ? parsed.error.details : [],
    };
  } catch {
    return { status: null, message: body, details: [] };
  }
}

function b64(image: ProviderImage): Part {
  return { inlineData: { mimeType: image.mime, data: Buffer.from(image.bytes).toString("base64") } };
}

export function createGeminiProvider(config: Config): Provider {
  const { baseUrl, apiVersion } = config.providers.gemini;
  return {
    spec: SPEC,
    async run(ctx: ProviderContext): Promise<ProviderImage> {
      const op = operationOf(SPEC, ctx);
      const templates = templatesFor(op, ctx);
      const s = ctx.settings;
      const model = String(s.model ?? GEMINI_MODELS[0]);
      const imageConfig: Record<string, string> = {};
      if (s.aspect_ratio) imageConfig.aspectRatio = String(s.aspect_ratio);
      if (s.image_size && supportsImageSize(model)) imageConfig.imageSize = String(s.image_size);
      const safetySettings = safetySettingsOf(s);

      // A client per job: a key changed in Settings applies to the next job without a restart.
      const { ApiError, GoogleGenAI } = await loadGenAi();
      const ai = new GoogleGenAI({
        apiKey: ctx.apiKey ?? "",
        apiVersion,
        httpOptions: baseUrl ? { baseUrl } : undefined,
      });
      const images = [ctx.photo, ...templates.map((t) => t.image)];
      const upload = viaFilesApi(images.map((i) => i.bytes.byteLength));
      const uploaded: string[] = [];
      try {
        const imageParts: Part[] = [];
        for (const [i, image] of images.entries()) {
          imageParts.push(
            upload.has(i) ? await uploadFile(ctx, ai, ApiError, image, i, uploaded) : b64(image),
          );
        }
        return await generate(ctx, ai, ApiError, model, [...imageParts, { text: String(s.prompt) }], {
          imageConfig,
          safetySettings,
        });
      } finally {
        // The guest's photo has no business staying at Google for the Files API's 48 hours.
        for (const name of uploaded) {
          ai.files.delete({ name }).catch((err: unknown) => {
            ctx.log.warn("gemini.file_delete_failed", {
              file: name,
              error: sanitize(String(err), [ctx.apiKey]),
            });
          });
        }
      }
    },
  };
}

/** Which inputs (by index) go through the Files API: the largest first, until the rest fits inline. */
export function viaFilesApi(sizes: number[], limit = INLINE_LIMIT_BYTES): Set<number> {
  let inline = sizes.reduce((a, b) => a + b, 0);
  const out = new Set<number>();
  const largestFirst = sizes.map((n, i) => [n, i] as const).sort((a, b) => b[0] - a[0]);
  for (const [n, i] of largestFirst) {
    if (inline <= limit) break;
    out.add(i);
    inline -= n;
  }
  return out;
}

type Client = InstanceType<GenAi["GoogleGenAI"]>;

const FILE_ACTIVE_POLL_MS = 500;

/**
 * Uploads one input with the Files API (resumable: `POST /upload/v1beta/files` with the
 * `X-Goog-Upload-*` headers, then the bytes) and returns the `fileData` part that points at it.
 * An upload is not a generation: it is not counted against the daily quota, nor billed.
 */
async function uploadFile(
  ctx: ProviderContext,
  ai: Client,
  ApiError: GenAi["ApiError"],
  image: ProviderImage,
  index: number,
  uploaded: string[],
): Promise<Part> {
  let file = await withTransientRetries(ctx, WHO, async () => {
    try {
      return await ai.files.upload({
        file: new Blob([image.bytes as Uint8Array<ArrayBuffer>], { type: image.mime }),
        config: { mimeType: image.mime, displayName: `photochanger-${index}`, abortSignal: ctx.signal },
      });
    } catch (err) {
      stopIfAborted(ctx.signal);
      throw uploadFailure(classify(err, ctx.apiKey, ApiError), ctx.apiKey);
    }
  });
  if (file.name) uploaded.push(file.name);
  // Images are usually ACTIVE at once; a file still PROCESSING cannot be used yet.
  while (file.state === "PROCESSING" && file.name) {
    await backoff(ctx, FILE_ACTIVE_POLL_MS);
    const name = file.name;
    file = await ai.files.get({ name }).catch((err: unknown) => {
      throw uploadFailure(classify(err, ctx.apiKey, ApiError), ctx.apiKey);
    });
  }
  if (!file.uri || file.state === "FAILED") {
    throw new ProviderFailure(
      "provider_error",
      `Gemini's Files API did not accept the ${index ? "template" : "photo"} (state ${file.state ?? "unknown"})`,
    );
  }
  await ctx.step("provider_upload", {
    provider: "gemini",
    file: file.name ?? null,
    bytes: image.bytes.byteLength,
    input: index ? "template" : "photo",
  });
  return { fileData: { fileUri: file.uri, mimeType: file.mimeType ?? image.mime } };
}

/** An upload that failed in a way `classify` does not know (the SDK's own checks) is the provider's error. */
function uploadFailure(err: unknown, apiKey: string | null): unknown {
  if (err instanceof ProviderFailure || err instanceof TransientError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new ProviderFailure(
    "provider_error",
    `Gemini's Files API upload failed: ${sanitize(message, [apiKey])}`,
  );
}

/** generateContent with NO_IMAGE retries and transient-error backoff; the verdict as an image or a failure. */
async function generate(
  ctx: ProviderContext,
  ai: Client,
  ApiError: GenAi["ApiError"],
  model: string,
  parts: Part[],
  extra: { imageConfig: Record<string, string>; safetySettings: { category: string; threshold: string }[] },
): Promise<ProviderImage> {
  const { imageConfig, safetySettings } = extra;
  const call = () =>
    withTransientRetries(ctx, WHO, async () => {
      await ctx.countRequest?.();
      try {
        return await ai.models.generateContent({
          model,
          contents: [{ role: "user", parts }],
          config: {
            responseModalities: ["IMAGE"],
            ...(Object.keys(imageConfig).length ? { imageConfig } : {}),
            // the SDK's enums hold the same strings as Gemini's wire format
            ...(safetySettings.length ? { safetySettings: safetySettings as SafetySetting[] } : {}),
            abortSignal: ctx.signal,
          },
        });
      } catch (err) {
        stopIfAborted(ctx.signal);
        throw classify(err, ctx.apiKey, ApiError);
      }
    });

  for (let attempt = 1; ; attempt++) {
    const verdict = readGeminiResponse(await call());
    switch (verdict.kind) {
      case "image":
        return verdict.image;
      case "blocked":
        throw new ProviderFailure(
          "provider_blocked",
          `Gemini's safety filter refused this photo: ${sanitize(verdict.message, [ctx.apiKey])}`,
          { finish_reason: verdict.reason },
        );
      case "empty":
        throw new ProviderFailure(
          "provider_error",
          `Gemini answered without an image (finish reason ${verdict.reason}${
            verdict.message ? `: ${sanitize(verdict.message, [ctx.apiKey])}` : ""
          })`,
          { finish_reason: verdict.reason },
        );
      case "no_image": {
        // Gemini sometimes returns no image for a perfectly good request; asking again usually works.
        // Out of attempts or of time: Gemini answered, just without an image — say so
        // (provider_no_image, 502) rather than blaming the deadline.
        if (attempt >= NO_IMAGE_ATTEMPTS || msLeft(ctx) <= NO_IMAGE_PAUSE_MS) {
          throw new ProviderFailure(
            "provider_no_image",
            `Gemini answered ${attempt} time(s) without an image (finish reason NO_IMAGE)`,
            { finish_reason: "NO_IMAGE", attempts: attempt },
          );
        }
        await ctx.step("retry", {
          provider: "gemini",
          attempt: attempt + 1,
          reason: "no_image",
          delay_ms: NO_IMAGE_PAUSE_MS,
        });
        await backoff(ctx, NO_IMAGE_PAUSE_MS);
      }
    }
  }
}
