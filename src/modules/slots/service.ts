/**
 * Slot administration: list and read slots (with templates, recent results and a stats summary),
 * update them under optimistic concurrency, run a test photo through the real queue, manage the
 * template images, reset the statistics. Plain functions over the services they name, for the JSON API and
 * the server-rendered pages alike; every change is written to the audit log.
 */
import { createHash } from "node:crypto";
import type { Static, TSchema } from "@sinclair/typebox";
import type { SlotRow, TemplateMediaRow } from "../../db/schema";
import type { FallbackConfig } from "../../domain/fallback";
import { classifyOutcome } from "../../domain/outcome";
import { fillPrompt, promptPlaceholders } from "../../domain/prompt-fields";
import { isSlotId } from "../../domain/slots";
import { AppError } from "../../lib/errors";
import { isUuid } from "../../lib/http";
import { ingestUrl, resultLinks } from "../../lib/urls";
import { fieldErrors, validate, validationFailed } from "../../lib/validation";
import { imageSize, MIME } from "../../media/images";
import type { Services } from "../../services";
import { acceptAndWait } from "../ingest/accept";
import { outcomeError } from "../ingest/outcome";
import { MAX_META_KEY, requireImage, type Upload } from "../ingest/service";
import { type JobDurations, jobDurations } from "../jobs/service";
import { SlotUpdate, TemplateRole, TestRunFields, TestRunOverrides } from "./model";

const RECENT_RESULTS = 10;

// ---- reading ----

export function slotView(row: SlotRow, base: string) {
  return {
    id: row.id,
    name: row.name,
    enabled: row.enabled,
    provider: row.provider,
    operation: row.operation,
    settings: row.settings,
    fallback: row.fallback ?? null,
    size_limit_mb: row.sizeLimitMb,
    output_format: row.outputFormat,
    version: row.version,
    updated_by: row.updatedBy ?? null,
    updated_at: row.updatedAt.toISOString(),
    stats_reset_at: row.statsResetAt?.toISOString() ?? null,
    ingest_url: ingestUrl(base, row.id),
  };
}
export type SlotView = ReturnType<typeof slotView>;

export function templateView(row: TemplateMediaRow) {
  return {
    id: row.id,
    role: row.role,
    mime: row.mime,
    size_bytes: row.sizeBytes,
    filename: row.filename ?? null,
    width: row.width ?? null,
    height: row.height ?? null,
    uploaded_by: row.uploadedBy ?? null,
    created_at: row.createdAt.toISOString(),
    // Relative on purpose: it only works with the admin's session, on this server.
    preview_url: `/api/slots/${row.slotId}/templates/${row.id}/preview`,
  };
}
export type TemplateView = ReturnType<typeof templateView>;

/** The slot row, or 404 `slot_not_found`. */
export async function findSlot(services: Pick<Services, "store">, slotId: string): Promise<SlotRow> {
  const row = isSlotId(slotId) ? await services.store.slots.get(slotId) : null;
  if (!row) throw new AppError("slot_not_found", `There is no slot "${slotId}"`, { slot_id: slotId });
  return row;
}

export async function listSlots(services: Pick<Services, "store">, base: string): Promise<SlotView[]> {
  const rows = await services.store.slots.list();
  return rows.map((r) => slotView(r, base));
}

export interface SlotStats {
  since: string | null;
  total: number;
  succeeded: number;
  timeouts: number;
  provider_errors: number;
  provider_blocked: number;
  /** The provider answered without an image until the retries ran out (502 provider_no_image). */
  provider_no_image: number;
  /** The slot could not run as configured; no provider was called (502 invalid_config). */
  invalid_config: number;
  cancelled: number;
  other_failures: number;
  in_flight: number;
  /** Successes the fallback provider served (part of `succeeded`). */
  fallback_success: number;
}

/** Booth jobs (test runs excluded) created since the slot's last stats reset, by outcome. */
export async function slotStatsSummary(
  services: Pick<Services, "store" | "clock">,
  row: SlotRow,
): Promise<SlotStats> {
  const [rows, fallback] = await Promise.all([
    services.store.jobs.outcomeCounts(row.id, row.statsResetAt),
    services.store.jobs.fallbackSuccesses({
      from: row.statsResetAt ?? new Date(0),
      to: new Date(services.clock.now().getTime() + 1),
      slotId: row.id,
    }),
  ]);
  const s: SlotStats = {
    since: row.statsResetAt?.toISOString() ?? null,
    total: 0,
    succeeded: 0,
    timeouts: 0,
    provider_errors: 0,
    provider_blocked: 0,
    provider_no_image: 0,
    invalid_config: 0,
    cancelled: 0,
    other_failures: 0,
    in_flight: 0,
    fallback_success: fallback,
  };
  for (const r of rows) {
    s.total += r.n;
    const outcome = classifyOutcome(r.status, r.reason);
    if (!outcome) s.in_flight += r.n;
    else if (outcome.category === "success") s.succeeded += r.n;
    else if (outcome.category === "timeouts") s.timeouts += r.n;
    else if (outcome.category === "cancelled") s.cancelled += r.n;
    else if (outcome.category === "provider_no_image") s.provider_no_image += r.n;
    else if (outcome.category === "invalid_config") s.invalid_config += r.n;
    // provider errors, split by the answer the booth got
    else if (outcome.code === "provider_error") s.provider_errors += r.n;
    else if (outcome.code === "provider_blocked") s.provider_blocked += r.n;
    else s.other_failures += r.n;
  }
  return s;
}

/** Up to 10 newest results of the slot that can still be downloaded. */
async function recentResults(services: Pick<Services, "store" | "clock">, slotId: string, base: string) {
  const rows = await services.store.jobs.recentResults(slotId, services.clock.now(), RECENT_RESULTS);
  return rows.map((r) => ({
    job_id: r.id,
    source: r.source,
    finalized_at: r.finalizedAt.toISOString(),
    result_expires_at: r.resultExpiresAt?.toISOString() ?? null,
    ...resultLinks(base, r.id),
  }));
}

/** What the slot page should point out: missing public URL, missing templates, stale settings. */
async function slotWarnings(
  services: Pick<Services, "providers" | "settings">,
  row: SlotRow,
  templates: TemplateMediaRow[],
): Promise<string[]> {
  const warnings: string[] = [];
  const provider = services.providers.get(row.provider);
  if (provider?.spec.needsPublicUrl && !(await services.settings.current()).publicBaseUrl) {
    warnings.push("public_base_url_missing");
  }
  const op = services.providers.operation(row.provider, row.operation);
  for (const need of op?.templates ?? []) {
    if (need.required && !templates.some((t) => t.role === need.role)) {
      warnings.push(`template_missing:${need.role}`);
    }
  }
  if (!services.providers.validate(row.provider, row.operation, row.settings).ok)
    warnings.push("invalid_settings");
  const fb = row.fallback;
  if (fb && !services.providers.validate(fb.provider, fb.operation, fb.settings).ok) {
    warnings.push("fallback_invalid_settings");
  }
  return warnings;
}

export async function getSlot(
  services: Pick<Services, "store" | "templates" | "providers" | "settings" | "clock">,
  slotId: string,
  base: string,
) {
  const row = await findSlot(services, slotId);
  const templates = await services.templates.forSlot(slotId);
  const [recent, stats, warnings] = await Promise.all([
    recentResults(services, slotId, base),
    slotStatsSummary(services, row),
    slotWarnings(services, row, templates),
  ]);
  return {
    ...slotView(row, base),
    templates: templates.map(templateView),
    recent_results: recent,
    stats,
    warnings,
  };
}

// ---- booth fields ----

/** How many of a slot's newest booth jobs the field list looks at. */
export const BOOTH_FIELD_JOBS = 50;

/** The fields (form fields and URL query parameters) the booth sent with the slot's recent jobs. */
export async function boothFields(services: Pick<Services, "store">, slotId: string) {
  await findSlot(services, slotId);
  return services.store.jobs.boothFields(slotId, BOOTH_FIELD_JOBS);
}

/** A prompt filled with the booth's latest field values, as the provider would get it now. */
export function promptPreview(prompt: string, fields: { name: string; latest: string }[]) {
  const values = Object.fromEntries(fields.map((f) => [f.name, f.latest]));
  const placeholders = promptPlaceholders(prompt);
  return {
    filled: fillPrompt(prompt, values),
    placeholders,
    missing: placeholders.filter((n) => !Object.hasOwn(values, n)),
  };
}

// ---- updating ----

/**
 * The version an `If-Match` header asks for: `"3"`, `W/"3"` or `3`; null for no header or `*`.
 * Anything else cannot match a version, so it is reported as a conflict.
 */
export function parseIfMatch(header: string | null | undefined): number | null | "invalid" {
  if (header === null || header === undefined || header.trim() === "" || header.trim() === "*") return null;
  const m = /^\s*(?:W\/)?"?(\d{1,9})"?\s*$/.exec(header);
  return m ? Number(m[1]) : "invalid";
}

function versionConflict(current: number): AppError {
  return new AppError(
    "version_conflict",
    "The slot was changed by someone else; reload it and apply your change again",
    { current_version: current },
  );
}

function checkProviderConfig(
  services: Pick<Services, "providers">,
  provider: string,
  operation: string,
  settings: unknown,
): Record<string, unknown> {
  const checked = services.providers.validate(provider, operation, settings);
  if (!checked.ok) throw validationFailed(checked.errors);
  return settings as Record<string, unknown>;
}

/**
 * A fallback checked exactly like the primary (the catalogue's validation), its errors named under
 * `fallback.` (`fallback.provider`, `fallback.settings.prompt`…). Null stays null.
 */
function checkFallback(
  services: Pick<Services, "providers">,
  fallback: { provider: string; operation: string; settings?: Record<string, unknown> } | null,
): FallbackConfig | null {
  if (fallback === null) return null;
  const settings = fallback.settings ?? {};
  const checked = services.providers.validate(fallback.provider, fallback.operation, settings);
  if (!checked.ok) {
    throw validationFailed(checked.errors.map((e) => ({ ...e, field: `fallback.${e.field}` })));
  }
  return { provider: fallback.provider, operation: fallback.operation, settings };
}

/**
 * Applies a (partial) update: missing keys keep their value, the merged provider/operation/settings
 * are validated against the catalogue (422 with per-field errors), `If-Match` must name the
 * current version (409), and the write itself is conditional on that version so two racing
 * saves cannot both win. Bumps the version and records who changed what.
 */
export async function updateSlot(
  services: Pick<Services, "store" | "providers" | "settings" | "clock" | "log">,
  slotId: string,
  body: unknown,
  opts: { ifMatch: string | null | undefined; by: string },
): Promise<SlotRow> {
  const row = await findSlot(services, slotId);
  const input = validate(SlotUpdate, body);
  const wanted = parseIfMatch(opts.ifMatch);
  if (wanted !== null && wanted !== row.version) throw versionConflict(row.version);
  const provider = input.provider ?? row.provider;
  const operation = input.operation ?? row.operation;
  const settings = checkProviderConfig(services, provider, operation, input.settings ?? row.settings);
  const fallback =
    input.fallback === undefined ? (row.fallback ?? null) : checkFallback(services, input.fallback);
  const next = {
    name: input.name?.trim() ?? row.name,
    enabled: input.enabled ?? row.enabled,
    provider,
    operation,
    settings,
    fallback,
    sizeLimitMb: input.size_limit_mb ?? row.sizeLimitMb,
    outputFormat: input.output_format ?? row.outputFormat,
  };
  if (next.name === "") throw validationFailed([{ field: "name", message: "The name cannot be empty" }]);
  const changed = (Object.keys(next) as (keyof typeof next)[]).filter(
    (k) => JSON.stringify(next[k]) !== JSON.stringify(row[k] ?? null),
  );
  const updated = await services.store.slots.updateIfVersion(
    slotId,
    row.version,
    next,
    opts.by,
    services.clock.now(),
  );
  if (!updated) throw versionConflict((await findSlot(services, slotId)).version);
  await services.settings.audit(opts.by, "slot.updated", {
    slot_id: slotId,
    version: updated.version,
    changed: changed.map(snake),
  });
  services.log.info("admin.slot_updated", { slot: slotId, version: updated.version, by: opts.by });
  return updated;
}

function snake(k: string): string {
  return k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

export async function resetStats(
  services: Pick<Services, "store" | "settings" | "clock">,
  slotId: string,
  by: string,
): Promise<SlotRow> {
  await findSlot(services, slotId);
  const row = await services.store.slots.resetStats(slotId, services.clock.now());
  await services.settings.audit(by, "slot.stats_reset", { slot_id: slotId });
  return row!;
}

// ---- test run ----

export interface TestRunInput {
  upload: Upload;
  /** The `overrides` form field as sent: a JSON object with unsaved provider/operation/settings. */
  overrides: string | null;
  /** The `fields` form field: booth field values (JSON object) for the prompt's placeholders. */
  fields?: string | null;
  by: string;
  clientIp: string | null;
  /** Fires when the client goes away: the job runs on, nobody waits for it. */
  signal?: AbortSignal;
  /** Keeps the connection open this many seconds (the route's idle timeout). */
  hold?: (seconds: number) => void;
}

export interface TestRunResult {
  job_id: string;
  status: "succeeded";
  served_provider: string;
  fallback_used: boolean;
  result_url: string;
  thumb_url: string;
  durations: JobDurations;
}

export function parseOverrides(raw: string | null): TestRunOverrides {
  return parseJsonField(raw, "overrides", "Expected a JSON object", TestRunOverrides) ?? {};
}

/** A JSON form field checked against its schema; null when it was left empty. */
function parseJsonField<S extends TSchema>(
  raw: string | null,
  field: string,
  notJson: string,
  schema: S,
): Static<S> | null {
  if (raw === null || raw.trim() === "") return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw validationFailed([{ field, message: notJson }]);
  }
  const errors = fieldErrors(schema, parsed, field);
  if (errors.length) throw validationFailed(errors);
  return parsed as Static<S>;
}

/**
 * The `fields` form field of a test run (a JSON object of booth field values), checked like the
 * booth's own fields: names of 1–64 characters, string values, no NUL.
 */
export function parseTestFields(raw: string | null): Record<string, string> {
  const fields: Record<string, string> =
    parseJsonField(raw, "fields", "Expected a JSON object of field values", TestRunFields) ?? {};
  for (const [key, value] of Object.entries(fields)) {
    if (key.length > MAX_META_KEY || key.includes("\u0000") || value.includes("\u0000")) {
      throw validationFailed([
        {
          field: "fields",
          message: `Field names have 1–${MAX_META_KEY} characters and no NUL; values no NUL`,
        },
      ]);
    }
  }
  return fields;
}

/**
 * Runs a test photo through the same queue and workers as the booth (source `test_run`, no ingest
 * password), with the saved slot settings or the unsaved overrides, and waits for the outcome.
 * Success returns the links and timings; a failure throws the same error the booth would get.
 */
export async function runTest(
  services: Services,
  slotId: string,
  input: TestRunInput,
  base: string,
): Promise<TestRunResult> {
  const row = await findSlot(services, slotId);
  const overrides = parseOverrides(input.overrides);
  const fields = parseTestFields(input.fields ?? null);
  const provider = overrides.provider ?? row.provider;
  await requireImage(input.upload, {
    maxPixels: services.config.maxImagePixels,
    acceptsHeic: services.providers.get(provider)?.spec.acceptsHeic ?? false,
    provider,
  });
  const operation = overrides.operation ?? row.operation;
  const settings = checkProviderConfig(services, provider, operation, overrides.settings ?? row.settings);
  // The fallback the booth would fall back to — or the unsaved one — is part of the test.
  const fallback =
    overrides.fallback === undefined ? (row.fallback ?? null) : checkFallback(services, overrides.fallback);
  const { final } = await acceptAndWait(services, {
    slot: row,
    source: "test_run",
    upload: input.upload,
    provider,
    operation,
    settings,
    fallback,
    outputFormat: overrides.output_format ?? row.outputFormat,
    clientMeta: fields,
    clientHash: null,
    clientIp: input.clientIp,
    createdBy: input.by,
    signal: input.signal,
    hold: input.hold,
    onAccepted: (job) =>
      services.log.info("admin.test_run", {
        job_id: job.id,
        slot: slotId,
        by: input.by,
        provider,
        operation,
      }),
  });
  if (!final) throw new AppError("client_closed", "The client closed the connection");
  const failure = outcomeError(services, final);
  if (failure) throw failure;
  const links = resultLinks(base, final.id);
  return {
    job_id: final.id,
    status: "succeeded",
    served_provider: final.servedProvider ?? final.provider,
    fallback_used: final.fallbackUsed,
    result_url: links.result_url,
    thumb_url: links.thumb_url,
    durations: jobDurations(final),
  };
}

// ---- templates ----

/** Stores a template image for a role. Checked by magic bytes (415); never creates a job. */
export async function addTemplate(
  services: Pick<Services, "store" | "templates" | "settings" | "clock" | "config">,
  slotId: string,
  input: { upload: Upload; role: unknown; by: string },
): Promise<TemplateView> {
  await findSlot(services, slotId);
  const roleErrors = fieldErrors(TemplateRole, input.role, "role");
  if (roleErrors.length) throw validationFailed(roleErrors);
  const role = input.role as string;
  // Templates are previewed and may be sent to any provider: JPEG, PNG or WebP only.
  const format = await requireImage(input.upload, { maxPixels: services.config.maxImagePixels });
  const { bytes } = input.upload;
  const size = await imageSize(bytes);
  const row = await services.templates.add({
    slotId,
    role,
    bytes,
    mime: MIME[format],
    format,
    sha256: createHash("sha256").update(bytes).digest("hex"),
    filename: input.upload.filename?.slice(0, 200) ?? null,
    width: size?.width ?? null,
    height: size?.height ?? null,
    uploadedBy: input.by,
    now: services.clock.now(),
  });
  await services.settings.audit(input.by, "template.added", { slot_id: slotId, template_id: row.id, role });
  return templateView(row);
}

async function findTemplate(
  services: Pick<Services, "templates">,
  slotId: string,
  templateId: string,
): Promise<TemplateMediaRow> {
  const row = isUuid(templateId) ? await services.templates.get(slotId, templateId) : null;
  if (!row) {
    throw new AppError("template_not_found", "This slot has no template with this id", {
      slot_id: slotId,
      template_id: templateId,
    });
  }
  return row;
}

/**
 * Deletes a template. Refused with 409 `template_in_use` when the slot's operation needs that role
 * and this is the last template for it — unless `force` (the slot then warns `template_missing`).
 */
export async function removeTemplate(
  services: Pick<Services, "store" | "templates" | "providers" | "settings">,
  slotId: string,
  templateId: string,
  opts: { force: boolean; by: string },
): Promise<void> {
  const row = await findSlot(services, slotId);
  const tpl = await findTemplate(services, slotId, templateId);
  const need = services.providers
    .operation(row.provider, row.operation)
    ?.templates.find((t) => t.role === tpl.role);
  if (need?.required && !opts.force) {
    const sameRole = (await services.templates.forSlot(slotId)).filter((t) => t.role === tpl.role);
    if (sameRole.length <= 1) {
      throw new AppError(
        "template_in_use",
        `The slot's operation needs a "${tpl.role}" template and this is the last one; upload another first or delete with force=true`,
        { slot_id: slotId, template_id: templateId, role: tpl.role },
      );
    }
  }
  await services.templates.remove(slotId, templateId);
  await services.settings.audit(opts.by, "template.removed", {
    slot_id: slotId,
    template_id: templateId,
    role: tpl.role,
    forced: opts.force,
  });
}

/** The file behind a template preview (admins only: templates may be guests' faces). */
export async function templateFile(
  services: Pick<Services, "store" | "templates" | "media">,
  slotId: string,
  templateId: string,
): Promise<{ body: Blob | ReadableStream<Uint8Array>; mime: string }> {
  await findSlot(services, slotId);
  const tpl = await findTemplate(services, slotId, templateId);
  const body = await services.media.body(tpl.path);
  if (!body) {
    throw new AppError("template_not_found", "The template file is missing", {
      template_id: templateId,
    });
  }
  return { body, mime: tpl.mime };
}
