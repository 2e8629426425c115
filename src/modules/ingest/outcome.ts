/** Turns a job's final state into the booth's HTTP answer (and the test run's). */
import { randomUUID } from "node:crypto";
import type { JobRow } from "../../db/schema";
import { AppError, errorResponse } from "../../lib/errors";
import { contentDisposition } from "../../lib/http";
import type { Services } from "../../services";

export function shortId(jobId: string): string {
  return jobId.slice(0, 8);
}

export function resultFilename(job: Pick<JobRow, "id" | "slotId" | "resultPath">): string {
  const ext = job.resultPath?.split(".").pop() ?? "jpg";
  return `${job.slotId}-${shortId(job.id)}.${ext}`;
}

/** The error a finished-but-unsuccessful job answers with; null for success. */
export function outcomeError(rt: Services, job: JobRow): AppError | null {
  const details = { job_id: job.id };
  switch (job.status) {
    case "succeeded":
      return null;
    case "timeout":
      return new AppError(504, "sync_timeout", "The photo was not processed before the deadline", {
        job_id: job.id,
        expires_at: job.expiresAt.toISOString(),
      });
    case "cancelled":
      return new AppError(503, "job_cancelled", "An administrator cancelled this job", details);
    case "failed":
      break;
    default:
      return internal(rt, job, `job ended in unexpected status ${job.status}`);
  }
  const message = job.errorMessage ?? "The provider failed";
  switch (job.failureReason) {
    case "provider_blocked":
      return new AppError(422, "provider_blocked", message, details);
    case "provider_error":
      return new AppError(502, "provider_error", message, details);
    case "invalid_config":
      return new AppError(502, "invalid_config", message, details);
    case "timeout":
      return new AppError(504, "sync_timeout", message, {
        job_id: job.id,
        expires_at: job.expiresAt.toISOString(),
      });
    default:
      return internal(rt, job, job.errorMessage ?? "job failed");
  }
}

function internal(rt: Services, job: JobRow, cause: string): AppError {
  const correlationId = randomUUID();
  rt.log.error("ingest.internal_error", {
    job_id: job.id,
    slot: job.slotId,
    correlation_id: correlationId,
    cause,
  });
  return new AppError(500, "internal_error", "Something went wrong on the server", {
    job_id: job.id,
    correlation_id: correlationId,
  });
}

/** 200 with the image bytes, or the job's error in the envelope. */
export async function outcomeResponse(rt: Services, job: JobRow): Promise<Response> {
  return (await outcomeReply(rt, job)).response;
}

/** The answer and its outcome label ("success" or the error code) for metrics and logs. */
export async function outcomeReply(
  rt: Services,
  job: JobRow,
): Promise<{ response: Response; outcome: string }> {
  const headers = { "X-Job-Id": job.id, "Cache-Control": "no-store" };
  const failure = outcomeError(rt, job);
  if (failure) return { response: errorResponse(failure, headers), outcome: failure.code };
  if (!job.resultPath || !(await rt.media.exists(job.resultPath))) {
    const missing = internal(rt, job, "result file missing");
    return { response: errorResponse(missing, headers), outcome: missing.code };
  }
  const response = new Response(Bun.file(rt.media.abs(job.resultPath)), {
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
