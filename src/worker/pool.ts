/**
 * Worker loops: claim → provider → store result → fenced finalize. Each call gets an AbortSignal
 * that fires at the job's deadline (or on cancel, or when the lease is lost), and a heartbeat keeps
 * the lease alive while the provider works. A result that arrives too late is discarded.
 */
import { createHash } from "node:crypto";
import type { JobRow } from "../db/schema";
import {
  currentRun,
  type FallbackConfig,
  fallsBack,
  primaryDeadline,
  timeForFallback,
} from "../domain/fallback";
import { fillPromptSettings, promptPlaceholders } from "../domain/prompt-fields";
import type { OutputFormat } from "../domain/slots";
import { type Clock, wallClockAt } from "../lib/clock";
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
import type { JobEvents, ReservedLoop } from "../queue/events";
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
/** A claim that failed (database unavailable) is tried again this soon. */
const CLAIM_RETRY_MS = 1000;
/**
 * With no hint, idle loops look at the queue this often: the slow truth beside NOTIFY (a hint lost
 * with a connection, a concurrency limit raised in the settings). The seed design's 1 s when
 * wake-ups are off.
 */
const SAFETY_CLAIM_MS = 2000;
/** Most jobs one claim statement takes for the idle loops of this process. */
const CLAIM_BATCH_MAX = 256;
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

/** An idle worker loop, waiting to be handed a job (null: the pool stops). */
interface IdleLoop {
  owner: string;
  give(job: JobRow | null): void;
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
  /** Loops with nothing to do, longest idle first: a claim takes jobs for them, one statement for all. */
  private readonly idle: IdleLoop[] = [];
  /** The claim statement in flight (one at a time per process). */
  private claiming: Promise<void> | null = null;
  /**
   * The queue may hold a job for the idle loops: a hint came (a job queued here or elsewhere, a
   * reconnect), a provider at its limit freed a place, the safety interval passed, or the last claim
   * took all it asked for. Cleared when a claim comes back short.
   */
  private mayHaveWork = true;
  /** Providers left out of the last short claim for want of room: a job of theirs ending frees one. */
  private full = new Set<string>();
  private safetyTimer: ReturnType<typeof setInterval> | null = null;
  /** The jobs this process runs, whose leases the heartbeat extends together. */
  private readonly leases = new Map<string, { job: JobRow; lost(): void }>();
  private cancelHeartbeat: (() => void) | null = null;
  private offQueued: (() => void) | null = null;

  constructor(
    private readonly deps: WorkerDeps,
    private readonly count: number,
  ) {}

  start(): void {
    const { events } = this.deps;
    this.offQueued = events.onQueued(() => this.wake());
    events.setLoopReserver((provider) => this.reserveLoop(provider));
    this.safetyTimer = setInterval(() => this.wake(), events.wakeups ? SAFETY_CLAIM_MS : 1000);
    this.safetyTimer.unref?.();
    for (let i = 0; i < this.count; i++) this.loops.push(this.loop(`${this.deps.instanceId}/${i + 1}`));
    this.scheduleHeartbeat();
  }

  /**
   * Every HEARTBEAT_MS, one statement extends the leases of every job this process runs; a job whose
   * lease is no longer ours (cancelled, expired, reclaimed) has its provider call aborted. A job
   * still here well past its deadline is stuck (its calls are bounded, so it should not be): its
   * lease lapses, and a sweeper resolves it. On a database blip the leases are kept by the next
   * beat (sweepers spare a lease they could not judge, see Runtime); the fenced finalize decides.
   */
  private scheduleHeartbeat(): void {
    const { clock, queue, log } = this.deps;
    this.cancelHeartbeat = clock.setTimer(
      HEARTBEAT_MS,
      () => {
        const now = clock.now().getTime();
        const beating = [...this.leases.values()].filter(
          (l) => now <= l.job.expiresAt.getTime() + OVERDUE_GRACE_MS,
        );
        const beat = beating.length
          ? queue.heartbeatMany(beating.map((l) => l.job)).then(
              (ours) => {
                for (const l of beating) {
                  if (!ours.has(l.job.id) && this.leases.get(l.job.id) === l) l.lost();
                }
              },
              (err) => log.warn("worker.heartbeat_failed", { error: err, jobs: beating.length }),
            )
          : Promise.resolve();
        void beat.finally(() => {
          if (this.cancelHeartbeat) this.scheduleHeartbeat();
        });
      },
      "worker.heartbeat",
    );
  }

  /**
   * The instance is draining: from now on the loops claim only jobs whose booth request is held
   * by this instance (they must be answered before it exits); other work is left to other
   * instances or to the next start. Jobs already running continue.
   */
  drain(): void {
    this.drainingFor = this.deps.instanceId;
    this.deps.events.setLoopReserver(null);
    this.wake();
  }

  /**
   * Stops claiming and lets the provider calls in flight finish, for up to `graceMs` (each call is
   * bounded by its job's deadline anyway). Calls still running after that are abandoned and their
   * jobs released back to `pending` (fenced), so another instance or the next start re-runs them.
   */
  async stop(graceMs = 0): Promise<void> {
    this.stopping.abort();
    this.deps.events.setLoopReserver(null);
    this.offQueued?.();
    if (this.safetyTimer) clearInterval(this.safetyTimer);
    for (const l of this.idle.splice(0)) l.give(null);
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
    const cancel = this.cancelHeartbeat;
    this.cancelHeartbeat = null;
    cancel?.();
  }

  get inFlight(): number {
    let n = 0;
    for (const v of this.running.values()) n += v;
    return n;
  }

  private async loop(owner: string): Promise<void> {
    const { log } = this.deps;
    while (!this.stopping.signal.aborted) {
      const job = await new Promise<JobRow | null>((give) => {
        this.idle.push({ owner, give });
        this.pump();
      });
      if (!job) continue;
      const runsOn = { provider: currentRun(job).provider };
      try {
        await this.process(job, runsOn);
      } catch (err) {
        log.error("worker.job_crashed", { job_id: job.id, slot: job.slotId, error: err });
      } finally {
        this.running.set(runsOn.provider, (this.running.get(runsOn.provider) ?? 1) - 1);
        // A provider the last claim left out for want of room has a place again.
        if (this.full.has(runsOn.provider)) this.wake();
      }
    }
  }

  /**
   * An idle loop for a new job of `provider`, which this process is about to insert leased to it
   * (JobQueue.enqueue): only when nothing older may be waiting for it — no claim in flight, no hint
   * unanswered, no job of this provider left in the queue by the last claim for want of room (a new
   * job must not take the place they wait for) — and the provider has room (its limit, and fetch's
   * for network providers). The room is counted at once; `cancel` gives it back.
   */
  private async reserveLoop(provider: string): Promise<ReservedLoop | null> {
    const limits: Record<string, number> = (await this.deps.settings.current()).providerConcurrency;
    if (this.claiming || this.mayHaveWork || !this.idle.length || this.stopping.signal.aborted) return null;
    if (this.full.has(provider)) return null;
    const running = this.running.get(provider) ?? 0;
    const limit = limits[provider];
    if (limit !== undefined && running >= limit) return null;
    const sharedBy = this.fetchProviders();
    if (sharedBy.includes(provider) && this.callsRunning(sharedBy) >= MAX_PROVIDER_CALLS) return null;
    const loop = this.idle.shift()!;
    this.running.set(provider, running + 1);
    return {
      owner: loop.owner,
      take: (job) => loop.give(job),
      cancel: () => {
        this.running.set(provider, (this.running.get(provider) ?? 1) - 1);
        if (this.stopping.signal.aborted) loop.give(null);
        else {
          this.idle.unshift(loop);
          if (this.full.has(provider)) this.wake();
        }
      },
    };
  }

  /** Something may be claimable: the idle loops look (one statement for all of them). */
  private wake(): void {
    this.mayHaveWork = true;
    this.pump();
  }

  /** Starts a claim for the idle loops unless one is in flight or there is nothing to look for. */
  private pump(): void {
    if (this.claiming || !this.mayHaveWork || !this.idle.length || this.stopping.signal.aborted) return;
    this.claiming = this.claimForIdle().finally(() => {
      this.claiming = null;
      this.pump();
    });
  }

  /** The jobs this process runs now on `providers`, together. */
  private callsRunning(providers: string[]): number {
    let n = 0;
    for (const id of providers) n += this.running.get(id) ?? 0;
    return n;
  }

  /** The providers whose calls go through fetch (network services: those that need an API key). */
  private fetchProviders(): string[] {
    return this.deps.providers
      .list()
      .filter((p) => p.spec.needsApiKey)
      .map((p) => p.spec.id);
  }

  /**
   * One claim statement for up to CLAIM_BATCH_MAX idle loops, within each provider's room (its
   * concurrency limit less its running jobs) and, for network providers together, Bun's fetch
   * limit: their jobs wait in the queue (where they cost nothing) rather than in fetch's queue
   * (holding their request bodies). Providers that make no HTTP call (local) are held by their own
   * limit and WORKER_COUNT alone. The jobs go to the longest-idle loops; a short answer means the
   * queue has nothing more for them until a hint.
   */
  private async claimForIdle(): Promise<void> {
    const { events, queue, settings, log } = this.deps;
    this.mayHaveWork = false;
    const seq = events.queuedSeq;
    const batch = this.idle.splice(0, CLAIM_BATCH_MAX);
    let jobs: JobRow[] = [];
    let locked = 0;
    let perProvider: Record<string, number> = {};
    try {
      const limits = (await settings.current()).providerConcurrency;
      perProvider = Object.fromEntries(
        Object.entries(limits).map(([id, limit]) => [id, Math.max(0, limit - (this.running.get(id) ?? 0))]),
      );
      const sharedBy = this.fetchProviders();
      const shared = Math.max(0, MAX_PROVIDER_CALLS - this.callsRunning(sharedBy));
      if (shared === 0) for (const id of sharedBy) perProvider[id] = 0;
      ({ jobs, locked } = await queue.claimBatch(
        batch.map((l) => l.owner),
        { perProvider, sharedBy, shared },
        this.drainingFor,
      ));
    } catch (err) {
      if (isDatabaseUnavailable(err)) log.warn("worker.claim_failed", { error: err });
      else log.error("worker.claim_failed", { error: err });
      if (this.stopping.signal.aborted) for (const l of batch) l.give(null);
      else this.idle.unshift(...batch);
      setTimeout(() => this.wake(), CLAIM_RETRY_MS).unref?.();
      return;
    }
    const byOwner = new Map(jobs.map((j) => [j.leaseOwner, j]));
    const left: IdleLoop[] = [];
    for (const l of batch) {
      const job = byOwner.get(l.owner);
      if (!job) {
        left.push(l);
        continue;
      }
      const provider = currentRun(job).provider;
      this.running.set(provider, (this.running.get(provider) ?? 0) + 1);
      perProvider[provider] = (perProvider[provider] ?? 0) - 1;
      l.give(job);
    }
    if (this.stopping.signal.aborted) for (const l of left) l.give(null);
    else this.idle.unshift(...left);
    if (jobs.length === batch.length || locked === batch.length || events.queuedSeq !== seq) {
      // All it asked for (there may be more), or rows it could not take yet: look again.
      this.mayHaveWork = true;
    }
    this.full = new Set(
      Object.entries(perProvider)
        .filter(([, room]) => room <= 0)
        .map(([id]) => id),
    );
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
    this.leases.set(job.id, { job, lost: () => abort.abort(new LeaseLost()) });

    // The `dispatched` log row was written by the claim itself.
    const queueWaitMs = job.startedAt!.getTime() - job.createdAt.getTime();
    log.info("job.dispatched", {
      provider: runsOn.provider,
      operation: currentRun(job).operation,
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
      this.leases.delete(job.id);
      offEnded();
      this.abandoning.signal.removeEventListener("abort", onShutdown);
    }
  }

  /** The job now runs on another provider: it counts against that one's concurrency limit. */
  private moveRunning(runsOn: { provider: string }, to: string): void {
    const from = runsOn.provider;
    this.running.set(from, (this.running.get(from) ?? 1) - 1);
    this.running.set(to, (this.running.get(to) ?? 0) + 1);
    runsOn.provider = to;
    // The primary the job left has a place again for a job the last claim left out for want of one.
    if (this.full.has(from)) this.wake();
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
