/**
 * A fake Gemini API (generativelanguage.googleapis.com) on a real port. It checks what the real
 * service checks — path `/v1beta/models/{model}:generateContent`, the `x-goog-api-key` header, the
 * body shape, inline images that really are images, `responseModalities`, `imageSize` only for
 * Gemini 3 Pro — and answers the way Gemini does, as scripted per request: an image (optionally
 * after a text part and a thought image), a delay, an RPC error, NO_IMAGE, a safety finish, a
 * prompt block, or malformed JSON. Unscripted requests get an image (or `unscripted`: a service
 * that is down for good answers 503 to everything). Like the real one it refuses a request body
 * over 20 MB, checks `safetySettings` against Gemini's categories and thresholds, and speaks the
 * Files API: the resumable upload (`POST /upload/v1beta/files` with `X-Goog-Upload-*` headers, then
 * the bytes at the answered upload URL), `fileData: {fileUri, mimeType}` parts naming an uploaded
 * file of the same key, and `GET`/`DELETE /v1beta/files/{id}`.
 */

import { sniffImage } from "../../src/media/images";
import { makePng } from "../helpers/images";
import { FakeServer } from "./fake-server";

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
  /** `file`: the image came as a `fileData` part naming a Files API upload (else inline base64). */
  via?: "file";
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
  safetySettings?: { category: string; threshold: string }[];
  /** The request body's size in bytes (Gemini refuses more than 20 MB). */
  bytes?: number;
  answer: GeminiAnswer["kind"] | "rejected";
  rejection?: string;
}

/** A Files API upload as the fake saw it: the resumable start, then the chunks. */
export interface GeminiUploadSeen {
  apiKey: string | null;
  declaredBytes: number;
  mimeType: string;
  displayName: string | null;
  chunks: number;
  /** The stored file's name (`files/…`), once finalized. */
  name?: string;
  rejection?: string;
}

interface StoredFile {
  name: string;
  uri: string;
  mimeType: string;
  bytes: Uint8Array;
  apiKey: string;
  displayName: string | null;
}

interface OpenUpload {
  seen: GeminiUploadSeen;
  apiKey: string;
  parts: Uint8Array[];
  received: number;
}

/** Gemini's limit on a generateContent request body: above it, inputs must go through the Files API. */
export const GEMINI_REQUEST_LIMIT = 20 * 1024 * 1024;
const HARM_CATEGORIES = new Set([
  "HARM_CATEGORY_HARASSMENT",
  "HARM_CATEGORY_HATE_SPEECH",
  "HARM_CATEGORY_SEXUALLY_EXPLICIT",
  "HARM_CATEGORY_DANGEROUS_CONTENT",
  "HARM_CATEGORY_CIVIC_INTEGRITY",
]);
const BLOCK_THRESHOLDS = new Set([
  "HARM_BLOCK_THRESHOLD_UNSPECIFIED",
  "BLOCK_LOW_AND_ABOVE",
  "BLOCK_MEDIUM_AND_ABOVE",
  "BLOCK_ONLY_HIGH",
  "BLOCK_NONE",
  "OFF",
]);

const KNOWN_MODELS = new Set(["gemini-2.5-flash-image", "gemini-3-pro-image-preview"]);
const ASPECTS = new Set(["1:1", "2:3", "3:2", "3:4", "4:3", "4:5", "5:4", "9:16", "16:9", "21:9"]);
/** The image the fake "generates": 40×30, so tests can tell it from inputs and thought images. */
export const GEMINI_RESULT = makePng(40, 30);
const THOUGHT_IMAGE = makePng(12, 12);

export class FakeGemini extends FakeServer<GeminiRequestSeen, GeminiAnswer> {
  /** Files API uploads, stored files, and the names deleted (DELETE /v1beta/files/{id}). */
  readonly uploads: GeminiUploadSeen[] = [];
  readonly files = new Map<string, StoredFile>();
  readonly deletedFiles: string[] = [];
  private readonly openUploads = new Map<string, OpenUpload>();
  readonly validKeys: Set<string>;
  /** The answer to requests nothing is scripted for (an image, unless a test takes the service down). */
  unscripted: GeminiAnswer = { kind: "image" };
  private inFlight = 0;
  /** Requests from before the last reset() (e.g. a slow answer the client gave up on) don't count. */
  private generation = 0;
  maxInFlight = 0;
  /** The models this account may use (what `GET /v1beta/models` lists and generateContent accepts). */
  models = new Set(KNOWN_MODELS);

  constructor(keys: string[]) {
    super();
    this.validKeys = new Set(keys);
  }

  override reset(): void {
    super.reset();
    this.uploads.length = 0;
    this.files.clear();
    this.deletedFiles.length = 0;
    this.openUploads.clear();
    this.unscripted = { kind: "image" };
    this.generation++;
    this.inFlight = 0;
    this.maxInFlight = 0;
  }

  protected override async handle(req: Request): Promise<Response> {
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
    const url = new URL(req.url);
    const path = url.pathname;
    if (path === "/upload/v1beta/files" && req.method === "POST") {
      return url.searchParams.has("upload_id") ? this.uploadChunk(req, url) : this.startUpload(req, url);
    }
    const fileOp = /^\/v1beta\/(files\/[^/:]+)$/.exec(path);
    if (fileOp) return this.fileResource(req, decodeURIComponent(fileOp[1]!));
    if (req.method === "GET" && /^\/v1beta\/models(\/[^/]+)?$/.test(path))
      return this.describeModels(req, path);
    const m = /^\/v1beta\/models\/([^/:]+):generateContent$/.exec(path);
    if (req.method !== "POST" || !m) {
      return rpc(404, "NOT_FOUND", `The requested URL ${path} was not found on this server.`);
    }
    const model = decodeURIComponent(m[1]!);
    const apiKey = req.headers.get("x-goog-api-key");
    const seen: GeminiRequestSeen = { model, apiKey, parts: [], generationConfig: {}, answer: "rejected" };
    this.arrived(seen);
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
      safetySettings?: { category?: unknown; threshold?: unknown }[];
    };
    const raw = await req.text();
    seen.bytes = Buffer.byteLength(raw);
    if (seen.bytes > GEMINI_REQUEST_LIMIT) {
      return reject(
        400,
        "INVALID_ARGUMENT",
        `Request payload size exceeds the limit: ${GEMINI_REQUEST_LIMIT} bytes.`,
      );
    }
    try {
      body = JSON.parse(raw) as typeof body;
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
        seen.parts.push({
          kind: "image",
          mime: inline.mimeType,
          width: meta?.width,
          height: meta?.height,
        });
      } else if (p.fileData) {
        const fd = p.fileData as { fileUri?: string; mimeType?: string };
        const file = [...this.files.values()].find((f) => f.uri === fd.fileUri);
        // a file of another project (key) is as good as missing
        if (!file || file.apiKey !== apiKey) {
          const id = String(fd.fileUri ?? "")
            .split("/")
            .pop();
          return reject(
            403,
            "PERMISSION_DENIED",
            `You do not have permission to access the File ${id} or it may not exist.`,
          );
        }
        if (fd.mimeType !== file.mimeType) {
          return reject(400, "INVALID_ARGUMENT", `fileData.mimeType ${fd.mimeType} does not match the file`);
        }
        const meta = await new Bun.Image(file.bytes).metadata();
        seen.parts.push({
          kind: "image",
          via: "file",
          mime: file.mimeType,
          width: meta.width,
          height: meta.height,
        });
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
    if (body.safetySettings !== undefined) {
      if (!Array.isArray(body.safetySettings)) {
        return reject(400, "INVALID_ARGUMENT", "Invalid value at 'safety_settings': expected a list");
      }
      for (const [i, ss] of body.safetySettings.entries()) {
        if (!HARM_CATEGORIES.has(String(ss.category))) {
          return reject(
            400,
            "INVALID_ARGUMENT",
            `Invalid value at 'safety_settings[${i}].category' (type.googleapis.com/google.ai.generativelanguage.v1beta.HarmCategory), "${ss.category}"`,
          );
        }
        if (!BLOCK_THRESHOLDS.has(String(ss.threshold))) {
          return reject(
            400,
            "INVALID_ARGUMENT",
            `Invalid value at 'safety_settings[${i}].threshold' (type.googleapis.com/google.ai.generativelanguage.v1beta.SafetySetting.HarmBlockThreshold), "${ss.threshold}"`,
          );
        }
      }
      seen.safetySettings = body.safetySettings as { category: string; threshold: string }[];
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

    const answer = this.nextAnswer() ?? this.unscripted;
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
   * The Files API's resumable start (`POST /upload/v1beta/files`, `X-Goog-Upload-Protocol:
   * resumable`, `X-Goog-Upload-Command: start`, the size and type in `X-Goog-Upload-Header-*`):
   * answers the upload URL in `X-Goog-Upload-URL`.
   */
  private async startUpload(req: Request, url: URL): Promise<Response> {
    const apiKey = req.headers.get("x-goog-api-key") ?? url.searchParams.get("key");
    const h = (name: string) => req.headers.get(name);
    const seen: GeminiUploadSeen = {
      apiKey,
      declaredBytes: Number(h("x-goog-upload-header-content-length")),
      mimeType: h("x-goog-upload-header-content-type") ?? "",
      displayName: null,
      chunks: 0,
    };
    this.uploads.push(seen);
    const reject = (status: number, rpcStatus: string, message: string) => {
      seen.rejection = message;
      return rpc(status, rpcStatus, message);
    };
    if (!apiKey) return reject(403, "PERMISSION_DENIED", "Method doesn't allow unregistered callers.");
    if (!this.validKeys.has(apiKey)) return reject(400, "INVALID_ARGUMENT", "API key not valid.");
    if (h("x-goog-upload-protocol") !== "resumable" || h("x-goog-upload-command") !== "start") {
      return reject(400, "INVALID_ARGUMENT", "expected X-Goog-Upload-Protocol: resumable and Command: start");
    }
    if (
      !Number.isInteger(seen.declaredBytes) ||
      seen.declaredBytes <= 0 ||
      seen.declaredBytes > 2 * 1024 ** 3
    ) {
      return reject(400, "INVALID_ARGUMENT", "X-Goog-Upload-Header-Content-Length must be 1 byte to 2 GB");
    }
    if (!seen.mimeType)
      return reject(400, "INVALID_ARGUMENT", "X-Goog-Upload-Header-Content-Type is required");
    const text = await req.text();
    if (text) {
      try {
        const meta = JSON.parse(text) as { file?: { displayName?: string; display_name?: string } };
        seen.displayName = meta.file?.displayName ?? meta.file?.display_name ?? null;
      } catch {
        return reject(400, "INVALID_ARGUMENT", "Invalid JSON payload received.");
      }
    }
    const id = crypto.randomUUID().replaceAll("-", "");
    this.openUploads.set(id, { seen, apiKey, parts: [], received: 0 });
    return new Response(null, {
      headers: {
        "x-goog-upload-status": "active",
        "x-goog-upload-url": `${this.url}/upload/v1beta/files?upload_id=${id}&upload_protocol=resumable`,
        "x-goog-upload-chunk-granularity": String(8 * 1024 * 1024),
      },
    });
  }

  /** A chunk at `X-Goog-Upload-Offset`; `upload, finalize` stores the file and answers `{file}`. */
  private async uploadChunk(req: Request, url: URL): Promise<Response> {
    const open = this.openUploads.get(url.searchParams.get("upload_id") ?? "");
    if (!open) return rpc(404, "NOT_FOUND", "No such upload session.");
    const command = (req.headers.get("x-goog-upload-command") ?? "").split(",").map((c) => c.trim());
    const offset = Number(req.headers.get("x-goog-upload-offset"));
    const reject = (message: string) => {
      open.seen.rejection = message;
      return rpc(400, "INVALID_ARGUMENT", message);
    };
    if (!command.includes("upload")) return reject("X-Goog-Upload-Command must include upload");
    if (offset !== open.received) return reject(`X-Goog-Upload-Offset ${offset} is not ${open.received}`);
    const chunk = new Uint8Array(await req.arrayBuffer());
    open.parts.push(chunk);
    open.received += chunk.byteLength;
    open.seen.chunks++;
    if (open.received > open.seen.declaredBytes)
      return reject("more bytes than X-Goog-Upload-Header-Content-Length");
    if (!command.includes("finalize")) {
      return new Response(null, { headers: { "x-goog-upload-status": "active" } });
    }
    if (open.received !== open.seen.declaredBytes) return reject("the upload is shorter than declared");
    this.openUploads.delete(url.searchParams.get("upload_id")!);
    const bytes = new Uint8Array(Buffer.concat(open.parts));
    const format = sniffImage(bytes);
    if (!format || `image/${format}` !== open.seen.mimeType) {
      return reject(`the uploaded bytes are not ${open.seen.mimeType}`);
    }
    const id = Math.random().toString(36).slice(2, 14);
    const file: StoredFile = {
      name: `files/${id}`,
      uri: `${this.url}/v1beta/files/${id}`,
      mimeType: open.seen.mimeType,
      bytes,
      apiKey: open.apiKey,
      displayName: open.seen.displayName,
    };
    this.files.set(file.name, file);
    open.seen.name = file.name;
    return Response.json({ file: describeFile(file) }, { headers: { "x-goog-upload-status": "final" } });
  }

  /** `GET` / `DELETE /v1beta/files/{id}`, for the key that uploaded it. */
  private fileResource(req: Request, name: string): Response {
    const apiKey = req.headers.get("x-goog-api-key");
    const file = this.files.get(name);
    if (!apiKey || !this.validKeys.has(apiKey)) return rpc(403, "PERMISSION_DENIED", "API key not valid.");
    if (!file || file.apiKey !== apiKey) {
      return rpc(
        403,
        "PERMISSION_DENIED",
        `You do not have permission to access the File ${name} or it may not exist.`,
      );
    }
    if (req.method === "DELETE") {
      this.files.delete(name);
      this.deletedFiles.push(name);
      return Response.json({});
    }
    if (req.method === "GET") return Response.json(describeFile(file));
    return rpc(405, "INVALID_ARGUMENT", "method not allowed");
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

/** A File resource as the Files API describes it. */
function describeFile(f: StoredFile) {
  const now = new Date().toISOString();
  return {
    name: f.name,
    ...(f.displayName ? { displayName: f.displayName } : {}),
    mimeType: f.mimeType,
    sizeBytes: String(f.bytes.byteLength),
    createTime: now,
    updateTime: now,
    expirationTime: new Date(Date.now() + 48 * 3_600_000).toISOString(),
    sha256Hash: Buffer.from(new Bun.CryptoHasher("sha256").update(f.bytes).digest()).toString("base64"),
    uri: f.uri,
    state: "ACTIVE",
    source: "UPLOADED",
  };
}

function rpc(code: number, status: string, message: string): Response {
  return Response.json({ error: { code, message, status } }, { status: code });
}

function b64(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString("base64");
}
