/** Turns a job's final state into the booth's HTTP answer (and the test run's). */
import { internalError } from "../../app-errors";
import type { JobRow } from "../../db/schema";
import { classifyOutcome } from "../../domain/outcome";
import { wallClockAt } from "../../lib/clock";
import { AppError, errorResponse } from "../../lib/errors";
import { contentDisposition } from "../../lib/http";
import { isStorageUnavailable } from "../../media/storage";
import { FINAL_READ_GRACE_MS } from "../../queue/waiter";
import type { Services } from "../../services";

export function shortId(jobId: string): string {
  return jobId.slice(0, 8);
}

export function resultFilename(job: Pick<JobRow, "id" | "slotId" | "resultPath">): string {
  const ext = job.resultPath?.split(".").pop() ?? "jpg";
  return `${job.slotId}-${shortId(job.id)}.${ext}`;
}

/** The booth's words for a job that ended without a result, by how it ended. */
const MESSAGES: Record<string, string> = {
  timeout: "The photo was not processed before the deadline",
  cancelled: "An administrator cancelled this job",
  interrupted: "The server restarted while processing the photo; try again",
  storage_full: "The server's disk is full; the result was not stored",
};

/**
 * The error a finished-but-unsuccessful job answers with (its code and status from
 * `classifyOutcome`); null for success. A job that is not final, or ended in an unknown way, is
 * an internal error with a correlation id.
 */
export function outcomeError(services: Pick<Services, "log">, job: JobRow): AppError | null {
  const outcome = classifyOutcome(job.status, job.failureReason);
  if (outcome?.category === "success") return null;
  const context = { job_id: job.id, slot: job.slotId };
  if (!outcome || outcome.code === null || outcome.code === "internal_error") {
    const cause = outcome
      ? (job.errorMessage ?? "job failed")
      : `job ended in unexpected status ${job.status}`;
    return internalError(services.log, cause, context, { job_id: job.id });
  }
  const details: Record<string, unknown> = { job_id: job.id };
  if (outcome.code === "sync_timeout") details.expires_at = job.expiresAt.toISOString();
  const message =
    MESSAGES[job.failureReason ?? ""] ?? MESSAGES[job.status] ?? job.errorMessage ?? "The provider failed";
  // A fault (work cut short by restarts) is worth trying again shortly.
  const headers: Record<string, string> =
    outcome.code === "service_unavailable" ? { "Retry-After": "5" } : {};
  return new AppError(outcome.code, message, details, headers);
}

/** The deadline passed while the database was unreachable: the job's outcome is not known here. */
export function unconfirmedError(jobId: string, expiresAt: Date): AppError {
  return new AppError("sync_timeout", "The photo was not confirmed processed before the deadline", {
    job_id: jobId,
    expires_at: expiresAt.toISOString(),
  });
}

/**
 * The job succeeded and its result is kept, but the media storage did not give it back by the
 * booth's deadline (and the waiter's grace): the booth's 504 with the job id, like a database
 * outage at the deadline. The result stays at /public/results/{job_id}.
 */
export function resultUnreadableError(job: Pick<JobRow, "id" | "expiresAt">): AppError {
  return new AppError(
    "sync_timeout",
    "The photo was processed, but its result could not be read from the media storage before the deadline",
    { job_id: job.id, expires_at: job.expiresAt.toISOString() },
  );
}

/** The answer and its outcome label ("success" or the error code) for metrics and logs. */
export async function outcomeReply(
  services: Pick<Services, "log" | "media" | "clock">,
  job: JobRow,
): Promise<{ response: Response; outcome: string }> {
  const headers = { "X-Job-Id": job.id, "Cache-Control": "no-store" };
  const failure = outcomeError(services, job);
  if (failure) return { response: errorResponse(failure, headers), outcome: failure.code };
  let body: Blob | ReadableStream<Uint8Array> | null;
  try {
    // Tried again through a bucket outage until the booth's give-up time, never past it.
    const until = Math.max(
      wallClockAt(services.clock, job.expiresAt) + FINAL_READ_GRACE_MS,
      Date.now() + 1000,
    );
    body = job.resultPath ? await services.media.body(job.resultPath, { until }) : null;
  } catch (err) {
    if (!isStorageUnavailable(err)) throw err;
    services.log.warn("ingest.result_unreadable", { job_id: job.id, slot: job.slotId, error: err });
    const late = resultUnreadableError(job);
    return { response: errorResponse(late, headers), outcome: late.code };
  }
  if (!body) {
    const missing = internalError(
      services.log,
      "result file missing",
      { job_id: job.id, slot: job.slotId },
      {
        job_id: job.id,
      },
    );
    return { response: errorResponse(missing, headers), outcome: missing.code };
  }
  const response = new Response(body, {
    status: 200,
    headers: {
      ...headers,
      "Content-Type": job.resultMime ?? "application/octet-stream",
      "Content-Disposition": contentDisposition("inline", resultFilename(job)),
      "X-Content-Type-Options": "nosniff",
    },
  });
  return { response, outcome: "success" };
}
