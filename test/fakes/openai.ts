/**
 * A fake OpenAI Images API on a real port: `POST /v1/images/edits`, Bearer key, multipart with
 * `model`, `prompt`, one or more `image[]` file parts that really are images, `size`, `quality`,
 * `output_format` in range. Answers `{"created", "data":[{"b64_json"}]}` encoded in the requested
 * format, or as scripted: a delay, an HTTP error with OpenAI's error body, a moderation refusal,
 * malformed JSON.
 */

import { sniffImage } from "../../src/media/images";
import { makePng } from "../helpers/images";
import { FakeServer } from "./fake-server";

export type OpenAIAnswer =
  | { kind: "image" }
  | { kind: "delay"; ms: number }
  | { kind: "error"; status: number; type?: string; code?: string; message?: string; retryAfter?: string }
  | { kind: "blocked" }
  | { kind: "malformed" }
  /** 429 insufficient_quota: out of credit, which retrying does not fix. */
  | { kind: "insufficient_quota" };

export interface OpenAIImageSeen {
  name: string;
  type: string;
  width: number;
  height: number;
}

export interface OpenAIRequestSeen {
  fields: Record<string, string>;
  images: OpenAIImageSeen[];
  auth: string | null;
  answer: OpenAIAnswer["kind"] | "rejected";
  rejection?: string;
}

const MODELS = new Set(["gpt-image-1.5", "gpt-image-1", "gpt-image-1-mini"]);
const SIZES = new Set(["auto", "1024x1024", "1536x1024", "1024x1536"]);
const FORMATS = new Set(["png", "jpeg", "webp"]);
const QUALITIES = new Set(["auto", "high", "medium", "low"]);
const KNOWN_FIELDS = new Set([
  "model",
  "prompt",
  "image[]",
  "size",
  "quality",
  "output_format",
  "input_fidelity",
  "n",
  "output_compression",
  "background",
]);
/** The image the fake "generates": 44×33. */
export const OPENAI_RESULT = makePng(44, 33);

export class FakeOpenAI extends FakeServer<OpenAIRequestSeen, OpenAIAnswer> {
  readonly validKeys: Set<string>;

  constructor(keys: string[]) {
    super();
    this.validKeys = new Set(keys);
  }

  /** `GET /v1/models` and `GET /v1/models/{id}`, behind the same key check as the edits. */
  private models(req: Request, path: string): Response {
    const key = /^Bearer (.+)$/.exec(req.headers.get("authorization") ?? "")?.[1];
    if (!key || !this.validKeys.has(key)) {
      return error(401, "invalid_request_error", "invalid_api_key", "Incorrect API key provided.");
    }
    const id = /^\/v1\/models\/([^/]+)$/.exec(path)?.[1];
    const describe = (m: string) => ({ id: m, object: "model", created: 1_700_000_000, owned_by: "system" });
    if (id) {
      return MODELS.has(id)
        ? Response.json(describe(id))
        : error(404, "invalid_request_error", "model_not_found", `The model '${id}' does not exist`);
    }
    return Response.json({ object: "list", data: [...MODELS, "gpt-4o-mini", "whisper-1"].map(describe) });
  }

  /** Requests left in the current window, sent as x-ratelimit-remaining-requests. */
  remainingRequests = 49;

  protected override async handle(req: Request): Promise<Response> {
    const path = new URL(req.url).pathname;
    if (req.method === "GET" && /^\/v1\/models(\/[^/]+)?$/.test(path)) return this.models(req, path);
    if (req.method !== "POST" || path !== "/v1/images/edits") {
      return error(404, "invalid_request_error", null, `Invalid URL (${req.method} ${path})`);
    }
    const auth = req.headers.get("authorization");
    const seen: OpenAIRequestSeen = { fields: {}, images: [], auth, answer: "rejected" };
    this.arrived(seen);
    const reject = (status: number, type: string, code: string | null, message: string) => {
      seen.rejection = message;
      return error(status, type, code, message);
    };
    const key = /^Bearer (.+)$/.exec(auth ?? "")?.[1];
    if (!key || !this.validKeys.has(key)) {
      // OpenAI echoes a masked key; the client must not pass even that on.
      const masked = key ? `${key.slice(0, 8)}${"*".repeat(12)}${key.slice(-4)}` : "";
      return reject(
        401,
        "invalid_request_error",
        "invalid_api_key",
        `Incorrect API key provided: ${masked}. You can find your API key at https://platform.openai.com/account/api-keys.`,
      );
    }
    if (!req.headers.get("content-type")?.startsWith("multipart/form-data")) {
      return reject(400, "invalid_request_error", null, "expected multipart/form-data");
    }
    const form = await req.formData();
    for (const [name, value] of form.entries() as IterableIterator<[string, string | File]>) {
      if (!KNOWN_FIELDS.has(name)) {
        return reject(400, "invalid_request_error", "unknown_parameter", `Unknown parameter: '${name}'.`);
      }
      if (typeof value === "string") seen.fields[name] = value;
      else {
        const bytes = new Uint8Array(await value.arrayBuffer());
        if (!sniffImage(bytes) || sniffImage(bytes) === "heic") {
          return reject(
            400,
            "invalid_request_error",
            "invalid_image_format",
            `${value.name} is not png/jpeg/webp`,
          );
        }
        const meta = await new Bun.Image(bytes).metadata();
        seen.images.push({ name: value.name, type: value.type, width: meta.width, height: meta.height });
      }
    }
    const f = seen.fields;
    if (!f.model || !MODELS.has(f.model)) {
      return reject(400, "invalid_request_error", "invalid_value", `Invalid value for 'model': ${f.model}`);
    }
    if (!f.prompt)
      return reject(400, "invalid_request_error", "missing_required_parameter", "prompt is required");
    if (!seen.images.length) {
      return reject(400, "invalid_request_error", "missing_required_parameter", "image is required");
    }
    if (f.size && !SIZES.has(f.size))
      return reject(400, "invalid_request_error", "invalid_value", "bad size");
    if (f.quality && !QUALITIES.has(f.quality)) {
      return reject(400, "invalid_request_error", "invalid_value", "bad quality");
    }
    // input_fidelity: high or low; gpt-image-1-mini takes only low (the API reference)
    if (f.input_fidelity !== undefined) {
      if (f.input_fidelity !== "high" && f.input_fidelity !== "low") {
        return reject(
          400,
          "invalid_request_error",
          "invalid_value",
          `Invalid value: '${f.input_fidelity}'. Supported values are: 'high' and 'low'.`,
        );
      }
      if (f.input_fidelity === "high" && f.model === "gpt-image-1-mini") {
        return reject(
          400,
          "invalid_request_error",
          "invalid_value",
          "input_fidelity 'high' is not supported for gpt-image-1-mini. Supported values are: 'low'.",
        );
      }
    }
    const format = f.output_format ?? "png";
    if (!FORMATS.has(format))
      return reject(400, "invalid_request_error", "invalid_value", "bad output_format");

    const answer = this.nextAnswer() ?? { kind: "image" };
    seen.answer = answer.kind;
    switch (answer.kind) {
      case "delay":
        await Bun.sleep(answer.ms);
        return image(format);
      case "image":
        return withRateLimits(await image(format), this.remainingRequests--);
      case "insufficient_quota":
        return error(
          429,
          "insufficient_quota",
          "insufficient_quota",
          "You exceeded your current quota, please check your plan and billing details.",
        );
      case "error":
        return error(
          answer.status,
          answer.type ?? "server_error",
          answer.code ?? null,
          answer.message ?? "The server had an error while processing your request.",
          answer.retryAfter,
        );
      case "blocked":
        return error(
          400,
          "image_generation_user_error",
          "moderation_blocked",
          "Your request was rejected as a result of our safety system.",
        );
      case "malformed":
        return new Response("<html>502 Bad Gateway</html>", { headers: { "content-type": "text/html" } });
    }
  }
}

function withRateLimits(res: Response, remaining: number): Response {
  res.headers.set("x-ratelimit-limit-requests", "50");
  res.headers.set("x-ratelimit-remaining-requests", String(Math.max(0, remaining)));
  res.headers.set("x-ratelimit-reset-requests", "1.2s");
  return res;
}

async function image(format: string): Promise<Response> {
  const img = new Bun.Image(OPENAI_RESULT);
  const bytes = await (format === "jpeg" ? img.jpeg() : format === "webp" ? img.webp() : img.png()).bytes();
  return Response.json({
    created: Math.floor(Date.now() / 1000),
    data: [{ b64_json: Buffer.from(bytes).toString("base64") }],
    usage: { total_tokens: 100 },
  });
}

function error(status: number, type: string, code: string | null, message: string, retryAfter?: string) {
  return Response.json(
    { error: { message, type, param: null, code } },
    { status, headers: retryAfter ? { "retry-after": retryAfter } : {} },
  );
}
