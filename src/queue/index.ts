/**
 * The job lifecycle over the queue SQL: enqueue, claim, heartbeat, fenced finalization, expiry,
 * cancel and crash recovery — each step logged to `processing_log`, and every finalization
 * followed by the same clean-up (payload and temporary media deleted) and an in-process wake-up.
 */
import type { FailureReason, JobRow, NewJobRow } from "../db/schema";
import { resultExpiresAt } from "../domain/deadlines";
import type { Clock } from "../lib/clock";
import type { Logger } from "../lib/log";
import type { MediaObjects } from "../media/objects";
import type { MediaStore } from "../media/storage";
import type { InsertOutcome, ResultColumns } from "../store/index";
import type { JobStore } from "../store/job-store";
import type { JobEvents } from "./events";

export type FinalizedHook = (job: JobRow) => void;

/** A lease (or a waiting instance) silent this long is considered dead. */
export const LEASE_TTL_MS = 15_000;
/** Active jobs this far past their deadline are finalized by the sweeper even if a waiter exists. */
export const OVERDUE_GRACE_MS = 3_000;

export class JobQueue {
  private readonly hooks: FinalizedHook[] = [];

  constructor(
    private readonly jobs: JobStore,
    private readonly clock: Clock,
    private readonly media: MediaStore,
    private readonly objects: MediaObjects,
    private readonly events: JobEvents,
    private readonly log: Logger,
  ) {}

  /** Called once per job when it reaches a final state in this process (metrics, etc.). */
  onFinalized(hook: FinalizedHook): void {
    this.hooks.push(hook);
  }

  async enqueue(values: NewJobRow, cap: number): Promise<InsertOutcome> {
    const outcome = await this.jobs.insertWithinCap(values, cap);
    if (outcome.kind === "inserted") {
      const j = outcome.job;
      await this.step(j, "received", {
        source: j.source,
        provider: j.provider,
        operation: j.operation,
        payload_bytes: j.payloadSize,
        payload_mime: j.payloadMime,
        expires_at: j.expiresAt.toISOString(),
      });
      this.events.emitQueued();
    }
    return outcome;
  }

  claim(owner: string, skipProviders: string[] = []): Promise<JobRow | null> {
    return this.jobs.claim(owner, this.clock.now(), skipProviders);
  }

  heartbeat(job: JobRow): Promise<boolean> {
    return this.jobs.heartbeat(job.id, job.leaseToken!, this.clock.now());
  }

  get(id: string): Promise<JobRow | null> {
    return this.jobs.get(id);
  }

  async succeed(job: JobRow, result: Omit<ResultColumns, "resultExpiresAt">, retentionHours: number) {
    const now = this.clock.now();
    return this.finalize(
      job.id,
      () =>
        this.jobs.finalizeSucceeded(job.id, job.leaseToken!, now, {
          ...result,
          resultExpiresAt: resultExpiresAt(now, retentionHours),
        }),
      "succeeded",
      (row) => ({ result_bytes: row.resultSize, result_mime: row.resultMime }),
    );
  }

  async fail(job: JobRow, reason: FailureReason, message: string, providerLatencyMs: number | null) {
    return this.finalize(
      job.id,
      () =>
        this.jobs.finalizeFailed(
          job.id,
          job.leaseToken!,
          this.clock.now(),
          reason,
          message,
          providerLatencyMs,
        ),
      reason === "timeout" ? "timeout" : "failed",
      () => ({ failure_reason: reason, error: message }),
    );
  }

  /** Ends the job as `timeout` if its deadline has passed and it is still active. */
  async expire(id: string): Promise<JobRow | null> {
    return this.finalize(
      id,
      () => this.jobs.expire(id, this.clock.now()),
      "timeout",
      () => ({
        failure_reason: "timeout",
      }),
    );
  }

  async cancel(id: string, by: string): Promise<JobRow | null> {
    return this.finalize(
      id,
      () => this.jobs.cancel(id, this.clock.now(), by),
      "cancelled",
      () => ({
        failure_reason: "cancelled",
        by,
      }),
    );
  }

  /** One fenced finalizing statement, then the clean-up and the wake-up (see JobEvents.finalizing). */
  private async finalize(
    id: string,
    statement: () => Promise<JobRow | null>,
    event: string,
    details: (row: JobRow) => Record<string, unknown>,
  ): Promise<JobRow | null> {
    const done = this.events.finalizing(id);
    try {
      const row = await statement();
      if (row) await this.finished(row, event, details(row));
      return row;
    } finally {
      done();
    }
  }

  /** Resolves jobs orphaned by a crashed or stopped process. */
  async recover(leaseTtlMs: number, graceMs: number): Promise<JobRow[]> {
    const rows = await this.jobs.recover(this.clock.now(), leaseTtlMs, graceMs);
    for (const row of rows) {
      await this.finished(row, row.status === "timeout" ? "timeout" : "failed", {
        failure_reason: row.failureReason,
        recovered: true,
      });
    }
    if (rows.length) this.log.warn("queue.recovered", { count: rows.length, jobs: rows.map((r) => r.id) });
    return rows;
  }

  recordThumbnail(id: string, path: string): Promise<boolean> {
    return this.jobs.recordThumbnail(id, path);
  }

  setProviderRef(job: JobRow, ref: string): Promise<void> {
    return this.jobs.setProviderRef(job.id, job.leaseToken!, ref);
  }

  counts() {
    return this.jobs.countActive();
  }

  async step(
    job: Pick<JobRow, "id" | "slotId">,
    event: string,
    details: Record<string, unknown> = {},
    providerLatencyMs: number | null = null,
  ): Promise<void> {
    await this.jobs.appendLog({
      jobId: job.id,
      slotId: job.slotId,
      event,
      at: this.clock.now(),
      providerLatencyMs,
      details,
    });
  }

  private async finished(row: JobRow, event: string, details: Record<string, unknown>): Promise<void> {
    const totalMs = row.finalizedAt!.getTime() - row.createdAt.getTime();
    await this.step(row, event, { ...details, total_ms: totalMs }, row.providerLatencyMs);
    await this.media.remove(row.payloadPath);
    if (row.payloadPath) await this.jobs.clearPayload(row.id);
    await this.objects.removeForJob(row.id, this.clock.now());
    this.log.info(`job.${event}`, {
      job_id: row.id,
      slot: row.slotId,
      provider: row.provider,
      failure_reason: row.failureReason,
      total_ms: totalMs,
      provider_latency_ms: row.providerLatencyMs,
    });
    this.events.emitFinalized(row.id);
    for (const hook of this.hooks) {
      try {
        hook(row);
      } catch (err) {
        this.log.error("queue.hook_failed", { job_id: row.id, slot: row.slotId, error: err });
      }
    }
  }
}
