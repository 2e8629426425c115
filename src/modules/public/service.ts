/**
 * Public result links: 200 while kept, 404 when unknown/unfinished/failed, 410 once expired — or
 * 410 `result_deleted` once the studio deleted the photo.
 */
import type { JobRow } from "../../db/schema";
import { AppError } from "../../lib/errors";
import { isUuid } from "../../lib/http";
import { thumbnail } from "../../media/images";
import type { Services } from "../../services";

export async function findServableResult(services: Services, jobId: string): Promise<JobRow> {
  const notFound = () =>
    new AppError("result_not_found", "There is no result with this id", { job_id: jobId });
  if (!isUuid(jobId)) throw notFound();
  const job = await services.queue.get(jobId);
  if (job?.deletedAt) {
    throw new AppError("result_deleted", "The photo was removed at the studio's request", { job_id: jobId });
  }
  if (job?.status !== "succeeded") throw notFound();
  const expired = () =>
    new AppError("result_expired", "This result is no longer kept", {
      job_id: jobId,
      result_expires_at: job.resultExpiresAt?.toISOString() ?? null,
    });
  if (job.resultDeletedAt || !job.resultPath) throw expired();
  if (job.resultExpiresAt && job.resultExpiresAt.getTime() <= services.clock.now().getTime()) throw expired();
  if (!(await services.media.exists(job.resultPath))) throw expired();
  return job;
}

/** Cache headers that let a browser keep the file exactly as long as the link lives. */
export function expiryHeaders(expiresAt: Date | null, now: Date): Record<string, string> {
  if (!expiresAt) return { "Cache-Control": "private, no-cache" };
  const left = Math.max(0, Math.floor((expiresAt.getTime() - now.getTime()) / 1000));
  return { "Cache-Control": `private, max-age=${left}`, Expires: expiresAt.toUTCString() };
}

/** Thumbnails being made right now, by job id: concurrent first requests share one encode. */
const making = new Map<string, Promise<string | null>>();

/**
 * The path of a result's WebP thumbnail, made on its first request — never on the booth's critical
 * path, and only for results someone looks at. Null when it cannot be made (a HEIC result kept as
 * "original" cannot be decoded here).
 */
export async function thumbnailOf(services: Services, job: JobRow): Promise<string | null> {
  if (job.thumbPath && (await services.media.exists(job.thumbPath))) return job.thumbPath;
  let pending = making.get(job.id);
  if (!pending) {
    pending = makeThumbnail(services, job).finally(() => making.delete(job.id));
    making.set(job.id, pending);
  }
  return pending;
}

async function makeThumbnail(services: Services, job: JobRow): Promise<string | null> {
  let webp: Uint8Array;
  try {
    webp = await thumbnail(await services.media.read(job.resultPath!));
  } catch (err) {
    services.log.warn("result.thumbnail_failed", { job_id: job.id, slot: job.slotId, error: err });
    return null;
  }
  // It can always be made again from the result, so it needs no fsync.
  const path = await services.media.writeAtomic(`results/${job.id}.thumb.webp`, webp, { durable: false });
  if (!(await services.queue.recordThumbnail(job.id, path))) {
    // The result was purged while we encoded: leave nothing behind.
    await services.media.remove(path);
    return null;
  }
  return path;
}
