/**
 * A fake Gemini API (generativelanguage.googleapis.com) on a real port. It checks what the real
 * service checks — path `/v1beta/models/{model}:generateContent`, the `x-goog-api-key` header, the
 * body shape, inline images that really are images, `responseModalities`, `imageSize` only for
 * Gemini 3 Pro — and answers the way Gemini does, as scripted per request: an image (optionally
 * after a text part and a thought image), a delay, an RPC error, NO_IMAGE, a safety finish, a
 * prompt block, or malformed JSON. Unscripted requests get an image (or `unscripted`: a service
 * that is down for good answers 503 to everything).
 */

import { sniffImage } from "../../src/media/images";
import { makePng } from "../helpers/images";
import { Arrivals } from "./arrivals";

export type GeminiAnswer =
  | { kind: "image"; withThought?: boolean; withText?: boolean }
  | { kind: "delay"; ms: number }
  | { kind: "error"; status: number; rpcStatus: string; message?: string }
  | { kind: "no_image" }
  | { kind: "finish"; reason: string; message?: string }
  | { kind: "prompt_blocked"; reason: string }
  | { kind: "malformed" }
  /** 429 RESOURCE_EXHAUSTED with a QuotaFailure: a per-day or a per-minute quota violation. */
  | { kind: "quota"; per: "day" | "minute" };

export interface GeminiPartSeen {
  kind: "image" | "text";
  mime?: string;
  width?: number;
  height?: number;
  text?: string;
}

export interface GeminiRequestSeen {
  model: string;
  apiKey: string | null;
  parts: GeminiPartSeen[];
  generationConfig: Record<string, unknown>;
  answer: GeminiAnswer["kind"] | "rejected";
  rejection?: string;
}

const KNOWN_MODELS = new Set(["gemini-2.5-flash-image", "gemini-3-pro-image-preview"]);
const ASPECTS = new Set(["1:1", "2:3", "3:2", "3:4", "4:3", "4:5", "5:4", "9:16", "16:9", "21:9"]);
/** The image the fake "generates": 40×30, so tests can tell it from inputs and thought images. */
export const GEMINI_RESULT = makePng(40, 30);
const THOUGHT_IMAGE = makePng(12, 12);

export class FakeGemini {
  readonly requests: GeminiRequestSeen[] = [];
  private readonly arrivals = new Arrivals();

  /** Resolves when the next request reaches the fake (the provider's call is in flight). */
  nextRequest(): Promise<void> {
    return this.arrivals.next();
  }
  readonly validKeys: Set<string>;
  private script: GeminiAnswer[] = [];
  /** The answer to requests nothing is scripted for (an image, unless a test takes the service down). */
  unscripted: GeminiAnswer = { kind: "image" };
  private inFlight = 0;
  /** Requests from before the last reset() (e.g. a slow answer the client gave up on) don't count. */
  private generation = 0;
  maxInFlight = 0;
  /** The models this account may use (what `GET /v1beta/models` lists and generateContent accepts). */
  models = new Set(KNOWN_MODELS);
  private server: ReturnType<typeof Bun.serve>;

  constructor(keys: string[]) {
    this.validKeys = new Set(keys);
    this.server = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: (req) => this.handle(req) });
  }

  get url(): string {
    return `http://127.0.0.1:${this.server.port}`;
  }

  /** Queues answers for the next requests, in order. */
  answer(...answers: GeminiAnswer[]): void {
    this.script.push(...answers);
  }

  reset(): void {
    this.requests.length = 0;
    this.script = [];
    this.unscripted = { kind: "image" };
    this.generation++;
    this.inFlight = 0;
    this.maxInFlight = 0;
  }

  get pending(): number {
    return this.script.length;
  }

  stop(): void {
    this.server.stop(true);
  }

  private async handle(req: Request): Promise<Response> {
    const generation = this.generation;
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      return await this.respond(req);
    } finally {
      if (generation === this.generation) this.inFlight--;
    }
  }

  private async respond(req: Request): Promise<Response> {
    const path = new URL(req.url).pathname;
    if (req.method === "GET" && /^\/v1beta\/models(\/[^/]+)?$/.test(path))
      return this.describeModels(req, path);
    const m = /^\/v1beta\/models\/([^/:]+):generateContent$/.exec(path);
    if (req.method !== "POST" || !m) {
      return rpc(404, "NOT_FOUND", `The requested URL ${path} was not found on this server.`);
    }
    const model = decodeURIComponent(m[1]!);
    const apiKey = req.headers.get("x-goog-api-key");
    const seen: GeminiRequestSeen = { model, apiKey, parts: [], generationConfig: {}, answer: "rejected" };
    this.requests.push(seen);
    this.arrivals.arrived();
    const reject = (status: number, rpcStatus: string, message: string) => {
      seen.rejection = message;
      return rpc(status, rpcStatus, message);
    };

    if (!apiKey) return reject(403, "PERMISSION_DENIED", "Method doesn't allow unregistered callers.");
    if (!this.validKeys.has(apiKey)) {
      // Echo the key like a careless proxy would: the client must not pass it on.
      return reject(400, "INVALID_ARGUMENT", `API key not valid (${apiKey}). Please pass a valid API key.`);
    }
    if (!this.models.has(model)) {
      return reject(404, "NOT_FOUND", `models/${model} is not found for API version v1beta`);
    }
    if (!req.headers.get("content-type")?.includes("application/json")) {
      return reject(400, "INVALID_ARGUMENT", "Content-Type must be application/json");
    }
    let body: {
      contents?: { role?: string; parts?: Record<string, unknown>[] }[];
      generationConfig?: { responseModalities?: string[]; imageConfig?: Record<string, unknown> };
    };
    try {
      body = (await req.json()) as typeof body;
    } catch {
      return reject(400, "INVALID_ARGUMENT", "Invalid JSON payload received.");
    }
    const contents = body.contents;
    if (!Array.isArray(contents) || contents.length !== 1 || contents[0]?.role !== "user") {
      return reject(400, "INVALID_ARGUMENT", "expected one user content");
    }
    const parts = contents[0].parts ?? [];
    for (const p of parts) {
      const inline = p.inlineData as { mimeType?: string; data?: string } | undefined;
      if (inline) {
        const bytes = Buffer.from(inline.data ?? "", "base64");
        const format = sniffImage(bytes);
        if (!format || `image/${format}` !== inline.mimeType) {
          return reject(400, "INVALID_ARGUMENT", `inlineData is not a ${inline.mimeType} image`);
        }
        // Gemini reads HEIC itself; Bun.Image on Linux cannot, so HEIC parts carry no dimensions here.
        const meta = format === "heic" ? null : await new Bun.Image(bytes).metadata();
        seen.parts.push({ kind: "image", mime: inline.mimeType, width: meta?.width, height: meta?.height });
      } else if (typeof p.text === "string") {
        seen.parts.push({ kind: "text", text: p.text });
      } else {
        return reject(400, "INVALID_ARGUMENT", `unknown part ${Object.keys(p).join(",")}`);
      }
    }
    // PhotoChanger's contract (the earlier build's driver checklist): images first, prompt text last.
    const kinds = seen.parts.map((p) => p.kind).join(",");
    if (!/^(image,)+text$/.test(kinds)) {
      return reject(400, "INVALID_ARGUMENT", `parts must be image(s) then one prompt text, got ${kinds}`);
    }
    const gc = body.generationConfig ?? {};
    seen.generationConfig = gc as Record<string, unknown>;
    if (!gc.responseModalities?.includes("IMAGE")) {
      return reject(400, "INVALID_ARGUMENT", "responseModalities must include IMAGE for an image model");
    }
    const ic = gc.imageConfig ?? {};
    if (ic.aspectRatio !== undefined && !ASPECTS.has(String(ic.aspectRatio))) {
      return reject(400, "INVALID_ARGUMENT", `aspectRatio ${ic.aspectRatio} is not supported`);
    }
    if (ic.imageSize !== undefined && !model.startsWith("gemini-3-pro")) {
      return reject(400, "INVALID_ARGUMENT", `imageSize is not supported by ${model}`);
    }

    const answer = this.script.shift() ?? this.unscripted;
    seen.answer = answer.kind;
    switch (answer.kind) {
      case "delay":
        await Bun.sleep(answer.ms);
        return success(imageParts({}), "STOP");
      case "image":
        return success(imageParts(answer), "STOP");
      case "error":
        return rpc(answer.status, answer.rpcStatus, answer.message ?? answer.rpcStatus);
      case "no_image":
        return success(undefined, "NO_IMAGE");
      case "finish":
        return success(undefined, answer.reason, answer.message);
      case "prompt_blocked":
        return Response.json({ promptFeedback: { blockReason: answer.reason }, usageMetadata: {} });
      case "malformed":
        return new Response('{"candidates": [ {"content": ', {
          headers: { "content-type": "application/json" },
        });
      case "quota":
        return quotaError(answer.per, model);
    }
  }

  /**
   * Quote the rejected key in the models' error text, as some gateways in front of the API do (the
   * check must never show it back).
   */
  quoteKeyInErrors = false;

  /** `models.list` / `models.get`: the key is checked like on generateContent. */
  private describeModels(req: Request, path: string): Response {
    const apiKey = req.headers.get("x-goog-api-key");
    this.requests.push({ model: path, apiKey, parts: [], generationConfig: {}, answer: "rejected" });
    if (!apiKey) return rpc(403, "PERMISSION_DENIED", "Method doesn't allow unregistered callers.");
    if (!this.validKeys.has(apiKey)) {
      const quoted = this.quoteKeyInErrors ? ` (key: ${apiKey})` : "";
      return rpc(400, "INVALID_ARGUMENT", `API key not valid${quoted}. Please pass a valid API key.`);
    }
    const describe = (id: string) => ({
      name: `models/${id}`,
      displayName: id,
      supportedGenerationMethods: ["generateContent", "countTokens"],
    });
    const one = /^\/v1beta\/models\/([^/]+)$/.exec(path)?.[1];
    if (one) {
      return this.models.has(one)
        ? Response.json(describe(one))
        : rpc(404, "NOT_FOUND", `models/${one} is not found for API version v1beta`);
    }
    // Text models are listed too; only the image ones can edit photos.
    const all = [...this.models, "gemini-2.5-flash"].map(describe);
    return Response.json({ models: all });
  }
}

/** Gemini's 429: which quota was hit is in a google.rpc.QuotaFailure detail. */
function quotaError(per: "day" | "minute", model: string): Response {
  const quotaId =
    per === "day"
      ? "GenerateRequestsPerDayPerProjectPerModel"
      : "GenerateRequestsPerMinutePerProjectPerModel";
  return Response.json(
    {
      error: {
        code: 429,
        message:
          "You exceeded your current quota, please check your plan and billing details. For more information on this error, head to: https://ai.google.dev/gemini-api/docs/rate-limits.",
        status: "RESOURCE_EXHAUSTED",
        details: [
          {
            "@type": "type.googleapis.com/google.rpc.QuotaFailure",
            violations: [
              {
                quotaMetric: "generativelanguage.googleapis.com/generate_content_requests",
                quotaId,
                quotaDimensions: { location: "global", model },
                quotaValue: per === "day" ? "2000" : "500",
              },
            ],
          },
          { "@type": "type.googleapis.com/google.rpc.RetryInfo", retryDelay: per === "day" ? "3600s" : "1s" },
        ],
      },
    },
    { status: 429 },
  );
}

function imageParts(a: { withThought?: boolean; withText?: boolean }): Record<string, unknown>[] {
  const parts: Record<string, unknown>[] = [];
  if (a.withText) parts.push({ text: "Here is your picture." });
  if (a.withThought) {
    parts.push({ thought: true, inlineData: { mimeType: "image/png", data: b64(THOUGHT_IMAGE) } });
  }
  parts.push({ inlineData: { mimeType: "image/png", data: b64(GEMINI_RESULT) } });
  return parts;
}

function success(parts: Record<string, unknown>[] | undefined, finishReason: string, finishMessage?: string) {
  return Response.json({
    candidates: [
      {
        content: parts ? { role: "model", parts } : undefined,
        finishReason,
        ...(finishMessage ? { finishMessage } : {}),
        index: 0,
      },
    ],
    usageMetadata: { promptTokenCount: 1290, totalTokenCount: 1290 },
    modelVersion: "fake",
  });
}

function rpc(code: number, status: string, message: string): Response {
  return Response.json({ error: { code, message, status } }, { status: code });
}

function b64(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString("base64");
}
