/**
 * Every statement on `job` and `processing_log`, as one object the services receive: the queue's
 * named operations (jobs.ts), the admin reads (job-reads.ts) and the statistics (job-stats.ts).
 */
import type { Sql } from "../db/client";
import type { FailureReason, JobRow, JobStatus, NewJobRow } from "../db/schema";
import { type Clock, systemClock } from "../lib/clock";
import * as reads from "./job-reads";
import { warmRollup } from "./job-rollup";
import * as stats from "./job-stats";
import * as claim from "./queue/claim";
import * as finalize from "./queue/finalize";
import * as insert from "./queue/insert";
import * as lease from "./queue/lease";
import * as listen from "./queue/listen";
import * as read from "./queue/read";
import * as recover from "./queue/recover";
import * as release from "./queue/release";
import * as results from "./queue/results";
import type * as rows from "./queue/rows";

const q = {
  ...claim,
  ...finalize,
  ...insert,
  ...lease,
  ...listen,
  ...read,
  ...recover,
  ...release,
  ...results,
};

export type { ClaimRoom } from "./queue/claim";
export type { FinalizedJob, FinalLog, ResultColumns } from "./queue/finalize";
export type { InsertOutcome } from "./queue/insert";
export type { LogEntry } from "./queue/rows";

export class JobStore {
  constructor(
    private readonly sql: Sql,
    /** Admin reads, statistics and the cleaner's bulk reads: calls that may take longer (REPORT_BOUND). */
    private readonly reports: Sql = sql,
    /** The app clock: which hours of the statistics' rollup are sealed is reckoned from its now. */
    private readonly clock: Pick<Clock, "now"> = systemClock,
  ) {}

  // ---- the queue ----
  /** `liveSince`: processing rows with an older lease heartbeat do not count against the cap. */
  insertWithinCap(values: NewJobRow, cap: number, liveSince: Date, log: rows.LogEntry[] = []) {
    return q.insertJobWithinCap(this.sql, values, cap, liveSince, log);
  }
  claimBatch(
    owners: readonly string[],
    now: Date,
    room: claim.ClaimRoom | null,
    onlyInstance: string | null,
  ) {
    return q.claimJobs(this.sql, owners, now, room, onlyInstance);
  }
  claim(owner: string, now: Date, skipProviders: string[] = [], onlyInstance: string | null = null) {
    return q.claimNextJob(this.sql, owner, now, skipProviders, onlyInstance);
  }
  release(id: string, token: string, now: Date, message: string) {
    return q.releaseJob(this.sql, id, token, now, message);
  }
  heartbeat(id: string, token: string, now: Date) {
    return q.heartbeat(this.sql, id, token, now);
  }
  heartbeatMany(leases: readonly { id: string; token: string }[], now: Date) {
    return q.heartbeatMany(this.sql, leases, now);
  }
  finalizeSucceeded(id: string, token: string, now: Date, r: finalize.ResultColumns, log: finalize.FinalLog) {
    return q.finalizeSucceeded(this.sql, id, token, now, r, log);
  }
  finalizeFailed(
    id: string,
    token: string,
    now: Date,
    reason: FailureReason,
    message: string,
    latencyMs: number | null,
    log: finalize.FinalLog,
  ) {
    return q.finalizeFailed(this.sql, id, token, now, reason, message, latencyMs, log);
  }
  expire(id: string, now: Date) {
    return q.expireJob(this.sql, id, now);
  }
  cancel(id: string, now: Date, by: string) {
    return q.cancelJob(this.sql, id, now, by);
  }
  recover(now: Date, me: string, lapsedBefore: Date | null, graceMs: number) {
    return q.recoverOrphans(this.sql, now, me, lapsedBefore, graceMs);
  }
  markUnattended() {
    return q.markUnattended(this.sql);
  }
  states(ids: string[]) {
    return q.jobStates(this.sql, ids);
  }
  referencedFiles(ids: string[]) {
    return q.referencedFiles(this.sql, ids);
  }
  switchToFallback(id: string, token: string, now: Date, details: Record<string, unknown>) {
    return q.switchToFallback(this.sql, id, token, now, details);
  }
  delete(id: string, now: Date, by: string) {
    return q.deleteJob(this.sql, id, now, by);
  }
  rerunsOf(id: string) {
    return q.rerunsOf(this.sql, id);
  }
  get(id: string): Promise<JobRow | null> {
    return q.getJob(this.sql, id);
  }
  countActive() {
    return q.countActive(this.sql);
  }
  setProviderRef(id: string, token: string, ref: string) {
    return q.setProviderRef(this.sql, id, token, ref);
  }
  recordThumbnail(id: string, path: string) {
    return q.recordThumbnail(this.sql, id, path);
  }
  promoteSpooledResult(id: string, from: string, to: string) {
    return q.promoteSpooledResult(this.sql, id, from, to);
  }
  appendLog(entry: rows.LogEntry) {
    return q.appendLog(this.sql, entry);
  }
  listen(handlers: Parameters<typeof q.listenForJobs>[1]) {
    return q.listenForJobs(this.sql, handlers);
  }

  // ---- admin reads ----
  list(filter: reads.JobListFilter) {
    return reads.listJobs(this.reports, filter, this.clock.now());
  }
  newestPerSlot(slotIds: string[], status: JobStatus) {
    return reads.newestPerSlot(this.reports, slotIds, status);
  }
  timeline(jobId: string) {
    return reads.timeline(this.reports, jobId);
  }
  recentResults(slotId: string, now: Date, limit: number) {
    return reads.recentResults(this.reports, slotId, now, limit);
  }
  exportRows(f: Parameters<typeof reads.exportRows>[1]) {
    return reads.exportRows(this.reports, f);
  }
  boothFields(slotId: string, limit: number) {
    return reads.boothFields(this.reports, slotId, limit);
  }
  outcomeCounts(slotId: string, since: Date | null) {
    return reads.outcomeCounts(this.reports, slotId, since, this.clock.now());
  }
  expiredResults(now: Date) {
    return reads.expiredResults(this.reports, now);
  }
  markResultsDeleted(ids: string[], now: Date) {
    return reads.markResultsDeleted(this.reports, ids, now);
  }
  keptPayloadPaths() {
    return reads.keptPayloadPaths(this.reports);
  }
  expiredPayloads(cutoff: Date) {
    return reads.expiredPayloads(this.reports, cutoff);
  }
  releasePayloads(ids: string[]) {
    return reads.releasePayloads(this.reports, ids);
  }
  liveResultPaths() {
    return reads.liveResultPaths(this.reports);
  }
  storedResultCounts(now: Date) {
    return reads.storedResultCounts(this.reports, now);
  }

  // ---- statistics ----
  aggregate(f: stats.JobFilter, bucketing: { grain: string; tz: string } | null) {
    return stats.aggregateJobs(this.reports, f, bucketing);
  }
  /** Fills the statistics' hourly rollup for every closed hour not in it yet. */
  warmStats() {
    return warmRollup(this.reports, this.clock.now());
  }
  /** `aggregate` (whole range and per bucket) and `failureReasons` from the hourly rollup. */
  rollupStats(f: stats.JobFilter, buckets: readonly { key: string; start: Date }[] | null) {
    return stats.rollupStats(this.reports, f, buckets, this.clock.now());
  }
  fallbackSuccesses(f: stats.JobFilter) {
    return stats.fallbackSuccesses(this.reports, f);
  }
  timeoutsWithProviderRef(f: stats.JobFilter) {
    return stats.timeoutsWithProviderRef(this.reports, f);
  }
  billedAnswers(f: { from: Date; to: Date; slotId?: string | null }) {
    return stats.billedAnswers(this.reports, f);
  }
  billedAnswersBySlot(f: { from: Date; to: Date }) {
    return stats.billedAnswersBySlot(this.reports, f);
  }
  fallbackSuccessesBySlot(f: { from: Date; to: Date }) {
    return stats.fallbackSuccessesBySlot(this.reports, f);
  }
  failureReasons(f: stats.JobFilter) {
    return stats.failureReasons(this.reports, f);
  }
  lastOutcomes(slotIds: string[]) {
    return stats.lastOutcomes(this.reports, slotIds);
  }
  windowCounts(since: Date) {
    return stats.windowCounts(this.reports, since);
  }
  recentFailures(since: Date, limit: number) {
    return stats.recentFailures(this.reports, since, limit);
  }
}
