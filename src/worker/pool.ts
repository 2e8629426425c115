/**
 * Worker loops: claim → provider → store result → fenced finalize. Each call gets an AbortSignal
 * that fires at the job's deadline (or on cancel, or when the lease is lost), and a heartbeat keeps
 * the lease alive while the provider works. A result that arrives too late is discarded.
 */
import { createHash } from "node:crypto";
import type { JobRow } from "../db/schema";
import { type FallbackConfig, fallsBack, primaryDeadline, timeForFallback } from "../domain/fallback";
import { fillPromptSettings, promptPlaceholders } from "../domain/prompt-fields";
import type { OutputFormat } from "../domain/slots";
import { type Clock, sleep, wallClockAt } from "../lib/clock";
import { isDatabaseUnavailable } from "../lib/http";
import type { Logger } from "../lib/log";
import { downscale, EXT, formatFromMime, ImageUnreadable, sniffImage, toOutputFormat } from "../media/images";
import type { MediaObjects } from "../media/objects";
import { isSpoolKey, SpoolFull } from "../media/spool";
import { isDiskFull, isStorageUnavailable, type MediaStore } from "../media/storage";
import type { Metrics } from "../metrics";
import type { ProviderRegistry } from "../providers/catalogue";
import {
  type ProviderContext,
  ProviderFailure,
  type ProviderId,
  type ProviderImage,
} from "../providers/types";
import type { JobEvents } from "../queue/events";
import { type JobQueue, OVERDUE_GRACE_MS } from "../queue/index";
import type { QuotaService } from "../quota/service";
import type { SettingsService } from "../settings/service";
import type { LogEntry } from "../store/index";

export interface WorkerDeps {
  queue: JobQueue;
  events: JobEvents;
  clock: Clock;
  log: Logger;
  media: MediaStore;
  objects: MediaObjects;
  providers: ProviderRegistry;
  settings: SettingsService;
  quota: QuotaService;
  metrics: Metrics;
  instanceId: string;
  /** PUBLIC_BASE_URL from settings or config, for providers that fetch inputs by URL. */
  publicBaseUrl(): Promise<string | null>;
}

export const HEARTBEAT_MS = 3000;
const IDLE_POLL_MS = 1000;
/** How long an empty claim answers for the other loops of this process (no new hint since). */
const EMPTY_CLAIM_REUSE_MS = 200;
/**
 * Claims one process may have in flight at once. One at a time caps a process at one claim per
 * database round trip (≈200/s on a loaded machine); a few at once keep up with a burst.
 */
const PARALLEL_CLAIMS = 4;
/**
 * Network provider calls one process runs at once, whatever WORKER_COUNT and the concurrency
 * settings allow (a provider that needs an API key is an HTTP service; `local` makes no call):
 * Bun's fetch sends at most this many requests at a time per process
 * (BUN_CONFIG_MAX_HTTP_REQUESTS, default 256); more would only wait in its queue, each holding a
 * built request body (for Gemini ≈ 4 × the photo).
 */
const MAX_PROVIDER_CALLS = Number(process.env.BUN_CONFIG_MAX_HTTP_REQUESTS) || 256;
const DEFAULT_MAX_INPUT_SIDE = 2048;
/**
 * A result the bucket has not taken this long after the provider answered goes to the local spool
 * (src/media/spool.ts): a blip is ridden out, an outage does not hold the booth. Always this long
 * before the deadline at the latest, so the job can still be finalized (and the booth answered).
 */
const RESULT_UPLOAD_PATIENCE_MS = 5_000;
const RESULT_SPOOL_MARGIN_MS = 1_500;

/** A claim came back empty only because other claims in flight narrowed the providers it could take. */
const NARROWED = Symbol("narrowed");

/**
 * Providers a claim must skip: those whose running jobs, plus the other claims in flight (each may
 * bring back one of theirs), reach their concurrency limit.
 */
function saturated(limits: Record<string, number>, running: Map<string, number>, inFlight: number): string[] {
  return Object.entries(limits)
    .filter(([id, limit]) => (running.get(id) ?? 0) + inFlight >= limit)
    .map(([id]) => id);
}

class DeadlineReached extends Error {
  constructor() {
    super("deadline reached");
  }
}
/** The process is stopping and its grace ran out: the job goes back to the queue (fenced). */
class ShuttingDown extends Error {
  constructor() {
    super("The server stopped while the job was running");
  }
}
/** The media disk is full: the result cannot be stored. */
class StorageFull extends Error {
  constructor(cause: unknown) {
    super(`The media disk is full; the result could not be stored (${messageOf(cause)})`);
  }
}
/** The primary provider's share of the deadline is used up: the job goes to its fallback. */
class ShareUsedUp extends Error {
  constructor() {
    super("The primary provider did not answer within its share of the deadline");
  }
}
class LeaseLost extends Error {
  constructor() {
    super("job ended elsewhere (cancelled, expired or reclaimed)");
  }
}

export class WorkerPool {
  /** Aborted when the pool stops claiming. */
  private readonly stopping = new AbortController();
  /** Aborted when the stop's grace ends: provider calls still running are given up. */
  private readonly abandoning = new AbortController();
  /** Set while draining: claim only jobs whose booth waits on this instance. */
  private drainingFor: string | null = null;
  private loops: Promise<void>[] = [];
  private readonly running = new Map<string, number>();
  /** Claims sent and not yet answered, and the loops waiting for a free place to send theirs. */
  private claimsInFlight = 0;
  private readonly claimQueue: (() => void)[] = [];
  private readonly claimsDone: (() => void)[] = [];
  /** The last claim that came back empty: the queued-hint count before it, and when. */
  private lastEmpty = { seq: -1, at: 0 };

  constructor(
    private readonly deps: WorkerDeps,
    private readonly count: number,
  ) {}

  start(): void {
    for (let i = 0; i < this.count; i++) this.loops.push(this.loop(`${this.deps.instanceId}/${i + 1}`));
  }

  /**
   * The instance is draining: from now on the loops claim only jobs whose booth request is held
   * by this instance (they must be answered before it exits); other work is left to other
   * instances or to the next start. Jobs already running continue.
   */
  drain(): void {
    this.drainingFor = this.deps.instanceId;
  }

  /**
   * Stops claiming and lets the provider calls in flight finish, for up to `graceMs` (each call is
   * bounded by its job's deadline anyway). Calls still running after that are abandoned and their
   * jobs released back to `pending` (fenced), so another instance or the next start re-runs them.
   */
  async stop(graceMs = 0): Promise<void> {
    this.stopping.abort();
    const loops = Promise.all(this.loops);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const grace = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, Math.max(0, graceMs));
    });
    await Promise.race([loops, grace]);
    clearTimeout(timer);
    this.abandoning.abort();
    await loops;
    this.loops = [];
  }

  get inFlight(): number {
    let n = 0;
    for (const v of this.running.values()) n += v;
    return n;
  }

  private async loop(owner: string): Promise<void> {
    const { log, events } = this.deps;
    while (!this.stopping.signal.aborted) {
      let job: JobRow | null = null;
      const seen = events.queuedSeq;
      try {
        job = await this.claimWithinLimits(owner);
      } catch (err) {
        if (isDatabaseUnavailable(err)) log.warn("worker.claim_failed", { owner, error: err });
        else log.error("worker.claim_failed", { owner, error: err });
        await sleep(IDLE_POLL_MS, this.stopping.signal);
        continue;
      }
      if (!job) {
        await events.nextQueued(IDLE_POLL_MS, this.stopping.signal, seen);
        continue;
      }
      // There may be more where this one came from: wake the next idle loop (it stops the chain
      // when its claim comes back empty).
      events.emitQueued();
      const runsOn = { provider: runsOnProvider(job) };
      try {
        await this.process(job, runsOn);
      } catch (err) {
        log.error("worker.job_crashed", { job_id: job.id, slot: job.slotId, error: err });
      } finally {
        this.running.set(runsOn.provider, (this.running.get(runsOn.provider) ?? 1) - 1);
        // A provider below its limit again may have jobs waiting that the last empty claim skipped.
        this.lastEmpty.seq = -1;
      }
    }
  }

  /**
   * Claims a job whose provider is below its concurrency limit and counts it as running. Up to
   * PARALLEL_CLAIMS claims run at once; each may bring back a job of any provider, so a provider is
   * skipped when its running jobs plus the other claims in flight could reach its limit — the
   * limit is never overshot, however the claims come back.
   */
  private async claimWithinLimits(owner: string): Promise<JobRow | null> {
    const first = await this.claimOnce(owner);
    if (first !== NARROWED) return first;
    // Nothing for the providers left open to it while other claims were in flight: once they are
    // answered, the full picture may allow one (a provider just under its limit). Asked once more.
    while (this.claimsInFlight > 0) await new Promise<void>((resolve) => this.claimsDone.push(resolve));
    const second = await this.claimOnce(owner);
    return second === NARROWED ? null : second;
  }

  /** The providers whose calls go through fetch (network services: those that need an API key). */
  private fetchProviders(): string[] {
    return this.deps.providers
      .list()
      .filter((p) => p.spec.needsApiKey)
      .map((p) => p.spec.id);
  }

  /** Jobs of this process running on a network provider now. */
  private fetchCalls(): number {
    let n = 0;
    for (const id of this.fetchProviders()) n += this.running.get(id) ?? 0;
    return n;
  }

  private async claimOnce(owner: string): Promise<JobRow | null | typeof NARROWED> {
    while (this.claimsInFlight >= PARALLEL_CLAIMS) {
      await new Promise<void>((resolve) => this.claimQueue.push(resolve));
    }
    this.claimsInFlight++;
    try {
      const seq = this.deps.events.queuedSeq;
      // Another loop found nothing to claim a moment ago and no job was announced (or capacity
      // freed) since: asking again would only repeat its answer. With hundreds of idle loops
      // woken by one hint, this keeps it to a few claims instead of hundreds.
      if (this.lastEmpty.seq === seq && performance.now() - this.lastEmpty.at < EMPTY_CLAIM_REUSE_MS) {
        return null;
      }
      const others = this.claimsInFlight - 1;
      const limits = (await this.deps.settings.current()).providerConcurrency;
      const skip = saturated(limits, this.running, others);
      // At the process's limit of network calls: their jobs wait in the queue (where they cost
      // nothing) rather than in fetch's (holding their request bodies); the loop that finishes a
      // call claims the next one. Providers that make no HTTP call (local) are not held back:
      // WORKER_COUNT alone sizes what they run at once.
      if (this.fetchCalls() + others >= MAX_PROVIDER_CALLS) skip.push(...this.fetchProviders());
      const job = await this.deps.queue.claim(owner, skip, this.drainingFor);
      if (job) {
        const provider = runsOnProvider(job);
        this.running.set(provider, (this.running.get(provider) ?? 0) + 1);
        return job;
      }
      // An empty answer speaks for the others only when no other claim narrowed what it could take.
      if (skip.length === saturated(limits, this.running, 0).length) {
        this.lastEmpty = { seq, at: performance.now() };
        return null;
      }
      return NARROWED;
    } finally {
      this.claimsInFlight--;
      this.claimQueue.shift()?.();
      if (this.claimsInFlight === 0) for (const resolve of this.claimsDone.splice(0)) resolve();
    }
  }

  private async process(job: JobRow, runsOn: { provider: string }): Promise<void> {
    const { queue, clock, events } = this.deps;
    const log = this.deps.log.child({ job_id: job.id, slot: job.slotId });
    const abort = new AbortController();
    const untilDeadline = job.expiresAt.getTime() - clock.now().getTime();
    const cancelDeadline = clock.setTimer(untilDeadline, () => abort.abort(new DeadlineReached()));
    const offEnded = events.onEnded(job.id, () => abort.abort(new LeaseLost()));
    const onShutdown = () => abort.abort(new ShuttingDown());
    if (this.abandoning.signal.aborted) onShutdown();
    else this.abandoning.signal.addEventListener("abort", onShutdown, { once: true });
    // The heartbeat keeps the app clock's time: a timer re-armed each time it fires.
    const beat = (): void => {
      cancelBeat = clock.setTimer(HEARTBEAT_MS, beat, "worker.heartbeat");
      // A worker still here well past its job's deadline is stuck (its calls are bounded, so it
      // should not be): the lease lapses, and a sweeper resolves the job.
      if (clock.now().getTime() > job.expiresAt.getTime() + OVERDUE_GRACE_MS) return;
      queue.heartbeat(job).then(
        (ours) => {
          if (!ours) abort.abort(new LeaseLost());
        },
        // A database blip: the lease is kept by the next beat (sweepers spare a lease they could
        // not judge, see Runtime), and the fenced finalize decides in the end.
        (err) => log.warn("worker.heartbeat_failed", { error: err }),
      );
    };
    let cancelBeat = clock.setTimer(HEARTBEAT_MS, beat, "worker.heartbeat");

    // The `dispatched` log row was written by the claim itself.
    const queueWaitMs = job.startedAt!.getTime() - job.createdAt.getTime();
    log.info("job.dispatched", {
      provider: runsOn.provider,
      operation: job.fallbackUsed ? job.fallback?.operation : job.operation,
      queue_wait_ms: queueWaitMs,
    });

    const primary: Run = { provider: job.provider, operation: job.operation, settings: job.settings };
    const fallback: Run | null = job.fallback;
    let current: Run = job.fallbackUsed && fallback ? fallback : primary;
    const timing: Timing = { providerMs: null, started: null };
    /** The `provider_responded` row, written with the outcome (one statement). */
    let responded: LogEntry | null = null;
    try {
      let output: ProviderImage;
      if (current === primary && fallback) {
        const { fallbackMinSeconds } = await this.deps.settings.current();
        const share = primaryDeadline(job.expiresAt, true, fallbackMinSeconds);
        try {
          output = await this.runWithin(job, primary, share, abort.signal, timing, log);
        } catch (err) {
          const reason = fallbackReason(err, abort.signal);
          if (reason === null || !timeForFallback(clock.now(), job.expiresAt, fallbackMinSeconds)) throw err;
          if (err instanceof ProviderFailure && err.quotaExhausted)
            await this.markExhausted(primary, err, log);
          const details = {
            reason,
            error: err instanceof Error ? err.message : String(err),
            from_provider: primary.provider,
            from_operation: primary.operation,
            provider: fallback.provider,
            operation: fallback.operation,
            ...(timing.providerMs !== null ? { primary_ms: timing.providerMs } : {}),
          };
          if (!(await queue.switchToFallback(job, details))) throw new LeaseLost();
          log.warn("job.fallback", details);
          this.moveRunning(runsOn, fallback.provider);
          current = fallback;
          timing.providerMs = null;
          timing.started = null;
          output = await this.runWithin(job, fallback, job.expiresAt, abort.signal, timing, log);
        }
      } else {
        output = await this.runWithin(job, current, job.expiresAt, abort.signal, timing, log);
      }
      const providerMs = timing.providerMs!;
      log.info("job.provider_responded", {
        provider: current.provider,
        operation: current.operation,
        provider_latency_ms: providerMs,
        bytes: output.bytes.byteLength,
      });
      // Logged by the finalizing statement itself (or with the failure, if storing fails).
      responded = {
        jobId: job.id,
        slotId: job.slotId,
        event: "provider_responded",
        at: clock.now(),
        providerLatencyMs: providerMs,
        details: {
          bytes: output.bytes.byteLength,
          mime: output.mime,
          ...(current === primary ? {} : { provider: current.provider, fallback: true }),
        },
      };
      // The provider answered with an image: an "exhausted" it said earlier today no longer holds.
      // Cleared while the result is stored, so the booth is answered after its provider is back.
      const resumed = this.deps.quota
        .noteSuccess(current.provider, { by: "system", reason: "job_succeeded", jobId: job.id })
        .catch((err) => log.warn("provider.quota_resume_failed", { error: err }));
      const settings = await this.deps.settings.current();
      const stored = await this.storeResult(job, output);
      await resumed;
      const done = await queue.succeed(
        job,
        { ...stored, providerLatencyMs: providerMs, servedProvider: current.provider },
        settings.resultRetentionHours,
        [responded],
      );
      if (!done) {
        // The fence refused: the job ended meanwhile (deadline, cancel). Never serve a late result.
        // (A bucket that will not delete it now leaves a leftover the sweep reclaims.)
        await this.deps.media.remove(stored.resultPath).catch((err) => {
          log.warn("job.late_result_not_removed", { path: stored.resultPath, error: err });
        });
        // The provider made (and billed) the image all the same: the cost statistics count it.
        await queue.step(job, "late_result_discarded", {
          provider_latency_ms: providerMs,
          provider: current.provider,
        });
        log.warn("job.late_result_discarded", { provider_latency_ms: providerMs });
      }
    } catch (err) {
      // A provider that failed still took time: record how long until it gave up.
      if (timing.providerMs === null && timing.started !== null) {
        timing.providerMs = Math.round(performance.now() - timing.started);
      }
      await this.handleFailure(
        job,
        current,
        err,
        abort.signal,
        timing.providerMs,
        log,
        responded ? [responded] : [],
      );
    } finally {
      cancelDeadline();
      cancelBeat();
      offEnded();
      this.abandoning.signal.removeEventListener("abort", onShutdown);
    }
  }

  /** The job now runs on another provider: it counts against that one's concurrency limit. */
  private moveRunning(runsOn: { provider: string }, to: string): void {
    this.running.set(runsOn.provider, (this.running.get(runsOn.provider) ?? 1) - 1);
    this.running.set(to, (this.running.get(to) ?? 0) + 1);
    runsOn.provider = to;
  }

  /**
   * One provider call for the job, bounded by `until` (the primary's share of the deadline, or the
   * deadline itself) as well as by `signal` (deadline, cancel, lease lost, shutdown). A call cut at
   * its share rejects with ShareUsedUp. `timing` learns when the call started and how long it took.
   */
  private async runWithin(
    job: JobRow,
    run: Run,
    until: Date,
    signal: AbortSignal,
    timing: Timing,
    log: Logger,
  ): Promise<ProviderImage> {
    const { clock, queue } = this.deps;
    const share = new AbortController();
    const forward = () => share.abort(signal.reason);
    if (signal.aborted) forward();
    else signal.addEventListener("abort", forward, { once: true });
    const cancelShare =
      until.getTime() < job.expiresAt.getTime()
        ? clock.setTimer(until.getTime() - clock.now().getTime(), () => share.abort(new ShareUsedUp()))
        : () => {};
    try {
      const provider = this.deps.providers.get(run.provider);
      if (!provider) throw new ProviderFailure("invalid_config", `Unknown provider "${run.provider}"`);
      const checked = this.deps.providers.validate(run.provider, run.operation, run.settings);
      if (!checked.ok) {
        const msg = checked.errors.map((e) => `${e.field}: ${e.message}`).join("; ");
        throw new ProviderFailure("invalid_config", `Slot settings are not valid: ${msg}`);
      }
      // The booth's fields go into the prompt now, not at ingest: the job keeps the prompt as
      // written (its snapshot), the provider gets it filled (SPEC §11).
      const settings = fillPromptSettings(checked.settings, job.clientMeta ?? {});
      const op = this.deps.providers.operation(run.provider, run.operation);
      if (op?.prompt === "required" && typeof settings.prompt === "string" && !settings.prompt.trim()) {
        throw new ProviderFailure(
          "invalid_config",
          "The prompt is empty once the booth's fields are filled in: its placeholders name fields " +
            "this booth did not send",
          { placeholders: promptPlaceholders(String(checked.settings.prompt ?? "")) },
        );
      }
      const maxSide = Number(checked.settings.max_input_side ?? DEFAULT_MAX_INPUT_SIDE);
      const [apiKey, photo] = await Promise.all([
        provider.spec.needsApiKey ? this.deps.settings.providerKey(run.provider as ProviderId) : null,
        this.loadInput(job, provider.spec.downscaleInputs ? maxSide : null),
      ]);
      if (provider.spec.needsApiKey && !apiKey) {
        throw new ProviderFailure(
          "invalid_config",
          `No API key for ${provider.spec.label}: add it in Settings → Provider keys ` +
            `(or set ${run.provider.toUpperCase()}_API_KEY)`,
        );
      }
      const templates = [];
      // Inputs are read through a bucket outage while the deadline allows.
      const readUntil = wallClockAt(clock, job.expiresAt);
      for (const t of job.templates) {
        if (!(await this.deps.media.exists(t.path, { until: readUntil }))) {
          throw new ProviderFailure("invalid_config", `The slot's "${t.role}" template file is missing`);
        }
        const bytes = await this.deps.media.read(t.path, { until: readUntil });
        const image = provider.spec.downscaleInputs
          ? await downscale(bytes, maxSide)
          : toImage(bytes, t.mime);
        templates.push({ role: t.role, image });
      }

      const ctx: ProviderContext = {
        jobId: job.id,
        slotId: job.slotId,
        operation: run.operation,
        settings,
        photo,
        templates,
        signal: share.signal,
        deadline: until,
        clock,
        log: log.child({ provider: run.provider }),
        apiKey,
        step: (event, details) => {
          if (event === "retry") this.deps.metrics.providerRetry(run.provider, String(details?.reason ?? ""));
          if (event === "poll") this.deps.metrics.providerPoll(run.provider, String(details?.answer ?? ""));
          return queue.step(job, event, details);
        },
        publish: (image, label) => this.publish(job, image, label),
        setProviderRef: (ref) => queue.setProviderRef(job, ref),
        // A counter that cannot be written must not cost the guest their photo: log and go on.
        countRequest: () =>
          this.deps.quota.countRequest(run.provider).catch((err) => {
            log.warn("provider.request_not_counted", { provider: run.provider, error: err });
          }),
      };
      share.signal.throwIfAborted();
      timing.started = performance.now();
      const output = await raceAbort(provider.run(ctx), share.signal);
      timing.providerMs = Math.round(performance.now() - timing.started);
      return output;
    } finally {
      cancelShare();
      signal.removeEventListener("abort", forward);
    }
  }

  private async markExhausted(run: Run, err: ProviderFailure, log: Logger): Promise<void> {
    await this.deps.quota.markExhausted(run.provider, err.message).catch((e) => {
      log.error("provider.quota_mark_failed", { error: e });
    });
  }

  private async handleFailure(
    job: JobRow,
    /** The provider that ran last (the fallback's once the job went there). */
    run: Run,
    err: unknown,
    signal: AbortSignal,
    providerMs: number | null,
    log: Logger,
    /** Step rows not yet written (the provider's answer when storing it failed). */
    before: LogEntry[],
  ): Promise<void> {
    const { queue } = this.deps;
    const note = () =>
      Promise.all(before.map((e) => queue.step(job, e.event, e.details, e.providerLatencyMs)));
    if ((signal.aborted && signal.reason instanceof LeaseLost) || err instanceof LeaseLost) {
      await note();
      log.info("job.abandoned", { reason: "lease_lost" });
      return;
    }
    if (signal.aborted && signal.reason instanceof ShuttingDown) {
      await note();
      const row = await queue.release(job, signal.reason.message);
      log.warn("job.released", { reason: "shutdown", status: row?.status ?? "not_ours" });
      return;
    }
    if (err instanceof StorageFull) {
      log.error("job.storage_full", { error: err.message });
      await queue.fail(job, "storage_full", err.message, providerMs, before);
      return;
    }
    if (isDatabaseUnavailable(err)) {
      // The database went away before the work was done (a read the job needed): not the job's
      // fault, so it goes back to the queue — retried until the database returns or the deadline.
      await note();
      const row = await queue.release(job, "The database was unreachable while the job was running");
      log.warn("job.released", { reason: "database_unavailable", status: row?.status ?? "not_ours" });
      return;
    }
    if (isStorageUnavailable(err)) {
      // The bucket did not give the job's photo or templates (read through the outage until the
      // deadline): the same rule — back to the queue while there is time, else its timeout.
      await note();
      const row = await queue.release(job, "The media storage was unreachable while the job was running");
      log.warn("job.released", {
        reason: "media_unavailable",
        status: row?.status ?? "not_ours",
        error: err,
      });
      return;
    }
    if (
      (signal.aborted && signal.reason instanceof DeadlineReached) ||
      isTimeoutFailure(err) ||
      err instanceof ShareUsedUp
    ) {
      await note();
      if (!(await queue.expire(job.id))) {
        // Deadline not yet reached by the clock's reading (provider gave up early): it failed by timeout.
        const failed = await queue.fail(job, "timeout", messageOf(err), providerMs);
        // Neither: the waiter finalized it at the deadline already; say where the worker left it.
        if (!failed) log.info("job.abandoned", { reason: "deadline", provider_latency_ms: providerMs });
      }
      return;
    }
    if (err instanceof ProviderFailure) {
      if (err.quotaExhausted) await this.markExhausted(run, err, log);
      const failed: LogEntry = {
        jobId: job.id,
        slotId: job.slotId,
        event: "provider_failed",
        at: this.deps.clock.now(),
        details: {
          reason: err.reason,
          error: err.message,
          ...(run.provider !== job.provider || job.fallbackUsed ? { provider: run.provider } : {}),
          ...err.details,
        },
      };
      await queue.fail(job, err.reason, err.message, providerMs, [...before, failed]);
      return;
    }
    if (err instanceof ImageUnreadable) {
      // A photo (or a provider's image) whose header passed the checks but whose pixels do not
      // decode: the image's fault, answered as the provider step failing, never as a 500.
      await queue.fail(job, "provider_error", err.message, providerMs, before);
      return;
    }
    log.error("job.internal_error", { error: err });
    await queue.fail(job, "internal_error", `Internal error: ${messageOf(err)}`, providerMs, before);
  }

  private async loadInput(job: JobRow, maxSide: number | null): Promise<ProviderImage> {
    if (!job.payloadPath) throw new Error("the job has no payload");
    const bytes = await this.deps.media.read(job.payloadPath, {
      until: wallClockAt(this.deps.clock, job.expiresAt),
    });
    return maxSide ? downscale(bytes, maxSide) : toImage(bytes, job.payloadMime);
  }

  /**
   * Stores the result durably (the booth is answered from it). The thumbnail is not made here: it is
   * made on its first request (`/public/results/{id}/thumb`), off the booth's critical path.
   * Paid work is never thrown away for a bucket outage: what the bucket does not take in time is
   * kept in the local spool and the job succeeds with its `spool/` path (src/media/spool.ts).
   */
  private async storeResult(job: JobRow, output: ProviderImage) {
    const converted = await toOutputFormat(output.bytes, job.outputFormat as OutputFormat);
    const until = Math.min(
      wallClockAt(this.deps.clock, job.expiresAt) - RESULT_SPOOL_MARGIN_MS,
      Date.now() + RESULT_UPLOAD_PATIENCE_MS,
    );
    // Named per attempt: a superseded attempt whose late result is discarded (and deleted) must
    // never touch the file of the attempt that finalized.
    let resultPath: string;
    try {
      resultPath = await this.deps.media.writeAtomic(
        `results/${job.id}.a${job.attempts}.${EXT[converted.format]}`,
        converted.bytes,
        { until, spool: true, mime: converted.mime },
      );
    } catch (err) {
      // writeAtomic leaves nothing partial behind; the job fails with a reason the operator can act on.
      if (isDiskFull(err) || err instanceof SpoolFull) throw new StorageFull(err);
      throw err;
    }
    if (isSpoolKey(resultPath)) {
      this.deps.log.warn("job.result_spooled", { job_id: job.id, slot: job.slotId, path: resultPath });
    }
    return {
      resultPath,
      thumbPath: null,
      resultMime: converted.mime,
      resultSize: converted.bytes.byteLength,
      resultSha256: createHash("sha256").update(converted.bytes).digest("hex"),
    };
  }

  private async publish(job: JobRow, image: ProviderImage, label: string): Promise<string> {
    const base = await this.deps.publicBaseUrl();
    if (!base) {
      throw new ProviderFailure(
        "invalid_config",
        "PUBLIC_BASE_URL is not set: this provider downloads photos from the server, " +
          "so the server needs an address reachable from the internet (Settings → Public base URL)",
      );
    }
    const obj = await this.deps.objects.create({
      jobId: job.id,
      kind: label,
      bytes: image.bytes,
      mime: image.mime,
      format: image.format,
      now: this.deps.clock.now(),
      expiresAt: job.expiresAt,
    });
    return `${base.replace(/\/+$/, "")}/public/media/${obj.id}`;
  }
}

/** What a provider call runs: the job's primary, or its fallback. */
type Run = FallbackConfig;

interface Timing {
  providerMs: number | null;
  started: number | null;
}

/** The provider a job runs on when claimed: its fallback's once it went there, else the primary. */
function runsOnProvider(job: JobRow): string {
  return job.fallbackUsed && job.fallback ? job.fallback.provider : job.provider;
}

/**
 * Why the primary's failure sends the job to its fallback (the reason, as the timeline shows it),
 * or null when it must not: the job's own end (deadline, cancel, lease lost, shutdown), a database
 * outage, a safety block or bad configuration (see src/domain/fallback.ts).
 */
function fallbackReason(err: unknown, job: AbortSignal): string | null {
  if (job.aborted) return null;
  if (err instanceof ShareUsedUp) return "timeout";
  if (err instanceof ProviderFailure && fallsBack(err.reason)) {
    return err.quotaExhausted ? "provider_quota_exhausted" : err.reason;
  }
  return null;
}

function toImage(bytes: Uint8Array, mime: string | null): ProviderImage {
  const format = sniffImage(bytes) ?? formatFromMime(mime);
  if (!format) throw new ProviderFailure("invalid_config", "An input is not a JPEG, PNG, WebP or HEIC image");
  return { bytes, format, mime: `image/${format}` };
}

function isTimeoutFailure(err: unknown): boolean {
  return err instanceof ProviderFailure && err.reason === "timeout";
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Settles with the promise, or rejects as soon as the signal fires (the provider may ignore it). */
function raceAbort<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  // A provider that rejects after we stopped listening must not become an unhandled rejection.
  promise.catch(() => {});
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (v) => {
        signal.removeEventListener("abort", onAbort);
        resolve(v);
      },
      (e) => {
        signal.removeEventListener("abort", onAbort);
        reject(e);
      },
    );
  });
}
