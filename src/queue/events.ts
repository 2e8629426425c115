/**
 * Wake-ups. In one process the worker's finalize wakes the waiter directly (< 1 ms); across
 * processes LISTEN/NOTIFY carries the same hints. A hint is only a hint: waiters and workers
 * re-read the database, and a slow safety-net poll keeps them correct when a hint is lost.
 */
import type { JobRow, JobStatus } from "../db/schema";
import { isFinal } from "../domain/outcome";
import type { Logger } from "../lib/log";
import type { JobStore } from "../store/job-store";

type Listener = () => void;

/**
 * An idle worker loop of this process set aside for a job about to be inserted: the job is inserted
 * already leased to it (see JobQueue.enqueue), so it needs no claim statement and no wake-up.
 */
export interface ReservedLoop {
  owner: string;
  /** The job was inserted leased to `owner`: the loop runs it. */
  take(job: JobRow): void;
  /** The job was not inserted (the cap, an error): the loop is idle again and its room freed. */
  cancel(): void;
}

/** Sets aside an idle loop with room for `provider`, or null (none idle, no room, older work may wait). */
export type LoopReserver = (provider: string) => Promise<ReservedLoop | null>;
/** Told that a job is final; `row` is the finalizing statement's own row when it ended in this process. */
type FinalizedListener = (row: JobRow | null) => void;

export class JobEvents {
  /**
   * With wake-ups off (`WAKEUPS=off`, a benchmark diagnostic) finalizations and new jobs wake no
   * one: waiters and idle workers find them on their ≈1 s re-read, as in the seed design. Cancel
   * and deadline aborts of a running provider call still work.
   */
  constructor(readonly wakeups = true) {}

  private readonly finalized = new Map<string, Set<FinalizedListener>>();
  /** Told of every queued hint (the worker pool, observers). */
  private readonly queued = new Set<Listener>();
  private queuedHints = 0;
  /** Told of every job this process inserted, leased directly or queued (observers, tests). */
  private readonly enqueued = new Set<(job: JobRow) => void>();
  private reserver: LoopReserver | null = null;
  /** Jobs this process announced itself, until PostgreSQL echoes their NOTIFY back (see emitRemoteQueued). */
  private readonly announcedHere = new Set<string>();
  private readonly cancelled = new Map<string, Set<Listener>>();
  /** Jobs this process is finalizing right now (see `emitRemoteFinalized`). */
  private readonly finalizingHere = new Map<string, number>();

  onFinalized(jobId: string, fn: FinalizedListener): () => void {
    return add(this.finalized, jobId, fn);
  }

  emitFinalized(jobId: string, row: JobRow | null = null): void {
    if (this.wakeups) for (const fn of [...(this.finalized.get(jobId) ?? [])]) fn(row);
    for (const fn of [...(this.cancelled.get(jobId) ?? [])]) fn();
  }

  /** The jobs someone in this process waits on (for the batched safety-net read, see pollWaiting). */
  waitingJobIds(): string[] {
    return [...this.finalized.keys()];
  }

  /**
   * The safety net found the job final: its waiters read it now. Not a hint, the database's own
   * answer, so it wakes them even with wake-ups off (then it is the only way they learn of it).
   */
  emitFoundFinal(jobId: string): void {
    if (this.finalizingHere.has(jobId)) return; // its own wake-up follows the clean-up
    for (const fn of [...(this.finalized.get(jobId) ?? [])]) fn(null);
  }

  /**
   * A NOTIFY about a job. PostgreSQL also delivers our own notifications; for a job this process is
   * finalizing, that echo would wake the waiter before the finalization's clean-up (payload removal)
   * is done, so it is dropped — the in-process wake-up follows the clean-up.
   */
  emitRemoteFinalized(jobId: string): void {
    if (!this.finalizingHere.has(jobId)) this.emitFinalized(jobId);
  }

  /** Marks a job as being finalized by this process until the returned function is called. */
  finalizing(jobId: string): () => void {
    this.finalizingHere.set(jobId, (this.finalizingHere.get(jobId) ?? 0) + 1);
    return () => {
      const n = (this.finalizingHere.get(jobId) ?? 1) - 1;
      if (n > 0) this.finalizingHere.set(jobId, n);
      else this.finalizingHere.delete(jobId);
    };
  }

  /** True while this process runs a finalization of the job (its clean-up and wake-up still to come). */
  isFinalizingHere(jobId: string): boolean {
    return this.finalizingHere.has(jobId);
  }

  /** Workers holding a job listen here so a cancel or timeout aborts their provider call at once. */
  onEnded(jobId: string, fn: Listener): () => void {
    return add(this.cancelled, jobId, fn);
  }

  onQueued(fn: Listener): () => void {
    this.queued.add(fn);
    return () => this.queued.delete(fn);
  }

  onEnqueued(fn: (job: JobRow) => void): () => void {
    this.enqueued.add(fn);
    return () => this.enqueued.delete(fn);
  }

  /** This process inserted `job` (pending, or leased to one of its loops). */
  emitEnqueued(job: JobRow): void {
    for (const fn of [...this.enqueued]) fn(job);
  }

  /** The worker pool offers its idle loops for new jobs (null: no longer, it is stopping or draining). */
  setLoopReserver(fn: LoopReserver | null): void {
    this.reserver = fn;
  }

  /**
   * An idle loop of this process for a new job of `provider`, or null. With wake-ups off (the seed
   * design's polling, a diagnostic) jobs are always queued and found by the re-read.
   */
  reserveLoop(provider: string): Promise<ReservedLoop | null> {
    if (!this.wakeups || !this.reserver) return Promise.resolve(null);
    return this.reserver(provider);
  }

  /**
   * A job may be waiting: the worker pool's idle loops look (one claim statement for all of them).
   */
  emitQueued(): void {
    if (!this.wakeups) return;
    this.queuedHints++;
    for (const fn of [...this.queued]) fn();
  }

  /**
   * This process is about to queue `jobId` and will hint it itself (emitQueued): PostgreSQL's echo
   * of the NOTIFY — which may arrive before the insert's own answer — is not a second hint. Call the
   * returned function if the job was not queued after all.
   */
  queuingHere(jobId: string): () => void {
    this.announcedHere.add(jobId);
    // An echo that never comes (LISTEN down) must not keep its id for ever.
    if (this.announcedHere.size > MAX_ANNOUNCED)
      this.announcedHere.delete(this.announcedHere.values().next().value!);
    return () => this.announcedHere.delete(jobId);
  }

  /**
   * A NOTIFY that a job was queued (`jobId`), or a LISTEN (re)connect that may have missed some
   * (null). PostgreSQL delivers a process's own notifications back to it: those were hints already.
   */
  emitRemoteQueued(jobId: string | null): void {
    if (jobId && this.announcedHere.delete(jobId)) return;
    this.emitQueued();
  }

  /** Counts queued hints, so a hint that lands while a worker is claiming is not lost. */
  get queuedSeq(): number {
    return this.queuedHints;
  }
}

/** Own announcements remembered at most (each is dropped when its echo arrives). */
const MAX_ANNOUNCED = 10_000;

function add<F>(map: Map<string, Set<F>>, key: string, fn: F): () => void {
  let set = map.get(key);
  if (!set) {
    set = new Set();
    map.set(key, set);
  }
  set.add(fn);
  return () => {
    const s = map.get(key);
    if (!s) return;
    s.delete(fn);
    if (s.size === 0) map.delete(key);
  };
}

/**
 * The waiters' safety net, one statement per process: the states of every job someone here waits
 * on, read together (`where id = any(…)`); the final ones wake their waiters. A NOTIFY lost with a
 * connection, or a finalization by another process while this one's LISTEN was reconnecting, is
 * noticed within one interval — without a re-read per held request.
 */
export async function pollWaiting(jobs: Pick<JobStore, "jobStates">, events: JobEvents): Promise<number> {
  const ids = events.waitingJobIds();
  if (!ids.length) return 0;
  const states = await jobs.jobStates(ids);
  let found = 0;
  for (const [id, status] of states) {
    if (isFinal(status as JobStatus)) {
      events.emitFoundFinal(id);
      found++;
    }
  }
  return found;
}

/** Relays NOTIFY from other processes into the in-process events. */
export function listenForJobEvents(
  jobs: JobStore,
  events: JobEvents,
  log: Logger,
): Promise<{ unlisten(): Promise<void> }> {
  return jobs.listenForJobs({
    onFinalized: (jobId) => events.emitRemoteFinalized(jobId),
    // A job id, or null after a (re)connect (a hint may have been missed: idle workers look again).
    onQueued: (jobId) => events.emitRemoteQueued(jobId),
    onConnected: () => {
      log.debug("queue.listen.connected");
      // A finalization announced while the listener was away: the held requests' jobs are read now,
      // not at the next safety-net read.
      pollWaiting(jobs, events).catch((err) => log.warn("queue.waiters_failed", { error: err }));
    },
  });
}
