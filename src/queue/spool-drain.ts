/**
 * Uploads the results kept in the local spool (src/media/spool.ts) once the bucket takes them
 * again, oldest first: each is checked against its job's recorded SHA-256, uploaded to the key
 * without the `spool/` prefix, the job pointed at it (one conditional UPDATE), and the local copy
 * deleted. A spooled file no finished job points at — a result whose fence refused it, one the
 * cleaner expired, a crash between spooling and finalizing — is deleted once it is old enough
 * that no worker of this process can still be finalizing with it. The first upload the bucket
 * refuses ends the round: the next one tries again.
 */
import { createHash } from "node:crypto";
import { isFinal } from "../domain/outcome";
import type { Logger } from "../lib/log";
import { bucketKeyOf, type SpooledMediaStore } from "../media/spool";
import { isStorageUnavailable } from "../media/storage";
import type { JobStore } from "../store/job-store";
import { LEFTOVER_AGE_MS } from "./index";

export interface DrainReport {
  uploaded: number;
  dropped: number;
  /** Still waiting after this round (the bucket refused, or their jobs are still running). */
  left: number;
}

const JOB_ID = /([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\.a\d+\.[a-z]+$/;

export async function drainSpool(deps: {
  jobs: Pick<JobStore, "getJob" | "promoteSpooledResult">;
  media: SpooledMediaStore;
  log: Logger;
}): Promise<DrainReport> {
  const { jobs, media, log } = deps;
  const { spool } = media;
  const waiting = await spool.waiting();
  const report: DrainReport = { uploaded: 0, dropped: 0, left: waiting.length };
  for (const file of waiting) {
    const id = JOB_ID.exec(file.path)?.[1] ?? null;
    const job = id ? await jobs.getJob(id) : null;
    // Its worker may still finalize with it (or discard it): not ours to judge yet.
    if (job && !isFinal(job.status)) continue;
    if (!job || job.resultPath !== file.path || job.resultDeletedAt) {
      if (job?.resultDeletedAt || Date.now() - file.mtimeMs > LEFTOVER_AGE_MS) {
        await spool.remove(file.path);
        report.dropped++;
        report.left--;
        log.info("media.spool_dropped", {
          key: file.path,
          job_id: id,
          reason: job ? "not_its_result" : "no_job",
        });
      }
      continue;
    }
    const bytes = await spool.read(file.path);
    if (createHash("sha256").update(bytes).digest("hex") !== job.resultSha256) {
      // Never upload other bytes than the job recorded: kept for the operator, said loudly.
      log.error("media.spool_corrupt", { key: file.path, job_id: job.id });
      continue;
    }
    const target = bucketKeyOf(file.path);
    try {
      await media.bucket.writeAtomic(target, bytes, { mime: job.resultMime ?? undefined });
    } catch (err) {
      if (!isStorageUnavailable(err)) throw err;
      log.info("media.spool_waiting", { files: report.left, error: String(err) });
      return report;
    }
    if (await jobs.promoteSpooledResult(job.id, file.path, target)) {
      log.info("media.spool_uploaded", { key: target, job_id: job.id, bytes: bytes.byteLength });
      report.uploaded++;
    } else {
      // The cleaner expired it while it was uploading: nothing may keep it.
      await media.bucket.remove(target).catch(() => {});
      report.dropped++;
    }
    await spool.remove(file.path);
    report.left--;
  }
  return report;
}
