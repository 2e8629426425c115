/**
 * Every statement on `job` and `processing_log`, as one object the services receive: the queue's
 * named operations (queue/, one file a verb) on the hot pool, the admin reads (job-reads.ts) and
 * the statistics (job-stats.ts) on the reports pool — each bound to its client once (bind.ts). The
 * few that read the app clock get their `now` here.
 */
import type { Sql } from "../db/client";
import { type Clock, systemClock } from "../lib/clock";
import { bindSql } from "./bind";
import {
  boothFields,
  expiredPayloads,
  expiredResults,
  exportRows,
  type JobListFilter,
  jobMediaRefs,
  keptPayloadPaths,
  listJobs,
  liveResultPaths,
  markResultsDeleted,
  newestPerSlot,
  outcomeCounts,
  recentResults,
  releasePayloads,
  storedResultCounts,
  timeline,
} from "./job-reads";
import { warmRollup } from "./job-rollup";
import {
  aggregateJobs,
  billedAnswers,
  billedAnswersBySlot,
  failureReasons,
  fallbackSuccesses,
  fallbackSuccessesBySlot,
  type JobFilter,
  lastOutcomes,
  recentFailures,
  rollupStats,
  slotHealth,
  timeoutsWithProviderRef,
  windowCounts,
} from "./job-stats";
import { claimJobs, claimNextJob } from "./queue/claim";
import { cancelJob, expireJob, finalizeFailed, finalizeSucceeded } from "./queue/finalize";
import { appendLog, insertJobWithinCap } from "./queue/insert";
import { heartbeat, heartbeatMany, setProviderRef, switchToFallback } from "./queue/lease";
import { listenForJobs } from "./queue/listen";
import { countActive, getJob, jobStates, referencedFiles, rerunsOf } from "./queue/read";
import { markUnattended, recoverOrphans } from "./queue/recover";
import { releaseJob } from "./queue/release";
import { deleteJob, promoteSpooledResult, recordThumbnail } from "./queue/results";

export type { ClaimRoom } from "./queue/claim";
export type { FinalizedJob, FinalLog, ResultColumns } from "./queue/finalize";
export type { InsertOutcome } from "./queue/insert";
export type { LogEntry } from "./queue/rows";

export type JobStore = ReturnType<typeof openJobStore>;

/**
 * `reports`: admin reads, statistics and the cleaner's bulk reads — calls that may take longer
 * (REPORT_BOUND). `clock`: the app's; which hours of the statistics' rollup are sealed is reckoned
 * from its now.
 */
export function openJobStore(sql: Sql, reports: Sql = sql, clock: Pick<Clock, "now"> = systemClock) {
  return {
    // the queue
    ...bindSql(sql, { insertJobWithinCap, appendLog, claimJobs, claimNextJob, heartbeat, heartbeatMany }),
    ...bindSql(sql, {
      switchToFallback,
      setProviderRef,
      finalizeSucceeded,
      finalizeFailed,
      expireJob,
      cancelJob,
    }),
    ...bindSql(sql, { releaseJob, recoverOrphans, markUnattended, listenForJobs }),
    ...bindSql(sql, { getJob, jobStates, referencedFiles, rerunsOf, countActive }),
    ...bindSql(sql, { deleteJob, recordThumbnail, promoteSpooledResult }),
    // admin reads and the cleaner's
    ...bindSql(reports, { newestPerSlot, timeline, recentResults, exportRows, boothFields }),
    ...bindSql(reports, { expiredResults, markResultsDeleted, keptPayloadPaths, expiredPayloads }),
    ...bindSql(reports, { releasePayloads, liveResultPaths, storedResultCounts, jobMediaRefs }),
    list: (filter: JobListFilter) => listJobs(reports, filter, clock.now()),
    outcomeCounts: (slotId: string, since: Date | null) => outcomeCounts(reports, slotId, since, clock.now()),
    // statistics
    ...bindSql(reports, { aggregateJobs, failureReasons, fallbackSuccesses, timeoutsWithProviderRef }),
    ...bindSql(reports, { fallbackSuccessesBySlot }),
    billedAnswers: (f: { from: Date; to: Date; slotId?: string | null }) =>
      billedAnswers(reports, f, clock.now()),
    billedAnswersBySlot: (f: { from: Date; to: Date }) => billedAnswersBySlot(reports, f, clock.now()),
    ...bindSql(reports, { lastOutcomes, windowCounts, recentFailures }),
    ...bindSql(sql, { slotHealth }),
    /** `aggregateJobs` (whole range and per bucket) and `failureReasons` from the hourly rollup. */
    rollupStats: (f: JobFilter, buckets: readonly { key: string; start: Date }[] | null) =>
      rollupStats(reports, f, buckets, clock.now()),
    /** Fills the statistics' hourly rollup for every closed hour not in it yet. */
    warmStats: () => warmRollup(reports, clock.now()),
  };
}
