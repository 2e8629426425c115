/**
 * Accepting a booth upload: the checks of SPEC §2 in their order, each refusing with the one
 * envelope and leaving no job and no file behind, then the job row that a worker will claim.
 */
import { createHash, randomUUID } from "node:crypto";
import type { SlotRow } from "../../db/schema";
import { jobExpiresAt } from "../../domain/deadlines";
import type { FallbackConfig } from "../../domain/fallback";
import { AppError, databaseUnavailable, mediaUnavailable } from "../../lib/errors";
import { isDatabaseUnavailable, parseMultipart, readBodyWithin, retryOnLostConnection } from "../../lib/http";
import { EXT, type ImageFormat, inspectImage, MIME } from "../../media/images";
import { isDiskFull, isStorageUnavailable } from "../../media/storage";
import type { Services } from "../../services";
import {
  clearFailures,
  INGEST_PASSWORD_RULE,
  recordFailure,
  reserveAttempt,
  throttleState,
} from "../auth/throttle";

export { databaseUnavailable };

export const MB = 1024 * 1024;
/** Room kept free on the media disk beyond the upload itself (result, thumbnail, database growth). */
const DISK_RESERVE_BYTES = 64 * MB;
const MAX_META_FIELDS = 100;
const MAX_META_VALUE = 2000;
/** Longest metadata field name, and the whole metadata as stored JSON (bytes). */
export const MAX_META_KEY = 64;
export const MAX_META_BYTES = 16 * 1024;
const IMAGE_FIELDS = ["fileToUpload", "file"];
const NOT_METADATA = new Set(["password", "hash", "hash_hex", ...IMAGE_FIELDS]);
const QUEUE_BUSY_RETRY_AFTER_S = 5;

export interface Upload {
  /** The photo; emptied once it is stored (see acceptAndWait). */
  bytes: Uint8Array;
  format: ImageFormat;
  filename: string | null;
  fields: FormData;
  /** The booth's metadata, already checked (ingest only). */
  clientMeta?: Record<string, string>;
}

export interface AcceptedJob {
  id: string;
  slotId: string;
  expiresAt: Date;
}

/** Reads a slot, turning a database outage into 503. */
export function loadSlot(services: Pick<Services, "store">, slotId: string): Promise<SlotRow | null> {
  // A cached slot is no answer from the database: it must not clear the "suspect" state that
  // keeps the next calls bounded while the database may be down.
  const known = services.store.slots.peek(slotId);
  if (known !== undefined) return Promise.resolve(known);
  return guardDb(services.store, () => services.store.slots.cachedGet(slotId));
}

/**
 * Runs a database call of the ingest path, turning an outage into 503. While the database is
 * suspect (a connection was lost since it last answered) the booth is not made to wait for a
 * connection that may never come: no answer within SUSPECT_WAIT_MS is an outage too. (The call
 * itself runs on; its answer, if it comes, is dropped.)
 */
export async function guardDb<T>(store: DbHealth, fn: () => Promise<T>): Promise<T> {
  try {
    // A pooled connection that died while idle fails the call it is handed; the pool drops it, so
    // another try runs on a fresh connection instead of costing the booth a 503.
    const value = await retryOnLostConnection(() => (store.suspect() ? within(fn(), SUSPECT_WAIT_MS) : fn()));
    store.answered();
    return value;
  } catch (err) {
    if (err === NO_ANSWER || isDatabaseUnavailable(err)) throw databaseUnavailable();
    throw err;
  }
}

type DbHealth = Pick<Services["store"], "suspect" | "answered">;
const SUSPECT_WAIT_MS = 1000;
const NO_ANSWER = new Error("the database did not answer in time");

function within<T>(promise: Promise<T>, ms: number): Promise<T> {
  promise.catch(() => {});
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(NO_ANSWER), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

/** The one answer for "the database cannot be reached right now" (503, with Retry-After). */

export function requireEnabledSlot(slotId: string, row: SlotRow | null): SlotRow {
  if (!row) throw new AppError("slot_not_found", `There is no slot "${slotId}"`, { slot_id: slotId });
  if (!row.enabled) throw new AppError("slot_disabled", `Slot ${slotId} is disabled`, { slot_id: slotId });
  return row;
}

/**
 * Reads the multipart body within the size limit and finds the image part. The limit is refused
 * from Content-Length before reading, and reading stops as soon as the body passes it.
 */
export async function readUpload(
  request: Request,
  limitBytes: number,
  fileFields = IMAGE_FIELDS,
): Promise<Upload> {
  const tooLarge = () =>
    new AppError("payload_too_large", `The upload is larger than this slot's limit of ${limitBytes} bytes`, {
      max_bytes: limitBytes,
    });
  const declared = request.headers.get("content-length");
  if (declared !== null && Number(declared) > limitBytes) throw tooLarge();
  const body = await readBodyWithin(request, limitBytes);
  if (body === null) throw tooLarge();
  const form = await parseMultipart(request.headers.get("content-type"), body);
  if (!form) {
    throw new AppError("invalid_payload", "Expected a multipart/form-data body", {
      content_type: request.headers.get("content-type"),
    });
  }
  const file = pickFile(form, fileFields);
  if (!file) {
    throw new AppError("invalid_payload", `No image part: send the photo in "${fileFields[0]}"`, {
      field: fileFields[0],
    });
  }
  const bytes = new Uint8Array(await file.arrayBuffer());
  if (bytes.byteLength === 0) {
    throw new AppError("invalid_payload", "The image part is empty", { field: fileFields[0] });
  }
  return { bytes, format: "jpeg", filename: file.name || null, fields: form };
}

function pickFile(form: FormData, names: string[]): File | null {
  for (const name of names) {
    const v = form.get(name);
    if (v instanceof File) return v;
  }
  for (const [, v] of form) if (v instanceof File) return v;
  return null;
}

/**
 * Magic bytes decide the type (the part's Content-Type is not trusted); the header's dimensions
 * are held to the pixel cap before anything decodes; HEIC only where the provider reads it.
 */
export async function requireImage(
  upload: Upload,
  options: { maxPixels?: number; acceptsHeic?: boolean; provider?: string } = {},
): Promise<ImageFormat> {
  const found = await inspectImage(upload.bytes, options);
  if ("format" in found && !("kind" in found)) {
    upload.format = found.format;
    return found.format;
  }
  if (found.kind === "too_large") {
    throw new AppError(
      "image_too_large",
      `The image is ${found.width}×${found.height} px; this server takes at most ${found.maxPixels / 1e6} Mpx`,
      {
        width: found.width,
        height: found.height,
        pixels: found.width * found.height,
        max_pixels: found.maxPixels,
      },
    );
  }
  if (found.kind === "animated") {
    throw new AppError(
      "unsupported_media_type",
      `The ${found.format.toUpperCase()} is animated; send a still photo`,
      {
        detected: `${found.format} (animated)`,
        accepted: ["image/jpeg", "image/png", "image/webp", "image/heic"],
      },
    );
  }
  if (found.kind === "heic_refused") {
    throw new AppError(
      "unsupported_media_type",
      `This slot's provider${options.provider ? ` (${options.provider})` : ""} cannot take HEIC photos`,
      {
        detected: "heic",
        accepted: ["image/jpeg", "image/png", "image/webp"],
        hint: "Set the booth to save JPEG, or use a Gemini slot (the only provider that reads HEIC)",
      },
    );
  }
  throw new AppError("unsupported_media_type", found.message, {
    detected: found.detected,
    accepted: ["image/jpeg", "image/png", "image/webp", "image/heic"],
  });
}

/**
 * The booth's other text fields, kept as the job's metadata, and the booth URL's query parameters
 * (tokens a studio puts in the URL, e.g. `?theme=gold`) beside them — a form field of the same name
 * wins. Both feed the prompt's `{field}` placeholders (src/domain/prompt-fields.ts). Names longer
 * than MAX_META_KEY (400) or metadata over MAX_META_BYTES as JSON (413) are refused rather than
 * cut: nothing is stored. NUL cannot be stored in PostgreSQL text, so it is refused too.
 */
export function clientMetadata(form: FormData, query?: URLSearchParams): Record<string, string> {
  const meta: Record<string, string> = {};
  let n = 0;
  const fromForm = new Set<string>();
  for (const [key, value] of form) if (typeof value === "string") fromForm.add(key);
  const entries: [string, FormDataEntryValue][] = [...form];
  if (query) for (const [key, value] of query) if (!fromForm.has(key)) entries.push([key, value]);
  for (const [key, value] of entries) {
    if (NOT_METADATA.has(key) || typeof value !== "string") continue;
    if (key.length > MAX_META_KEY) {
      throw new AppError(
        "invalid_payload",
        `Metadata field names may have at most ${MAX_META_KEY} characters`,
        {
          field: `${key.slice(0, MAX_META_KEY)}…`,
          max_key_length: MAX_META_KEY,
        },
      );
    }
    if (key.includes("\u0000") || value.includes("\u0000")) {
      throw new AppError("invalid_payload", "Metadata fields may not contain NUL characters", {
        field: key.replaceAll("\u0000", "\\0").slice(0, MAX_META_KEY),
      });
    }
    if (++n > MAX_META_FIELDS) break;
    meta[key] = value.slice(0, MAX_META_VALUE);
  }
  const size = Buffer.byteLength(JSON.stringify(meta));
  if (size > MAX_META_BYTES) {
    throw new AppError("payload_too_large", `The metadata fields exceed ${MAX_META_BYTES} bytes together`, {
      metadata_bytes: size,
      max_metadata_bytes: MAX_META_BYTES,
    });
  }
  return meta;
}

/**
 * Checks the booth password; the password itself is never stored or logged. A password this
 * process verified a moment ago is recognised from its keyed digest without argon2. Any other
 * attempt first reserves one of the address's verifications for the window (atomic, shared by all
 * instances), so a burst of guesses is refused (429) instead of hashed. Identical attempts from one
 * address that arrive together share one verification: a booth's burst right after a start (or a
 * rotation) is one argon2 and one reservation, while each wrong copy still counts against the
 * address. Returns whether the password is right.
 */
export async function verifyIngestPassword(
  services: PasswordDeps,
  password: string | null,
  clientIp: string,
): Promise<boolean> {
  if (
    password &&
    (await guardDb(services.store, () => services.settings.isRecentlyVerifiedIngestPassword(password)))
  )
    return true;
  const flightKey = `${services.instanceId}|${clientIp}|${createHash("sha256")
    .update(password ?? "")
    .digest("base64")}`;
  const running = verifications.get(flightKey);
  if (running) {
    if (await running) return true;
    const wait = await guardDb(services.store, () =>
      reserveAttempt(services.store.auth, INGEST_PASSWORD_RULE, clientIp, services.clock.now()),
    );
    if (wait > 0) throw tooManyAttempts(wait);
    await guardDb(services.store, () =>
      recordFailure(services.store.auth, INGEST_PASSWORD_RULE, clientIp, services.clock.now()),
    );
    return false;
  }
  const flight = verifyOnce(services, password, clientIp);
  verifications.set(flightKey, flight);
  try {
    return await flight;
  } finally {
    verifications.delete(flightKey);
  }
}

type PasswordDeps = Pick<Services, "store" | "settings" | "clock" | "log" | "instanceId">;

/** Verifications in progress, by instance + address + password digest. */
const verifications = new Map<string, Promise<boolean>>();

async function verifyOnce(
  services: PasswordDeps,
  password: string | null,
  clientIp: string,
): Promise<boolean> {
  const wait = await guardDb(services.store, () =>
    reserveAttempt(services.store.auth, INGEST_PASSWORD_RULE, clientIp, services.clock.now()),
  );
  if (wait > 0) throw tooManyAttempts(wait);
  const ok = password
    ? await guardDb(services.store, () => services.settings.verifyIngestPassword(password))
    : false;
  if (ok) {
    await guardDb(services.store, () => clearFailures(services.store.auth, INGEST_PASSWORD_RULE, clientIp));
    return true;
  }
  await guardDb(services.store, () =>
    recordFailure(services.store.auth, INGEST_PASSWORD_RULE, clientIp, services.clock.now()),
  );
  services.log.warn("ingest.invalid_password", { client_ip: clientIp, password_given: !!password });
  return false;
}

export function invalidPassword(): AppError {
  return new AppError("invalid_credentials", "Wrong or missing ingest password", { field: "password" });
}

function tooManyAttempts(wait: number): AppError {
  return new AppError(
    "too_many_attempts",
    "Too many wrong passwords from this address; wait and try again",
    { retry_after_seconds: wait },
    { "Retry-After": String(wait) },
  );
}

/**
 * Refuses an address still blocked for wrong passwords (429, before the upload is read); an address
 * whose probe is due goes on to have its password checked. True when the address has wrong
 * attempts counted: its right password then clears them (`forgetWrongPasswords`), even when this
 * process recognised it without a verification.
 */
export async function refuseIfThrottled(
  services: Pick<Services, "store" | "clock">,
  clientIp: string,
): Promise<boolean> {
  const { wait, counted } = await guardDb(services.store, () =>
    throttleState(services.store.auth, INGEST_PASSWORD_RULE, clientIp, services.clock.now()),
  );
  if (wait > 0) throw tooManyAttempts(wait);
  return counted;
}

/** The address sent the right password: its wrong attempts and any block are forgotten at once. */
export async function forgetWrongPasswords(
  services: Pick<Services, "store">,
  clientIp: string,
): Promise<void> {
  await guardDb(services.store, () => clearFailures(services.store.auth, INGEST_PASSWORD_RULE, clientIp));
}

export interface EnqueueInput {
  slot: SlotRow;
  source: "ingest" | "test_run" | "rerun";
  upload: Upload;
  provider: string;
  operation: string;
  settings: Record<string, unknown>;
  /** The fallback of the job's snapshot (SPEC §11), or null. */
  fallback: FallbackConfig | null;
  /** The primary cannot take the job (its quota is used up): it starts on the fallback. */
  startOnFallback?: FallbackStart | null;
  /** The job this one runs again (source `rerun`). */
  rerunOf?: string | null;
  outputFormat: string;
  clientMeta: Record<string, string>;
  clientHash: string | null;
  clientIp: string | null;
  createdBy: string | null;
  /**
   * When the booth's request arrived: T_sync counts from here, so the time spent reading the upload
   * and queueing it is inside the booth's deadline, not added to it. Default: now (acceptance).
   */
  receivedAt?: Date;
}

/** What a job takes from its slot as saved (a booth photo, a rerun): provider, operation, settings, fallback, format. */
export function fromSlot(
  slot: SlotRow,
): Pick<EnqueueInput, "slot" | "provider" | "operation" | "settings" | "fallback" | "outputFormat"> {
  return {
    slot,
    provider: slot.provider,
    operation: slot.operation,
    settings: slot.settings,
    fallback: slot.fallback ?? null,
    outputFormat: slot.outputFormat,
  };
}

/** Why a job starts on its fallback rather than its primary (written as its `fallback` log row). */
export interface FallbackStart {
  reason: string;
  message: string;
}

/**
 * Where a new job starts, by the providers' quotas: on its primary; on its fallback when the
 * primary's quota for today is used up and the fallback can take the photo and still has quota
 * (SPEC §11); else the primary's 429 `provider_quota_exhausted`.
 */
export async function routeByQuota(
  services: Pick<Services, "quota" | "providers">,
  primary: string,
  fallback: FallbackConfig | null,
  format: ImageFormat,
): Promise<FallbackStart | null> {
  try {
    await services.quota.refuseIfExhausted(primary);
    return null;
  } catch (err) {
    if (!(err instanceof AppError) || err.code !== "provider_quota_exhausted" || !fallback) throw err;
    const takesPhoto =
      format !== "heic" || (services.providers.get(fallback.provider)?.spec.acceptsHeic ?? false);
    if (!takesPhoto || !services.providers.get(fallback.provider)) throw err;
    try {
      await services.quota.refuseIfExhausted(fallback.provider);
    } catch {
      throw err;
    }
    return { reason: "provider_quota_exhausted", message: err.message };
  }
}

/**
 * Stores the payload durably, then inserts the job within the in-flight cap. Any refusal removes
 * the payload again, so a rejected upload leaves nothing behind.
 */
export async function enqueueUpload(
  services: Pick<Services, "store" | "settings" | "media" | "templates" | "queue" | "clock" | "instanceId">,
  input: EnqueueInput,
): Promise<AcceptedJob> {
  const { upload } = input;
  const settings = await guardDb(services.store, () => services.settings.current());
  const free = await services.media.freeBytes();
  if (free < upload.bytes.byteLength * 3 + DISK_RESERVE_BYTES) {
    throw new AppError("insufficient_storage", "The server's disk is full; the photo was not stored", {
      free_bytes: free,
    });
  }
  const id = randomUUID();
  const createdAt = services.clock.now();
  let payloadPath: string;
  try {
    // Not fsync'd: the photo is needed only while its booth waits. A killed process leaves it in
    // the page cache for the re-run; a power cut ends the booth's request anyway, and a re-run that
    // finds the payload gone fails the job — nothing paid for is lost. (Results are fsync'd.)
    payloadPath = await services.media.writeAtomic(`payloads/${id}.${EXT[upload.format]}`, upload.bytes, {
      durable: false,
    });
  } catch (err) {
    if (isDiskFull(err)) {
      throw new AppError("insufficient_storage", "The server's disk is full; the photo was not stored");
    }
    if (isStorageUnavailable(err)) throw mediaUnavailable();
    throw err;
  }
  try {
    const templates = await services.templates.snapshot(input.slot.id);
    const start = input.startOnFallback ?? null;
    const outcome = await services.queue.enqueue(
      {
        id,
        slotId: input.slot.id,
        source: input.source,
        status: "pending",
        provider: input.provider,
        operation: input.operation,
        settings: input.settings,
        fallback: input.fallback,
        fallbackUsed: start !== null,
        rerunOf: input.rerunOf ?? null,
        outputFormat: input.outputFormat,
        templates,
        createdAt,
        expiresAt: jobExpiresAt(input.receivedAt ?? createdAt, settings.syncResponseSeconds),
        instanceId: services.instanceId,
        payloadPath,
        payloadMime: MIME[upload.format],
        payloadSize: upload.bytes.byteLength,
        payloadSha256: createHash("sha256").update(upload.bytes).digest("hex"),
        clientHash: input.clientHash,
        clientMeta: input.clientMeta,
        clientIp: input.clientIp,
        createdBy: input.createdBy,
      },
      settings.maxInFlightJobs,
      start && input.fallback
        ? [
            {
              event: "fallback",
              details: {
                reason: start.reason,
                error: start.message,
                from_provider: input.provider,
                from_operation: input.operation,
                provider: input.fallback.provider,
                operation: input.fallback.operation,
              },
            },
          ]
        : [],
    );
    if (outcome.kind === "busy") {
      throw new AppError(
        "queue_busy",
        "The server is processing as many photos as it allows; try again in a few seconds",
        { in_flight: outcome.inFlight, max_in_flight: settings.maxInFlightJobs },
        { "Retry-After": String(QUEUE_BUSY_RETRY_AFTER_S) },
      );
    }
    return { id, slotId: input.slot.id, expiresAt: outcome.job.expiresAt };
  } catch (err) {
    // A payload the bucket will not let go of now is a leftover the sweep reclaims (no job has it).
    await services.media.remove(payloadPath).catch(() => {});
    if (isDatabaseUnavailable(err)) throw databaseUnavailable();
    throw err;
  }
}
