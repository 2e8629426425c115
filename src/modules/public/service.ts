/** Public result links: 200 while kept, 404 when unknown/unfinished/failed, 410 once expired. */
import type { JobRow } from "../../db/schema";
import { AppError } from "../../lib/errors";
import { isUuid } from "../../lib/http";
import type { Services } from "../../services";

export async function findServableResult(rt: Services, jobId: string): Promise<JobRow> {
  const notFound = () =>
    new AppError(404, "result_not_found", "There is no result with this id", { job_id: jobId });
  if (!isUuid(jobId)) throw notFound();
  const job = await rt.queue.get(jobId);
  if (job?.status !== "succeeded") throw notFound();
  const expired = () =>
    new AppError(410, "result_expired", "This result is no longer kept", {
      job_id: jobId,
      result_expires_at: job.resultExpiresAt?.toISOString() ?? null,
    });
  if (job.resultDeletedAt || !job.resultPath) throw expired();
  if (job.resultExpiresAt && job.resultExpiresAt.getTime() <= rt.clock.now().getTime()) throw expired();
  if (!(await rt.media.exists(job.resultPath))) throw expired();
  return job;
}

/** Cache headers that let a browser keep the file exactly as long as the link lives. */
export function expiryHeaders(expiresAt: Date | null, now: Date): Record<string, string> {
  if (!expiresAt) return { "Cache-Control": "private, no-cache" };
  const left = Math.max(0, Math.floor((expiresAt.getTime() - now.getTime()) / 1000));
  return { "Cache-Control": `private, max-age=${left}`, Expires: expiresAt.toUTCString() };
}
