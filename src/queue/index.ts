/**
 * The job lifecycle over the queue SQL: enqueue, claim, heartbeat, fenced finalization, expiry,
 * cancel and crash recovery. Each finalization is one statement (state, log rows, payload and
 * temporary media let go — see store/queue/finalize.ts finalizeWith); after its commit the released files are
 * removed, and only then are the waiters woken, so whoever sees a final job sees it clean.
 */
import { randomUUID } from "node:crypto";
import type { FailureReason, JobRow, NewJobRow } from "../db/schema";
import { resultExpiresAt } from "../domain/deadlines";
import { currentRun } from "../domain/fallback";
import { type Clock, sleep, sleepWithin } from "../lib/clock";
import { isDatabaseUnavailable, retryOnLostConnection } from "../lib/http";
import type { Logger } from "../lib/log";
import type { MediaObjects } from "../media/objects";
import type { MediaStore } from "../media/storage";
import type { ClaimRoom, FinalizedJob, InsertOutcome, LogEntry, ResultColumns } from "../store/index";
import type { JobStore } from "../store/job-store";
import type { JobEvents } from "./events";

export type FinalizedHook = (job: JobRow) => void;

/** A lease silent this long belongs to a dead worker (on another host; see markDeadOnHost). */
export const LEASE_TTL_MS = 15_000;
/** Active jobs this far past their deadline are finalized by the sweeper even if a waiter exists. */
export const OVERDUE_GRACE_MS = 3_000;
/** Crash leftovers (files no job accounts for, missing log rows) are reclaimed once this old. */
export const LEFTOVER_AGE_MS = 120_000;

/** First pause before retrying a write the database refused for being unreachable; doubles up to the max. */
const RETRY_FIRST_MS = 100;
const RETRY_MAX_MS = 2_000;
/**
 * The files a finalization released are removed before its waiters are woken, but a bucket that
 * does not answer may hold them this long at most: what is left is reclaimed by reclaimLeftovers.
 */
const RELEASE_CLEANUP_MS = 1_000;
/** A step-log row is retried this long at most: the log is a record, never a reason to hold work. */
const LOG_RETRY_MS = 10_000;

export class JobQueue {
  private readonly hooks: FinalizedHook[] = [];

  constructor(
    private readonly jobs: JobStore,
    private readonly clock: Clock,
    private readonly media: MediaStore,
    private readonly objects: MediaObjects,
    private readonly events: JobEvents,
    private readonly log: Logger,
    /** A processing row whose heartbeat is older than this is dead (see insertJobWithinCap). */
    private readonly leaseTtlMs = LEASE_TTL_MS,
  ) {}

  /** Called once per job when it reaches a final state in this process (metrics, etc.). */
  onFinalized(hook: FinalizedHook): void {
    this.hooks.push(hook);
  }

  /**
   * Inserts a booth's job within the in-flight cap. When this process has an idle worker loop with
   * room for the job's provider, the job is inserted already leased to it — the claim is part of the
   * insert: no claim statement, no NOTIFY, no wake-up — and that loop runs it; otherwise it is
   * queued `pending` and hinted. `also`: log rows written after `received` in the same statement
   * (e.g. `fallback` at ingest).
   */
  async enqueue(
    values: NewJobRow,
    cap: number,
    also: Omit<LogEntry, "jobId" | "slotId" | "at">[] = [],
  ): Promise<InsertOutcome> {
    const loop = await this.events.reserveLoop(currentRun(values).provider);
    try {
      const outcome = await this.insert(values, cap, also, loop?.owner ?? null);
      if (outcome.kind === "inserted" && loop) loop.take(outcome.job);
      else loop?.cancel();
      if (outcome.kind === "inserted") this.events.emitEnqueued(outcome.job);
      return outcome;
    } catch (err) {
      loop?.cancel();
      throw err;
    }
  }

  /** The insert of `enqueue`: `pending`, or leased to `owner` (a loop of this process) when given. */
  private async insert(
    values: NewJobRow,
    cap: number,
    also: Omit<LogEntry, "jobId" | "slotId" | "at">[],
    owner: string | null,
  ): Promise<InsertOutcome> {
    const liveSince = new Date(this.clock.now().getTime() - this.leaseTtlMs);
    const now = this.clock.now();
    const more = also.map((e) => ({ ...e, jobId: values.id as string, slotId: values.slotId, at: now }));
    // The "received" row is written in the same transaction as the job (one commit, not two).
    const received: LogEntry = {
      jobId: values.id as string,
      slotId: values.slotId,
      event: "received",
      // The same instant as the job's other first rows: a later reading of the clock could put
      // "received" after the leased job's "dispatched" in the timeline.
      at: now,
      details: {
        source: values.source,
        provider: values.provider,
        operation: values.operation,
        payload_bytes: values.payloadSize ?? null,
        payload_mime: values.payloadMime ?? null,
        expires_at: values.expiresAt.toISOString(),
        ...(values.rerunOf ? { rerun_of: values.rerunOf } : {}),
      },
    };
    const rows = [received, ...more];
    let row = values;
    if (owner) {
      // Leased as a claim leases (claimJobs): the same columns and `dispatched` row, no wait.
      const runsOn = currentRun(values);
      row = {
        ...values,
        status: "processing",
        startedAt: values.createdAt ?? now,
        attempts: 1,
        leaseOwner: owner,
        leaseToken: randomUUID(),
        heartbeatAt: now,
      };
      rows.push({
        jobId: values.id as string,
        slotId: values.slotId,
        event: "dispatched",
        at: now,
        details: {
          owner,
          provider: runsOn.provider,
          operation: runsOn.operation,
          attempt: 1,
          queue_wait_ms: 0,
        },
      });
    }
    const insert = () => this.jobs.insertJobWithinCap(row, cap, liveSince, rows);
    // A connection that closed under the insert (a pooled one that died while idle): again on a
    // fresh one — unless the attempt did commit, in which case its row is there under the same id.
    // A leased job is announced to no one (its loop has it), so there is no echo to expect.
    const notQueued = owner ? () => {} : this.events.queuingHere(values.id as string);
    let outcome: Awaited<ReturnType<typeof insert>>;
    try {
      outcome = await retryOnLostConnection(insert, async () => {
        const committed = await this.jobs.getJob(values.id as string);
        return committed ? ({ kind: "inserted", job: committed } as const) : undefined;
      });
    } catch (err) {
      notQueued();
      throw err;
    }
    if (outcome.kind === "inserted" && !owner) this.events.emitQueued();
    else notQueued();
    return outcome;
  }

  /**
   * Up to `owners.length` jobs in one statement, the i-th leased to `owners[i]`, within `room`
   * (see claimJobs); `locked` is how many pending rows it saw (fewer than asked: the queue is empty
   * for the providers with room).
   */
  claimBatch(
    owners: readonly string[],
    room: ClaimRoom,
    onlyInstance: string | null = null,
  ): Promise<{ jobs: JobRow[]; locked: number }> {
    return this.jobs.claimJobs(owners, this.clock.now(), room, onlyInstance);
  }

  /** `onlyInstance`: claim only jobs whose booth waits on that instance (a draining process). */
  claim(
    owner: string,
    skipProviders: string[] = [],
    onlyInstance: string | null = null,
  ): Promise<JobRow | null> {
    return this.jobs.claimNextJob(owner, this.clock.now(), skipProviders, onlyInstance);
  }

  heartbeat(job: JobRow): Promise<boolean> {
    return this.jobs.heartbeat(job.id, job.leaseToken!, this.clock.now());
  }

  /** Extends the leases of `jobs` in one statement; returns the ids still ours. */
  heartbeatMany(jobs: readonly JobRow[]): Promise<Set<string>> {
    return this.jobs.heartbeatMany(
      jobs.map((j) => ({ id: j.id, token: j.leaseToken! })),
      this.clock.now(),
    );
  }

  get(id: string): Promise<JobRow | null> {
    return this.jobs.getJob(id);
  }

  /**
   * Fenced success, retried through database outages until the job's deadline: a paid result that
   * arrived while the database was down is stored when it returns in time. When a retry finds the
   * fence closed, the job is re-read: if an earlier attempt of this call committed (its answer was
   * lost with the connection), that row is the outcome. `before`: step rows written with it.
   */
  async succeed(
    job: JobRow,
    result: Omit<ResultColumns, "resultExpiresAt">,
    retentionHours: number,
    before: LogEntry[] = [],
  ): Promise<JobRow | null> {
    return this.closing(job.id, async () => {
      let retried = false;
      const done = await this.untilDeadline(
        job,
        "finalize",
        () => {
          const now = this.clock.now();
          return this.jobs.finalizeSucceeded(
            job.id,
            job.leaseToken!,
            now,
            { ...result, resultExpiresAt: resultExpiresAt(now, retentionHours) },
            { details: { result_bytes: result.resultSize, result_mime: result.resultMime }, before },
          );
        },
        () => {
          retried = true;
        },
      );
      if (done) return this.finished(done);
      if (!retried) return null;
      const current = await this.untilDeadline(job, "finalize", () => this.jobs.getJob(job.id));
      if (current?.status !== "succeeded" || current.resultPath !== result.resultPath) return null;
      // Committed by the attempt whose answer was lost: its clean-up and wake-up are still owed.
      return this.finished({ row: current, releasedPaths: job.payloadPath ? [job.payloadPath] : [] });
    });
  }

  async fail(
    job: JobRow,
    reason: FailureReason,
    message: string,
    providerLatencyMs: number | null,
    before: LogEntry[] = [],
  ): Promise<JobRow | null> {
    return this.closing(job.id, async () => {
      const done = await this.untilDeadline(job, "finalize", () =>
        this.jobs.finalizeFailed(
          job.id,
          job.leaseToken!,
          this.clock.now(),
          reason,
          message,
          providerLatencyMs,
          {
            details: { error: message },
            before,
          },
        ),
      );
      return done ? this.finished(done) : null;
    });
  }

  /**
   * The lease holder gives its job up (shutdown, database trouble): back to `pending` while there
   * are attempts and time left, else resolved as `interrupted`/`timeout`. Fenced; retried through a
   * database blip until the deadline. Null if the job was no longer ours.
   */
  async release(job: JobRow, message: string): Promise<JobRow | null> {
    return this.closing(job.id, async () => {
      const done = await this.untilDeadline(job, "release", () =>
        this.jobs.releaseJob(job.id, job.leaseToken!, this.clock.now(), message),
      );
      return done ? this.finished(done) : null;
    });
  }

  /**
   * Runs a write, retrying with backoff while the database is unreachable, until the job's deadline
   * passes (then the last error is thrown; the sweeper resolves the job once the database is back).
   */
  private async untilDeadline<T>(
    job: Pick<JobRow, "id" | "slotId" | "expiresAt">,
    what: string,
    fn: () => Promise<T>,
    onRetry?: () => void,
  ): Promise<T> {
    let pause = RETRY_FIRST_MS;
    for (let attempt = 1; ; attempt++) {
      try {
        return await fn();
      } catch (err) {
        const left = job.expiresAt.getTime() - this.clock.now().getTime();
        if (!isDatabaseUnavailable(err) || left <= 0) throw err;
        if (attempt === 1)
          this.log.warn(`queue.${what}_retrying`, { job_id: job.id, slot: job.slotId, error: err });
        onRetry?.();
        await sleepWithin(this.clock, pause, job.expiresAt);
        pause = Math.min(pause * 2, RETRY_MAX_MS);
      }
    }
  }

  /** Ends the job as `timeout` if its deadline has passed and it is still active. */
  expire(id: string): Promise<JobRow | null> {
    return this.closing(id, async () => {
      const done = await this.jobs.expireJob(id, this.clock.now());
      return done ? this.finished(done) : null;
    });
  }

  cancel(id: string, by: string): Promise<JobRow | null> {
    return this.closing(id, async () => {
      const done = await this.jobs.cancelJob(id, this.clock.now(), by);
      return done ? this.finished(done) : null;
    });
  }

  /**
   * Runs a finalization of `id` marked as in progress here, so the NOTIFY echo of our own commit
   * does not wake its waiter before the files are removed (see JobEvents.emitRemoteFinalized).
   */
  private async closing<T>(id: string, fn: () => Promise<T>): Promise<T> {
    const done = this.events.finalizing(id);
    try {
      return await fn();
    } finally {
      done();
    }
  }

  /**
   * Resolves work orphaned by crashed or stopped processes (see recoverOrphans): re-queued jobs are
   * picked up by the workers, the others finalized. `lapsedBefore` null: leases are not judged by
   * their heartbeat this time (after our own database outage, every heartbeat looks old).
   */
  async recover(me: string, lapsedBefore: Date | null, graceMs: number): Promise<JobRow[]> {
    const done = await this.jobs.recoverOrphans(this.clock.now(), me, lapsedBefore, graceMs);
    const rows = [];
    for (const d of done) rows.push(await this.finished(d));
    const unattended = await this.jobs.markUnattended();
    if (unattended) this.log.info("queue.unattended", { count: unattended });
    if (rows.length) {
      this.log.warn("queue.recovered", {
        count: rows.length,
        requeued: rows.filter((r) => r.status === "pending").length,
        jobs: rows.map((r) => r.id),
      });
    }
    return rows;
  }

  /**
   * Files a crash left behind: between a finalization's commit and the removal of what it released
   * (payloads, temporary media whose rows it marked deleted), a payload stored just before its row
   * was to be inserted, or a result written by an attempt that never finalized. Only files older
   * than `minAgeMs` are judged (an upload is stored just before its row is inserted); a file is
   * removed when no active job, kept result or photo kept for a re-run accounts for it. Idempotent, so several instances
   * may run it. (The rows themselves cannot be half-finished: see store/queue/finalize.ts finalizeWith.)
   */
  async reclaimLeftovers(minAgeMs: number): Promise<{ files: number }> {
    let files = 0;
    const cutoff = Date.now() - minAgeMs;
    const liveObjects = await this.objects.livePaths();
    for (const f of await this.media.list("media")) {
      if (f.mtimeMs >= cutoff || liveObjects.has(f.path)) continue;
      await this.media.remove(f.path);
      files++;
    }
    const old = [...(await this.media.list("payloads")), ...(await this.media.list("results"))].filter(
      (f) => f.mtimeMs < cutoff,
    );
    const idOf = (path: string) => /([0-9a-f-]{36})[^/]*$/.exec(path)?.[1] ?? null;
    const states = await this.jobs.jobStates([
      ...new Set(old.map((f) => idOf(f.path)).filter((x): x is string => !!x)),
    ]);
    const referenced = await this.jobs.referencedFiles([...states.keys()]);
    for (const f of old) {
      const id = idOf(f.path);
      const state = id ? states.get(id) : undefined;
      if (state === "pending" || state === "processing") continue;
      if (referenced.has(f.path)) continue;
      await this.media.remove(f.path);
      files++;
    }
    if (files) this.log.info("queue.leftovers_reclaimed", { files });
    return { files };
  }

  /**
   * The lease holder moves its job to the fallback (fenced; writes the `fallback` log row). False
   * when the job is no longer ours.
   */
  switchToFallback(job: JobRow, details: Record<string, unknown>): Promise<boolean> {
    return this.jobs.switchToFallback(job.id, job.leaseToken!, this.clock.now(), details);
  }

  /**
   * Deletes a finished job's files at the studio's request (see store deleteJob): the row is marked
   * in one statement, then the files it let go of are removed (what a failure leaves, the cleaner
   * removes). Null when the job is active, already deleted or unknown.
   */
  async delete(id: string, by: string): Promise<JobRow | null> {
    const done = await this.jobs.deleteJob(id, this.clock.now(), by);
    if (!done) return null;
    try {
      await Promise.all(done.releasedPaths.map((p) => this.media.remove(p)));
    } catch (err) {
      this.log.warn("queue.cleanup_deferred", { job_id: id, slot: done.row.slotId, error: err });
    }
    this.log.info("job.deleted", { job_id: id, slot: done.row.slotId, by, files: done.releasedPaths.length });
    return done.row;
  }

  /** The jobs that re-ran `id`, oldest first. */
  rerunsOf(id: string): Promise<{ id: string; status: string }[]> {
    return this.jobs.rerunsOf(id);
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

  /**
   * Appends a step-log row. Never throws: a row the database refuses while it is unreachable is
   * retried for a while and then dropped with a warning — the log never fails or holds up a job.
   */
  async step(
    job: Pick<JobRow, "id" | "slotId">,
    event: string,
    details: Record<string, unknown> = {},
    providerLatencyMs: number | null = null,
  ): Promise<void> {
    const entry = {
      jobId: job.id,
      slotId: job.slotId,
      event,
      at: this.clock.now(),
      providerLatencyMs,
      details,
    };
    const giveUp = Date.now() + LOG_RETRY_MS;
    let pause = RETRY_FIRST_MS;
    for (;;) {
      try {
        await this.jobs.appendLog(entry);
        return;
      } catch (err) {
        if (!isDatabaseUnavailable(err) || Date.now() + pause > giveUp) {
          this.log.warn("queue.log_write_failed", { job_id: job.id, slot: job.slotId, event, error: err });
          return;
        }
        await sleep(pause);
        pause = Math.min(pause * 2, RETRY_MAX_MS);
      }
    }
  }

  /**
   * After a finalizing statement committed: the files it released are removed (idempotent; what a
   * failure leaves is reclaimed by `reclaimLeftovers`), then the log line, the wake-up — a re-queued
   * job wakes the workers, a final one its waiters — and the hooks. The wake-up always happens.
   */
  private async finished({ row, releasedPaths }: FinalizedJob): Promise<JobRow> {
    if (row.status === "pending") {
      this.log.info("job.requeued", { job_id: row.id, slot: row.slotId, attempts: row.attempts });
      this.events.emitQueued();
      return row;
    }
    try {
      const until = Date.now() + RELEASE_CLEANUP_MS;
      await Promise.all(releasedPaths.map((p) => this.media.remove(p, { until })));
    } catch (err) {
      this.log.warn("queue.cleanup_deferred", { job_id: row.id, slot: row.slotId, error: err });
    }
    const totalMs = row.finalizedAt!.getTime() - row.createdAt.getTime();
    this.log.info(`job.${row.status}`, {
      job_id: row.id,
      slot: row.slotId,
      provider: row.provider,
      failure_reason: row.failureReason,
      total_ms: totalMs,
      provider_latency_ms: row.providerLatencyMs,
    });
    this.events.emitFinalized(row.id, row);
    for (const hook of this.hooks) {
      try {
        hook(row);
      } catch (err) {
        this.log.error("queue.hook_failed", { job_id: row.id, slot: row.slotId, error: err });
      }
    }
    return row;
  }
}
