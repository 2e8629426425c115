/**
 * The jobs an admin sees: a filtered, paged list (newest first), one job with its processing-log
 * timeline and timings, and cancel. Plain functions over the services they name, for the JSON API
 * and the server-rendered pages alike.
 */
import { JOB_STATUSES, type JobRow, type JobStatus } from "../../db/schema";
import { boxTimeZone } from "../../domain/calendar";
import { isFinal } from "../../domain/outcome";
import { isSlotId } from "../../domain/slots";
import { AppError } from "../../lib/errors";
import { isUuid } from "../../lib/http";
import { resultLinks } from "../../lib/urls";
import type { FieldError } from "../../lib/validation";
import type { Services } from "../../services";
import { enqueueUpload, fromSlot, requireImage, routeByQuota, type Upload } from "../ingest/service";
import { parseTime } from "../stats/arithmetic";
import { DEFAULT_PAGE_SIZE, JOB_SOURCES, type JobQuery, MAX_PAGE_SIZE } from "./model";

export interface JobFilters {
  statuses?: JobStatus[];
  slotId?: string;
  source?: (typeof JOB_SOURCES)[number];
  from?: Date;
  to?: Date;
  page: number;
  pageSize: number;
  /** Count every match for `meta.total` (default); -1 there when a page shows no total. */
  count?: boolean;
}

export interface JobDurations {
  queue_wait_ms: number | null;
  provider_ms: number | null;
  total_ms: number | null;
}

/** Queue wait (created → claimed), provider time, and total (created → final). */
export function jobDurations(
  j: Pick<JobRow, "createdAt" | "startedAt" | "finalizedAt" | "providerLatencyMs">,
): JobDurations {
  return {
    queue_wait_ms: j.startedAt ? j.startedAt.getTime() - j.createdAt.getTime() : null,
    provider_ms: j.providerLatencyMs ?? null,
    total_ms: j.finalizedAt ? j.finalizedAt.getTime() - j.createdAt.getTime() : null,
  };
}

/**
 * Turns the query string into filters; every bad value is reported by name — 400
 * `invalid_request`, like every bad query parameter (times are read by the statistics' `parseTime`,
 * so `from`/`to` mean the same on /api/jobs and /api/stats).
 */
export function parseJobQuery(q: JobQuery): JobFilters {
  const errors: FieldError[] = [];
  const filters: JobFilters = { page: 1, pageSize: DEFAULT_PAGE_SIZE };
  if (q.status) {
    const list = q.status.split(",").map((s) => s.trim());
    const bad = list.filter((s) => !(JOB_STATUSES as readonly string[]).includes(s));
    if (bad.length) errors.push({ field: "status", message: `Expected ${JOB_STATUSES.join(", ")}` });
    else filters.statuses = list as JobStatus[];
  }
  if (q.slot) {
    if (!isSlotId(q.slot)) errors.push({ field: "slot", message: "Expected a slot id, slot-001 … slot-015" });
    else filters.slotId = q.slot;
  }
  if (q.source) {
    if (!(JOB_SOURCES as readonly string[]).includes(q.source)) {
      errors.push({ field: "source", message: `Expected ${JOB_SOURCES.join(" or ")}` });
    } else filters.source = q.source as JobFilters["source"];
  }
  for (const key of ["from", "to"] as const) {
    const v = q[key];
    if (!v) continue;
    try {
      filters[key] = parseTime(v, boxTimeZone(), key);
    } catch (err) {
      if (!(err instanceof AppError)) throw err;
      errors.push({ field: key, message: err.message });
    }
  }
  const int = (key: "page" | "page_size", v: string | undefined, max: number) => {
    if (v === undefined || v === "") return null;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1 || n > max) {
      errors.push({ field: key, message: `Expected a whole number from 1 to ${max}` });
      return null;
    }
    return n;
  };
  filters.page = int("page", q.page, 1_000_000) ?? 1;
  filters.pageSize = int("page_size", q.page_size, MAX_PAGE_SIZE) ?? DEFAULT_PAGE_SIZE;
  if (errors.length) {
    throw new AppError("invalid_request", "Some query parameters are not valid", { fields: errors });
  }
  return filters;
}

export function jobView(j: JobRow, base: string) {
  const servable = j.status === "succeeded" && !!j.resultPath && !j.resultDeletedAt && !j.deletedAt;
  const links = servable ? resultLinks(base, j.id) : null;
  return {
    id: j.id,
    slot_id: j.slotId,
    source: j.source,
    status: j.status,
    failure_reason: j.failureReason ?? null,
    error_message: j.errorMessage ?? null,
    provider: j.provider,
    operation: j.operation,
    output_format: j.outputFormat,
    created_at: j.createdAt.toISOString(),
    started_at: j.startedAt?.toISOString() ?? null,
    finalized_at: j.finalizedAt?.toISOString() ?? null,
    expires_at: j.expiresAt.toISOString(),
    attempts: j.attempts,
    fallback_used: j.fallbackUsed,
    served_provider: j.servedProvider ?? null,
    rerun_of: j.rerunOf ?? null,
    deleted_at: j.deletedAt?.toISOString() ?? null,
    created_by: j.createdBy ?? null,
    result_expires_at: j.resultExpiresAt?.toISOString() ?? null,
    result_url: links?.result_url ?? null,
    download_url: links?.download_url ?? null,
    thumb_url: links?.thumb_url ?? null,
    durations: jobDurations(j),
  };
}
export type JobView = ReturnType<typeof jobView>;

export async function listJobs(
  services: Pick<Services, "store">,
  filters: JobFilters,
  base: string,
): Promise<{ data: JobView[]; meta: { page: number; page_size: number; total: number } }> {
  const { rows, total } = await services.store.jobs.list({
    statuses: filters.statuses,
    slotId: filters.slotId,
    source: filters.source,
    from: filters.from,
    to: filters.to,
    offset: (filters.page - 1) * filters.pageSize,
    limit: filters.pageSize,
    count: filters.count,
  });
  return {
    data: rows.map((r) => jobView(r, base)),
    meta: { page: filters.page, page_size: filters.pageSize, total },
  };
}

async function requireJob(services: Pick<Services, "store">, id: string): Promise<JobRow> {
  const row = isUuid(id) ? await services.store.jobs.getJob(id) : null;
  if (!row) throw new AppError("job_not_found", "There is no job with this id", { job_id: id });
  return row;
}

export async function getJob(services: Pick<Services, "store" | "clock">, id: string, base: string) {
  const j = await requireJob(services, id);
  const [steps, reruns] = await Promise.all([
    services.store.jobs.timeline(id),
    services.store.jobs.rerunsOf(id),
  ]);
  const now = services.clock.now().getTime();
  return {
    ...jobView(j, base),
    settings: j.settings,
    fallback: j.fallback ?? null,
    reruns,
    deleted_by: j.deletedBy ?? null,
    photo_kept: !!j.payloadPath,
    templates: j.templates.map((t) => ({ id: t.id, role: t.role })),
    client_meta: j.clientMeta,
    client_ip: j.clientIp ?? null,
    client_hash: j.clientHash ?? null,
    provider_job_ref: j.providerJobRef ?? null,
    payload: {
      mime: j.payloadMime ?? null,
      size_bytes: j.payloadSize ?? null,
      sha256: j.payloadSha256 ?? null,
    },
    result: {
      mime: j.resultMime ?? null,
      size_bytes: j.resultSize ?? null,
      sha256: j.resultSha256 ?? null,
      deleted_at: j.resultDeletedAt?.toISOString() ?? null,
    },
    deadline_left_ms: isFinal(j.status) ? null : Math.max(0, j.expiresAt.getTime() - now),
    timeline: steps.map((s) => ({
      event: s.event,
      at: s.occurredAt.toISOString(),
      offset_ms: s.occurredAt.getTime() - j.createdAt.getTime(),
      provider_latency_ms: s.providerLatencyMs ?? null,
      message: s.message ?? null,
      details: s.details,
    })),
  };
}

/**
 * Cancels a pending or processing job. The queue's in-process event aborts the worker's provider
 * call, and the booth still waiting on the job is answered 503 `job_cancelled`.
 */
export async function cancelJob(
  services: Pick<Services, "store" | "queue" | "settings" | "log">,
  id: string,
  by: string,
  base: string,
): Promise<JobView> {
  const existing = await requireJob(services, id);
  const row = await services.queue.cancel(id, by);
  if (!row) {
    const now = (await services.queue.get(id)) ?? existing;
    throw new AppError("job_not_active", `The job already ended (${now.status})`, {
      job_id: id,
      status: now.status,
    });
  }
  await services.settings.audit(by, "job.cancelled", { job_id: id, slot_id: row.slotId });
  services.log.info("admin.job_cancelled", { job_id: id, slot: row.slotId, by });
  return jobView(row, base);
}

/**
 * Deletes a guest's photo at the studio's request (SPEC §11): the photo, result, thumbnail and
 * temporary media go from the media store (local or S3), the row stays — marked — for the
 * statistics, and the public links answer 410 `result_deleted`. A job still pending or processing
 * is refused with 409 `job_active` (cancel it, or wait the few seconds until it ends, then delete):
 * deleting work a provider is still doing would leave its paid result nowhere. Deleting a deleted
 * job again changes nothing (still 204).
 */
export async function deleteJob(
  services: Pick<Services, "store" | "queue" | "settings" | "log">,
  id: string,
  by: string,
): Promise<void> {
  const existing = await requireJob(services, id);
  if (existing.deletedAt) return;
  const row = await services.queue.delete(id, by);
  if (!row) {
    const now = (await services.queue.get(id)) ?? existing;
    if (now.deletedAt) return;
    throw new AppError(
      "job_active",
      "The job is still running; cancel it or wait for it to end, then delete it",
      {
        job_id: id,
        status: now.status,
      },
    );
  }
  await services.settings.audit(by, "job.deleted", { job_id: id, slot_id: row.slotId, status: row.status });
}

/**
 * Runs a finished job that did not succeed again (SPEC §11): a new job (source `rerun`, its own
 * result and guest link) on the slot's current configuration — provider, operation, settings,
 * fallback, templates, output format — from a copy of the kept photo. 409 when the job succeeded,
 * is still running, or its photo is gone (deleted, cancelled, or past the result retention).
 * The new job is queued (202); nobody waits for it: it is found in the jobs list and the gallery.
 */
export async function rerunJob(services: Services, id: string, by: string): Promise<{ job_id: string }> {
  const old = await requireJob(services, id);
  if (!isFinal(old.status)) {
    throw new AppError("job_active", "The job is still running", { job_id: id, status: old.status });
  }
  if (old.status === "succeeded") {
    throw new AppError("job_succeeded", "The job succeeded; only a job that failed can be run again", {
      job_id: id,
    });
  }
  const gone = () =>
    new AppError("photo_gone", "The photo of this job is no longer kept, so it cannot be run again", {
      job_id: id,
    });
  if (old.deletedAt || !old.payloadPath) throw gone();
  let bytes: Uint8Array;
  try {
    bytes = await services.media.read(old.payloadPath);
  } catch {
    throw gone();
  }
  const slot = await services.store.slots.get(old.slotId);
  if (!slot)
    throw new AppError("slot_not_found", `There is no slot "${old.slotId}"`, { slot_id: old.slotId });
  const upload: Upload = { bytes, format: "jpeg", filename: null, fields: new FormData() };
  await requireImage(upload, {
    maxPixels: services.config.maxImagePixels,
    acceptsHeic: services.providers.get(slot.provider)?.spec.acceptsHeic ?? false,
    provider: slot.provider,
  });
  const startOnFallback = await routeByQuota(services, slot.provider, slot.fallback ?? null, upload.format);
  const job = await enqueueUpload(services, {
    ...fromSlot(slot),
    source: "rerun",
    upload,
    startOnFallback,
    rerunOf: old.id,
    clientMeta: old.clientMeta,
    clientHash: old.clientHash,
    clientIp: old.clientIp,
    createdBy: by,
  });
  await services.settings.audit(by, "job.rerun", { job_id: old.id, new_job_id: job.id, slot_id: old.slotId });
  services.log.info("admin.job_rerun", { job_id: old.id, new_job_id: job.id, slot: old.slotId, by });
  return { job_id: job.id };
}
