/**
 * Runs the cleaner on a schedule (croner, every 15 minutes) and once at start. Runs never overlap —
 * a tick that finds the previous run still busy is skipped, whoever started it (the schedule, the
 * start-up run or a manual trigger) — and a failed run is logged, never thrown into the process.
 */
import { Cron } from "croner";
import { CleanerBusy, type CleanupDeps, type CleanupReport, runCleanup } from "./cleanup";

export const CLEANUP_SCHEDULE = "*/15 * * * *";

export type CleanerRun = { status: "done"; report: CleanupReport } | { status: "skipped" | "failed" };

export interface Cleaner {
  /** Runs now unless a run is in progress. */
  runNow(trigger: string): Promise<CleanerRun>;
  /** When the schedule fires next (null once stopped). */
  nextRun(): Date | null;
  /** Stops the schedule and waits for a run in progress to finish. */
  stop(): Promise<void>;
}

export function startCleaner(
  services: CleanupDeps,
  options: { schedule?: string; runAtStart?: boolean } = {},
): Cleaner {
  let current: Promise<CleanerRun> | null = null;

  const runNow = (trigger: string): Promise<CleanerRun> => {
    if (current) {
      services.log.info("cleanup.skipped", { trigger, reason: "the previous run is still busy" });
      return Promise.resolve({ status: "skipped" });
    }
    const run = runCleanup(services, { trigger }).then(
      (report): CleanerRun => ({ status: "done", report }),
      (err: unknown): CleanerRun => {
        if (err instanceof CleanerBusy) {
          // Another instance is cleaning the same database and bucket: nothing is left to do here.
          services.log.info("cleanup.skipped", { trigger, reason: err.message });
          return { status: "skipped" };
        }
        services.log.error("cleanup.failed", { trigger, error: err });
        return { status: "failed" };
      },
    );
    current = run.finally(() => {
      current = null;
    });
    return current;
  };

  const job = new Cron(
    options.schedule ?? CLEANUP_SCHEDULE,
    {
      name: "cleanup",
      // croner's own guard, on top of ours: a tick never starts while its previous tick runs.
      protect: () =>
        services.log.info("cleanup.skipped", { trigger: "cron", reason: "the previous run is still busy" }),
      catch: (err: unknown) => services.log.error("cleanup.failed", { trigger: "cron", error: err }),
    },
    async () => {
      await runNow("cron");
    },
  );
  if (options.runAtStart ?? true) void runNow("start");

  return {
    runNow,
    nextRun: () => job.nextRun(),
    async stop() {
      job.stop();
      await current;
    },
  };
}
