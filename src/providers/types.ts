/**
 * The one provider interface. A provider turns a photo (+ templates + settings) into an image.
 * It never touches the database: anything it needs from the outside (a public URL for an input,
 * recording its remote job id, a processing-log step) comes through the context's callbacks.
 */
import type { TObject } from "@sinclair/typebox";
import type { Clock } from "../lib/clock";
import type { Logger } from "../lib/log";
import type { ImageFormat } from "../media/images";

export const PROVIDER_IDS = ["gemini", "turbotext", "openai", "local"] as const;
export type ProviderId = (typeof PROVIDER_IDS)[number];

export interface Text {
  ru: string;
  en: string;
}

export interface TemplateNeed {
  role: string;
  required: boolean;
  label: Text;
}

export interface OperationSpec {
  id: string;
  label: Text;
  hint?: Text;
  /** Whether `settings.prompt` is required, optional or unused. */
  prompt: "required" | "optional" | "none";
  templates: TemplateNeed[];
  /** Whether testing the slot needs a photo (every operation here transforms the booth photo). */
  needsTestPhoto: boolean;
  /** TypeBox schema of the slot settings for this operation: ranges, defaults, descriptions. */
  settings: TObject;
  /**
   * Rules across fields the schema cannot say (e.g. a value a model does not take), checked on
   * schema-valid settings with defaults applied; each error names its field (`settings.<name>`).
   */
  refine?(settings: Record<string, unknown>): { field: string; message: string }[];
}

export interface ProviderSpec {
  id: ProviderId;
  label: string;
  /** Providers that fetch inputs by URL need PUBLIC_BASE_URL reachable from the internet. */
  needsPublicUrl: boolean;
  needsApiKey: boolean;
  /**
   * Whether the provider reads HEIC photos itself. Bun.Image cannot decode HEIC on Linux, so a
   * slot whose provider cannot take it refuses HEIC at ingest (415) instead of failing later.
   */
  acceptsHeic: boolean;
  /** Whether photos above the slot's `max_input_side` are downscaled before the call. */
  downscaleInputs: boolean;
  operations: OperationSpec[];
}

export interface ProviderImage {
  bytes: Uint8Array;
  mime: string;
  format: ImageFormat;
}

export interface ProviderTemplate {
  role: string;
  image: ProviderImage;
}

export interface ProviderContext {
  jobId: string;
  slotId: string;
  operation: string;
  /** Validated settings with defaults applied. */
  settings: Record<string, unknown>;
  photo: ProviderImage;
  templates: ProviderTemplate[];
  /** Fires at the job deadline or when the job is cancelled. */
  signal: AbortSignal;
  deadline: Date;
  clock: Clock;
  log: Logger;
  apiKey: string | null;
  /** Records a processing-log step (e.g. `retry`) for the job. */
  step(event: string, details?: Record<string, unknown>): Promise<void>;
  /** Serves an input at an unguessable public URL until the job's deadline. */
  publish(image: ProviderImage, label: string): Promise<string>;
  /** Remembers the provider's own job id (e.g. Turbotext `queueid`) on the job. */
  setProviderRef(ref: string): Promise<void>;
  /** Counts one request sent to the provider (for its daily quota); called before each attempt. */
  countRequest?(): Promise<void>;
  /** What the provider said about the account on the way (balance, rate limits), for `provider check`. */
  report?(facts: Record<string, unknown>): void;
}

export interface Provider {
  spec: ProviderSpec;
  run(ctx: ProviderContext): Promise<ProviderImage>;
}

/**
 * `provider_no_image`: the provider kept answering without an image (Gemini's NO_IMAGE) until the
 * retries or the time ran out — its doing, told apart from errors and from the deadline.
 * `invalid_config`: the slot cannot run as configured (no key, a missing template, no public
 * URL) — found before the provider is called, so it is never counted as a provider failure.
 */
export type ProviderFailureReason =
  | "provider_error"
  | "provider_blocked"
  | "provider_no_image"
  | "timeout"
  | "invalid_config";

/** A provider's final word: the job fails with `reason` and the booth gets the matching status. */
export class ProviderFailure extends Error {
  constructor(
    readonly reason: ProviderFailureReason,
    message: string,
    readonly details: Record<string, unknown> = {},
    /** The provider said its (daily) quota or balance is used up: stop sending it work until it resets. */
    readonly quotaExhausted = false,
  ) {
    super(message);
    this.name = "ProviderFailure";
  }
}
