/**
 * `photochanger job delete <id>` and `photochanger job rerun <id>`: the operator's way to remove a
 * guest's photo at the studio's request, or to run a failed job again once its slot is fixed — the
 * same services, checks and audit entries as DELETE /api/jobs/{id} and POST /api/jobs/{id}/rerun
 * (the actor is `cli`).
 */
import { deleteJob, rerunJob } from "../modules/jobs/service";
import type { Services } from "../services";

export const JOB_USAGE =
  "photochanger job delete <job-id>\n" +
  "       photochanger job rerun <job-id>\n\n" +
  "delete: removes the job's photo, result, thumbnail and temporary media (local or S3); the job\n" +
  "stays in the statistics and its guest link and QR code answer 410 (photo removed at the\n" +
  "studio's request). A job still running is refused: cancel it or wait for it to end.\n" +
  "rerun: runs a job that ended without success again on the slot's current configuration (a\n" +
  "running server does the work) and prints the new job's id. Both are in the audit log.";

export const JOB_SUBCOMMANDS = ["delete", "rerun"] as const;
export type JobSubcommand = (typeof JOB_SUBCOMMANDS)[number];

export function isJobSubcommand(v: string | undefined): v is JobSubcommand {
  return (JOB_SUBCOMMANDS as readonly string[]).includes(v ?? "");
}

/** Runs the subcommand; returns the line to print. Refusals throw the API's AppError. */
export async function runJobCommand(services: Services, sub: JobSubcommand, id: string): Promise<string> {
  if (sub === "delete") {
    await deleteJob(services, id, "cli");
    return `job ${id}: photo, result and thumbnail deleted; the guest link now says the photo was removed`;
  }
  const { job_id } = await rerunJob(services, id, "cli");
  return `job ${id}: re-run as ${job_id}`;
}
