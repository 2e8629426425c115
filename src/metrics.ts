/**
 * Prometheus metrics on a registry of our own (never prom-client's global one, so every runtime —
 * and every test app — has its own). Counters and histograms are cumulative and move as events
 * happen: an ingest answered, a job finalized, a cleanup run. Gauges describe the present and are
 * set at scrape time (see modules/metrics). Labels only take bounded values: slot ids, provider
 * and operation ids, error codes.
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import type { JobRow } from "./db/schema";
import { providerFault } from "./domain/outcome";
import { isSlotId } from "./domain/slots";
import { VERSION } from "./version";

/** Seconds; 48 is the default T_sync_response, 60 its largest setting. */
export const INGEST_DURATION_BUCKETS = [0.25, 0.5, 1, 2, 5, 10, 15, 20, 30, 40, 48, 60];
export const PROVIDER_LATENCY_BUCKETS = [0.1, 0.25, 0.5, 1, 2, 5, 10, 15, 20, 30, 45, 60, 90];

/** A slot label: one of the 15 ids, or "unknown" (a label must not take whatever a URL says). */
export function slotLabel(id: string): string {
  return isSlotId(id) ? id : "unknown";
}

/** The outcome of a finished job as a label: "success", else its failure reason (or status). */
export function jobOutcome(job: Pick<JobRow, "status" | "failureReason">): string {
  return job.status === "succeeded" ? "success" : (job.failureReason ?? job.status);
}

/**
 * Failures that are the provider's doing, by the one rule in src/domain/outcome.ts
 * (`providersFault`): its errors, refusals and image-less answers, and deadlines it was working
 * past — never a slot found unusable before any call, a cancel, or a failure of our own.
 */
export function providerErrorCode(
  job: Pick<JobRow, "status" | "failureReason" | "startedAt">,
): string | null {
  return providerFault(job);
}

/** The provider a finished job ran on last: its fallback once it went there, else its primary. */
function runningProvider(job: Pick<JobRow, "provider" | "fallbackUsed" | "fallback">): string {
  return job.fallbackUsed && job.fallback ? job.fallback.provider : job.provider;
}

/** What a cleaner run removed, by kind (the cleaner's report). */
export interface CleanupTotals {
  results: { count: number; bytes: number };
  thumbnails: { count: number; bytes: number };
  /** Photos of jobs that ended without success, kept for a re-run until the result retention ended. */
  photos: { count: number; bytes: number };
  mediaObjects: { count: number; bytes: number };
  orphanFiles: { count: number; bytes: number };
  staleJobs: number;
  authFailures: number;
}

export interface IngestLabels {
  slot: string;
  provider: string;
  outcome: string;
}

export interface GaugeSnapshot {
  queue: { pending: number; processing: number };
  inFlight: number;
  mediaBytes: Record<string, number>;
  disk: { free: number; total: number };
  lastCleanupAt: Date | null;
  syncResponseSeconds: number;
  /** Today's quota use per network provider (src/quota). */
  quotas: { provider: string; usedRatio: number | null }[];
  /** Statements sent to PostgreSQL and transactions ended since the process started. */
  db: { statements: number; transactions: number };
}

const CLEANUP_KINDS = ["results", "thumbnails", "photos", "mediaObjects", "orphanFiles"] as const;
const CLEANUP_KIND_LABEL: Record<(typeof CLEANUP_KINDS)[number], string> = {
  results: "results",
  thumbnails: "thumbnails",
  photos: "photos",
  mediaObjects: "media_objects",
  orphanFiles: "orphan_files",
};

export class Metrics {
  readonly registry = new Registry();

  private readonly ingestRequests = new Counter({
    name: "photochanger_ingest_requests_total",
    help: "Booth ingest requests answered, by slot, the slot's provider and outcome (success or the error code)",
    labelNames: ["slot", "provider", "outcome"] as const,
    registers: [this.registry],
  });
  private readonly ingestDuration = new Histogram({
    name: "photochanger_ingest_duration_seconds",
    help: "Time from an accepted ingest's arrival to its answer (refusals are not included)",
    labelNames: ["outcome"] as const,
    buckets: INGEST_DURATION_BUCKETS,
    registers: [this.registry],
  });
  private readonly providerLatency = new Histogram({
    name: "photochanger_provider_latency_seconds",
    help: "Time the provider took on a job, by provider, operation and the job's outcome",
    labelNames: ["provider", "operation", "outcome"] as const,
    buckets: PROVIDER_LATENCY_BUCKETS,
    registers: [this.registry],
  });
  private readonly providerErrors = new Counter({
    name: "photochanger_provider_errors_total",
    help: "Jobs failed by the provider: provider_error, provider_blocked, provider_no_image, timeout (while dispatched)",
    labelNames: ["provider", "code"] as const,
    registers: [this.registry],
  });
  private readonly providerRequests = new Counter({
    name: "photochanger_provider_requests_total",
    help: "Requests sent to a provider by this process (each attempt; Turbotext: each queued job), by provider",
    labelNames: ["provider"] as const,
    registers: [this.registry],
  });
  private readonly providerRetries = new Counter({
    name: "photochanger_provider_retries_total",
    help: "Provider calls repeated by this process, by provider and reason (http_429, http_503, network, no_image…)",
    labelNames: ["provider", "reason"] as const,
    registers: [this.registry],
  });
  private readonly providerPolls = new Counter({
    name: "photochanger_provider_polls_total",
    help: "Result polls sent to a provider that answers by queue (Turbotext get_result), by provider and its answer (reconnect: still working, done, refused, failed)",
    labelNames: ["provider", "answer"] as const,
    registers: [this.registry],
  });
  private readonly quotaUsed = new Gauge({
    name: "photochanger_provider_quota_used_ratio",
    help: "Share of the provider's daily request limit used in its current quota day (1 when the provider said its quota is exhausted); absent when unlimited",
    labelNames: ["provider"] as const,
    registers: [this.registry],
  });
  private readonly jobsFinished = new Counter({
    name: "photochanger_jobs_finished_total",
    help: "Jobs finalized by this process, by source (ingest, test_run, rerun) and outcome",
    labelNames: ["source", "outcome"] as const,
    registers: [this.registry],
  });
  private readonly fallbackJobs = new Counter({
    name: "photochanger_fallback_jobs_total",
    help: "Jobs finalized by this process after going to their slot's fallback provider, by slot, fallback provider and outcome (success: the fallback served the photo)",
    labelNames: ["slot", "provider", "outcome"] as const,
    registers: [this.registry],
  });
  private readonly cleanupRemoved = new Counter({
    name: "photochanger_cleanup_removed_total",
    help: "Items the cleaner removed, by kind",
    labelNames: ["kind"] as const,
    registers: [this.registry],
  });
  private readonly cleanupRemovedBytes = new Counter({
    name: "photochanger_cleanup_removed_bytes_total",
    help: "Bytes the cleaner freed, by kind",
    labelNames: ["kind"] as const,
    registers: [this.registry],
  });
  private readonly cleanupRuns = new Counter({
    name: "photochanger_cleanup_runs_total",
    help: "Cleaner runs in this process, by result (ok, error)",
    labelNames: ["result"] as const,
    registers: [this.registry],
  });
  private readonly queueDepth = new Gauge({
    name: "photochanger_queue_depth",
    help: "Jobs in the queue (whole database), by status",
    labelNames: ["status"] as const,
    registers: [this.registry],
  });
  private readonly dbStatements = new Counter({
    name: "photochanger_db_statements_total",
    help: "Statements this process has sent to PostgreSQL (plain connections)",
    registers: [this.registry],
  });
  private readonly dbTransactions = new Counter({
    name: "photochanger_db_transactions_total",
    help: "Transactions this process has ended on PostgreSQL, committed or rolled back (plain connections)",
    registers: [this.registry],
  });
  private dbSeen = { statements: 0, transactions: 0 };
  private readonly jobsInFlight = new Gauge({
    name: "photochanger_jobs_in_flight",
    help: "Jobs this process's workers are running now",
    registers: [this.registry],
  });
  private readonly mediaBytes = new Gauge({
    name: "photochanger_media_bytes",
    help: "Bytes of media by kind (payloads, results, templates, media), under MEDIA_ROOT or in the bucket",
    labelNames: ["kind"] as const,
    registers: [this.registry],
  });
  private readonly diskFree = new Gauge({
    name: "photochanger_disk_free_bytes",
    help: "Free bytes on the media volume (with a bucket: the data dir's volume), available to the service",
    registers: [this.registry],
  });
  private readonly diskTotal = new Gauge({
    name: "photochanger_disk_total_bytes",
    help: "Size of the media volume in bytes (with a bucket: the data dir's volume)",
    registers: [this.registry],
  });
  private readonly lastCleanup = new Gauge({
    name: "photochanger_cleanup_last_success_timestamp_seconds",
    help: "When the last cleaner run (any instance) finished, Unix time; 0 if never",
    registers: [this.registry],
  });
  private readonly syncResponse = new Gauge({
    name: "photochanger_sync_response_seconds",
    help: "The T_sync_response setting: how long a booth request is held",
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
    new Gauge({
      name: "photochanger_build_info",
      help: "Always 1; the version as a label",
      labelNames: ["version"] as const,
      registers: [this.registry],
    }).set({ version: VERSION }, 1);
    // Series that exist from the start, so rate() and absence alerts see them before the first event.
    for (const kind of [...Object.values(CLEANUP_KIND_LABEL), "stale_jobs", "auth_failures"]) {
      this.cleanupRemoved.inc({ kind }, 0);
    }
    for (const kind of Object.values(CLEANUP_KIND_LABEL)) this.cleanupRemovedBytes.inc({ kind }, 0);
    for (const result of ["ok", "error"]) this.cleanupRuns.inc({ result }, 0);
    for (const provider of ["gemini", "turbotext", "openai"]) this.providerRequests.inc({ provider }, 0);
    this.providerPolls.inc({ provider: "turbotext", answer: "reconnect" }, 0);
  }

  /** One request sent to a provider (counted in PostgreSQL too, for the quota). */
  providerRequest(provider: string): void {
    this.providerRequests.inc({ provider });
  }

  /** One result poll of a queued provider job (Turbotext get_result) and what the provider answered. */
  providerPoll(provider: string, answer: string): void {
    const known = ["reconnect", "done", "refused", "failed"].includes(answer);
    this.providerPolls.inc({ provider, answer: known ? answer : "other" });
  }

  /** A provider call about to be repeated; `reason` is a bounded code such as http_503 or no_image. */
  providerRetry(provider: string, reason: string): void {
    this.providerRetries.inc({ provider, reason: /^[a-z0-9_]{1,32}$/.test(reason) ? reason : "other" });
  }

  /** One booth request answered (refusals included); `seconds` only for accepted ones. */
  ingestAnswered(labels: IngestLabels, seconds: number | null): void {
    this.ingestRequests.inc(labels);
    if (seconds !== null) this.ingestDuration.observe({ outcome: labels.outcome }, seconds);
  }

  /** A job reached its final state in this process (JobQueue.onFinalized). */
  jobFinalized(job: JobRow): void {
    const outcome = jobOutcome(job);
    this.jobsFinished.inc({ source: job.source, outcome });
    if (job.providerLatencyMs !== null) {
      const fallback = job.fallbackUsed ? job.fallback : null;
      this.providerLatency.observe(
        {
          provider: fallback?.provider ?? job.provider,
          operation: fallback?.operation ?? job.operation,
          outcome,
        },
        job.providerLatencyMs / 1000,
      );
    }
    const code = providerErrorCode(job);
    if (code) this.providerErrors.inc({ provider: runningProvider(job), code });
    if (job.fallbackUsed && job.fallback) {
      this.fallbackJobs.inc({ slot: slotLabel(job.slotId), provider: job.fallback.provider, outcome });
    }
  }

  /** A finished (not dry) cleaner run. */
  cleanupFinished(report: CleanupTotals): void {
    this.cleanupRuns.inc({ result: "ok" });
    for (const kind of CLEANUP_KINDS) {
      this.cleanupRemoved.inc({ kind: CLEANUP_KIND_LABEL[kind] }, report[kind].count);
      this.cleanupRemovedBytes.inc({ kind: CLEANUP_KIND_LABEL[kind] }, report[kind].bytes);
    }
    this.cleanupRemoved.inc({ kind: "stale_jobs" }, report.staleJobs);
    this.cleanupRemoved.inc({ kind: "auth_failures" }, report.authFailures);
  }

  cleanupFailed(): void {
    this.cleanupRuns.inc({ result: "error" });
  }

  setGauges(s: GaugeSnapshot): void {
    this.queueDepth.set({ status: "pending" }, s.queue.pending);
    this.queueDepth.set({ status: "processing" }, s.queue.processing);
    this.jobsInFlight.set(s.inFlight);
    for (const [kind, bytes] of Object.entries(s.mediaBytes)) this.mediaBytes.set({ kind }, bytes);
    this.diskFree.set(s.disk.free);
    this.diskTotal.set(s.disk.total);
    this.lastCleanup.set(s.lastCleanupAt ? s.lastCleanupAt.getTime() / 1000 : 0);
    this.syncResponse.set(s.syncResponseSeconds);
    this.dbStatements.inc(Math.max(0, s.db.statements - this.dbSeen.statements));
    this.dbTransactions.inc(Math.max(0, s.db.transactions - this.dbSeen.transactions));
    this.dbSeen = {
      statements: Math.max(this.dbSeen.statements, s.db.statements),
      transactions: Math.max(this.dbSeen.transactions, s.db.transactions),
    };
    for (const q of s.quotas) {
      if (q.usedRatio === null) this.quotaUsed.remove({ provider: q.provider });
      else this.quotaUsed.set({ provider: q.provider }, q.usedRatio);
    }
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  render(): Promise<string> {
    return this.registry.metrics();
  }
}
