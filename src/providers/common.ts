/**
 * What the network providers share: settings-schema fragments, template lookup by role, the
 * deadline-bounded retry policy for transient HTTP failures, and scrubbing provider messages so
 * no key ever reaches a job row, a log line or the booth.
 */
import { type TLiteral, type TUnion, Type } from "@sinclair/typebox";
import { sleep, sleepOn } from "../lib/clock";
import { MIME, sniffImage } from "../media/images";
import {
  type OperationSpec,
  type ProviderContext,
  ProviderFailure,
  type ProviderImage,
  type ProviderSpec,
  type TemplateNeed,
} from "./types";

// ---- settings schema fragments ----

export const DEFAULT_MAX_INPUT_SIDE = 2048;

export const maxInputSide = Type.Integer({
  minimum: 256,
  maximum: 4096,
  default: DEFAULT_MAX_INPUT_SIDE,
  title: "Downscale inputs to, px (long side)",
  description: "Photos and templates larger than this are shrunk before upload: faster and cheaper.",
});

export const requiredPrompt = Type.String({
  minLength: 1,
  maxLength: 8000,
  title: "Prompt",
  description: "What the AI should do with the photo.",
});

export const optionalPrompt = Type.Optional(
  Type.String({ maxLength: 8000, title: "Prompt", description: "Optional description of the effect." }),
);

/** A string enum as a union of literals (TypeBox validates it; the UI renders a select). */
export function oneOf<const T extends readonly string[]>(
  values: T,
  options: { title: string; description?: string; default?: T[number] },
): TUnion<TLiteral<T[number]>[]> {
  return Type.Union(
    values.map((v) => Type.Literal(v)),
    options,
  );
}

/** A model id typed by the admin: letters, digits, dots, dashes (it becomes part of a URL path). */
export function modelId(defaultModel: string, examples: string[]) {
  return Type.String({
    default: defaultModel,
    pattern: "^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$",
    title: "Model",
    description: `Model id, e.g. ${examples.join(", ")}`,
    examples,
  });
}

// ---- operations and templates ----

export function operationOf(spec: ProviderSpec, ctx: ProviderContext): OperationSpec {
  const op = spec.operations.find((o) => o.id === ctx.operation);
  if (!op) throw new ProviderFailure("invalid_config", `${spec.label} has no operation "${ctx.operation}"`);
  return op;
}

/**
 * The job's templates for the operation's declared roles, in declaration order. A missing
 * required template is a slot configuration problem the operator can fix.
 */
export function templatesFor(
  op: OperationSpec,
  ctx: ProviderContext,
): { role: string; image: ProviderImage }[] {
  const out: { role: string; image: ProviderImage }[] = [];
  for (const need of op.templates) {
    const t = ctx.templates.find((x) => x.role === need.role);
    if (t) out.push(t);
    else if (need.required) {
      throw new ProviderFailure(
        "invalid_config",
        `This operation needs a "${need.label.en}" template (role "${need.role}"): upload one on the slot page`,
        { role: need.role },
      );
    }
  }
  return out;
}

/** For providers that read only JPEG/PNG/WebP (HEIC cannot be converted on this server). */
export function refuseHeic(ctx: ProviderContext, who: string): void {
  const heic = [ctx.photo, ...ctx.templates.map((t) => t.image)].some((i) => i.format === "heic");
  if (heic) {
    throw new ProviderFailure(
      "provider_error",
      `${who} accepts JPEG, PNG or WebP only, and this server cannot convert HEIC: set the booth to save JPEG`,
    );
  }
}

/** Bytes a provider sent back, checked by magic bytes. */
export function imageFromBytes(bytes: Uint8Array, who: string): ProviderImage {
  const format = sniffImage(bytes);
  if (!format) throw new ProviderFailure("provider_error", `${who} returned data that is not an image`);
  return { bytes, format, mime: MIME[format] };
}

// ---- deadline and retries ----

export function msLeft(ctx: Pick<ProviderContext, "deadline" | "clock">): number {
  return ctx.deadline.getTime() - ctx.clock.now().getTime();
}

/** Throws the abort reason (deadline, cancel, lost lease) if the job's signal fired. */
export function stopIfAborted(signal: AbortSignal): void {
  if (signal.aborted) throw signal.reason ?? new Error("aborted");
}

/** Sleeps, then stops at once if the deadline fired meanwhile (so nothing is logged after it). */
export async function pause(ms: number, signal: AbortSignal): Promise<void> {
  await sleep(ms, signal);
  stopIfAborted(signal);
}

/**
 * A pause before another attempt, on the job's clock (the time it takes counts against the
 * deadline the provider reads from the same clock); stops at once if the deadline fired meanwhile.
 */
export async function backoff(ctx: Pick<ProviderContext, "clock" | "signal">, ms: number): Promise<void> {
  await sleepOn(ctx.clock, ms, ctx.signal, BACKOFF_TIMER);
  stopIfAborted(ctx.signal);
}

/** The label of providers' backoff waits on the clock (see ManualClock's `elapse`). */
export const BACKOFF_TIMER = "provider.backoff";

/** A failure worth another attempt: HTTP 429/500/503/504 or the network. */
export class TransientError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly httpStatus: number | null = null,
    readonly retryAfterMs: number | null = null,
  ) {
    super(message);
    this.name = "TransientError";
  }
}

export const TRANSIENT_STATUSES = new Set([429, 500, 503, 504]);

export interface RetryPolicy {
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** An attempt is only started if at least this much time is left after the pause. */
  minUsefulMs: number;
}

export const HTTP_RETRY: RetryPolicy = {
  maxAttempts: 4,
  baseDelayMs: 1000,
  maxDelayMs: 8000,
  minUsefulMs: 1000,
};

/** Exponential backoff with ±25 % jitter; a server's Retry-After wins, capped like the rest. */
export function backoffMs(attempt: number, policy: RetryPolicy, retryAfterMs: number | null = null): number {
  if (retryAfterMs !== null && retryAfterMs >= 0) return Math.min(retryAfterMs, policy.maxDelayMs);
  const base = policy.baseDelayMs * 2 ** (attempt - 1);
  const jitter = 0.75 + Math.random() * 0.5;
  return Math.min(Math.round(base * jitter), policy.maxDelayMs);
}

/** A Retry-After header (seconds, or an HTTP date counted from `now`, the app clock's) as ms to wait. */
export function parseRetryAfter(value: string | null, now: Date): number | null {
  if (!value) return null;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const at = Date.parse(value);
  return Number.isNaN(at) ? null : Math.max(0, at - now.getTime());
}

/**
 * Runs `call`, retrying TransientErrors with backoff while attempts and time remain; each retry
 * is recorded as a `retry` processing-log step. Out of attempts or time → provider_error.
 */
export async function withTransientRetries<T>(
  ctx: ProviderContext,
  who: { id: string; label: string },
  call: (attempt: number) => Promise<T>,
  policy: RetryPolicy = HTTP_RETRY,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    stopIfAborted(ctx.signal);
    try {
      return await call(attempt);
    } catch (err) {
      stopIfAborted(ctx.signal);
      if (!(err instanceof TransientError)) throw err;
      const delay = backoffMs(attempt, policy, err.retryAfterMs);
      const details = { http_status: err.httpStatus, attempts: attempt };
      if (attempt >= policy.maxAttempts) {
        throw new ProviderFailure(
          "provider_error",
          `${who.label} is unavailable: ${err.message} (gave up after ${attempt} attempts)`,
          details,
        );
      }
      if (msLeft(ctx) - delay < policy.minUsefulMs) {
        throw new ProviderFailure(
          "provider_error",
          `${who.label} is unavailable: ${err.message} (no time left to retry before the deadline)`,
          details,
        );
      }
      await ctx.step("retry", {
        provider: who.id,
        attempt: attempt + 1,
        reason: err.code,
        http_status: err.httpStatus,
        delay_ms: delay,
        error: err.message,
      });
      ctx.log.warn("provider.retry", { provider: who.id, reason: err.code, http_status: err.httpStatus });
      await backoff(ctx, delay);
    }
  }
}

/** A fetch that failed before any HTTP answer (refused, reset, DNS) — not an abort. */
export function isNetworkError(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  if (err.name === "AbortError" || err.name === "TimeoutError") return false;
  return err instanceof TypeError || typeof (err as { code?: unknown }).code === "string";
}

// ---- messages ----

const KEY_PATTERNS = [
  /AIza[0-9A-Za-z_-]{10,}/g, // Google API keys
  /\bsk-[A-Za-z0-9_*-]{6,}/g, // OpenAI keys (also their "sk-abc***wxyz" echoes)
  /\b(key|api_key|apikey|token|access_token)=[^&\s"']+/gi,
  /\bBearer\s+[A-Za-z0-9._~+/=-]+/gi,
];

/** A provider's message made safe to store and show: secrets removed, one line, bounded. */
export function sanitize(text: string, secrets: (string | null | undefined)[] = [], max = 300): string {
  let out = text;
  for (const s of secrets) if (s && s.length >= 4) out = out.split(s).join("[redacted]");
  for (const p of KEY_PATTERNS) out = out.replace(p, "[redacted]");
  out = out.replace(/\s+/g, " ").trim();
  return out.length > max ? `${out.slice(0, max - 1)}…` : out;
}

/** The template roles operations share, so every provider names and labels them the same way. */
export const STYLE_TEMPLATE: TemplateNeed = {
  role: "style",
  required: true,
  label: { ru: "Шаблон стиля", en: "Style template" },
};
export const FACE_TEMPLATE: TemplateNeed = {
  role: "face",
  required: true,
  label: { ru: "Шаблон лица", en: "Face template" },
};
