/**
 * The cleaner (SPEC §5): deletes expired results and thumbnails, the photos of jobs that ended
 * without success once the result retention ended (they are kept for a re-run until then), expired
 * media objects, orphaned payloads and temp files, resolves stale jobs, prunes old auth failures — and records what it
 * removed in `cleanup_run`. Templates are never touched. `dryRun` reports without deleting.
 */
import type { Clock } from "../lib/clock";
import type { Logger } from "../lib/log";
import type { MediaObjects } from "../media/objects";
import type { MediaStore } from "../media/storage";
import type { CleanupTotals, Metrics } from "../metrics";
import { type JobQueue, LEFTOVER_AGE_MS, OVERDUE_GRACE_MS } from "../queue/index";
import type { SettingsService } from "../settings/service";
import { REFUSAL_RETENTION_MS } from "../store/attention";
import type { Store } from "../store/index";

/** What the cleaner works with. */
export interface CleanupDeps {
  store: Pick<Store, "jobs" | "mediaObjects" | "cleanupRuns" | "auth" | "attention">;
  media: MediaStore;
  objects: MediaObjects;
  queue: JobQueue;
  metrics: Metrics;
  settings: Pick<SettingsService, "current">;
  clock: Clock;
  log: Logger;
}

/** Files this old that no job points at are leftovers of a crash (a live upload takes seconds). */
const ORPHAN_AGE_MS = 60 * 60_000;
/** Failed-attempt records older than any throttle window. */
const AUTH_FAILURE_MAX_AGE_MS = 24 * 3600_000;
/** A manual run (CLI, API) waits this long for another instance's run to finish. */
const LOCK_WAIT_MS = 120_000;

/** Another instance holds the cleaner lock (see CleanupRunStore.exclusive). */
export class CleanerBusy extends Error {
  constructor() {
    super("another PhotoChanger instance is running the cleaner right now");
    this.name = "CleanerBusy";
  }
}

export interface CleanupKindReport {
  count: number;
  bytes: number;
}

export interface CleanupReport extends CleanupTotals {
  dryRun: boolean;
}

/**
 * One cleaner run. A deleting run first takes the cleaner lock, which keeps runs of every instance
 * on the database apart: with `wait` (manual runs) it waits for another instance's run to end,
 * without it (the schedule) it throws CleanerBusy at once — the other instance is doing the work.
 * A dry run only reads and takes no lock.
 */
export async function runCleanup(
  services: CleanupDeps,
  options: { trigger: string; dryRun?: boolean; wait?: boolean },
): Promise<CleanupReport> {
  if (options.dryRun) return cleanOnce(services, options);
  const run = await services.store.cleanupRuns.exclusive(options.wait ? LOCK_WAIT_MS : 0, () =>
    cleanOnce(services, options),
  );
  if (!run.ran) throw new CleanerBusy();
  return run.value;
}

async function cleanOnce(
  services: CleanupDeps,
  options: { trigger: string; dryRun?: boolean },
): Promise<CleanupReport> {
  const dryRun = options.dryRun ?? false;
  const now = services.clock.now();
  const runId = dryRun ? null : await services.store.cleanupRuns.start(options.trigger, now);
  const report: CleanupReport = {
    dryRun,
    results: { count: 0, bytes: 0 },
    thumbnails: { count: 0, bytes: 0 },
    photos: { count: 0, bytes: 0 },
    mediaObjects: { count: 0, bytes: 0 },
    orphanFiles: { count: 0, bytes: 0 },
    staleJobs: 0,
    authFailures: 0,
  };
  try {
    await expiredResults(services, now, dryRun, report);
    await expiredPhotos(services, now, dryRun, report);
    await expiredMediaObjects(services, now, dryRun, report);
    await orphanFiles(services, now, dryRun, report);
    if (!dryRun) {
      // Jobs of stopped instances and overdue ones; lapsed leases are the live servers' sweepers' call.
      report.staleJobs = (await services.queue.recover("", null, OVERDUE_GRACE_MS)).length;
      // Crash leftovers younger than the hour-old orphan rule above (files of finished jobs, log rows).
      report.orphanFiles.count += (await services.queue.reclaimLeftovers(LEFTOVER_AGE_MS)).files;
      report.authFailures = await services.store.auth.pruneFailures(
        new Date(now.getTime() - AUTH_FAILURE_MAX_AGE_MS),
      );
      await services.store.attention.pruneRefusals(new Date(now.getTime() - REFUSAL_RETENTION_MS));
    }
    if (runId !== null)
      await services.store.cleanupRuns.finish(runId, services.clock.now(), flatten(report), null);
    services.log.info(dryRun ? "cleanup.dry_run" : "cleanup.done", {
      trigger: options.trigger,
      ...flatten(report),
    });
    if (!dryRun) services.metrics.cleanupFinished(report);
    return report;
  } catch (err) {
    if (!dryRun) services.metrics.cleanupFailed();
    if (runId !== null) {
      await services.store.cleanupRuns
        .finish(runId, services.clock.now(), flatten(report), String(err))
        .catch(() => {});
    }
    throw err;
  }
}

export function flatten(r: CleanupReport): Record<string, number> {
  return {
    results: r.results.count,
    results_bytes: r.results.bytes,
    thumbnails: r.thumbnails.count,
    thumbnails_bytes: r.thumbnails.bytes,
    photos: r.photos.count,
    photos_bytes: r.photos.bytes,
    media_objects: r.mediaObjects.count,
    media_objects_bytes: r.mediaObjects.bytes,
    orphan_files: r.orphanFiles.count,
    orphan_files_bytes: r.orphanFiles.bytes,
    stale_jobs: r.staleJobs,
    auth_failures: r.authFailures,
  };
}

async function size(services: CleanupDeps, path: string | null): Promise<number> {
  if (!path) return 0;
  return (await services.media.size(path)) ?? 0;
}

async function expiredResults(
  services: CleanupDeps,
  now: Date,
  dryRun: boolean,
  report: CleanupReport,
): Promise<void> {
  const rows = await services.store.jobs.expiredResults(now);
  for (const r of rows) {
    const bytes = dryRun ? await size(services, r.resultPath) : await services.media.remove(r.resultPath);
    report.results.count++;
    report.results.bytes += bytes;
    if (r.thumbPath) {
      const tb = dryRun ? await size(services, r.thumbPath) : await services.media.remove(r.thumbPath);
      report.thumbnails.count++;
      report.thumbnails.bytes += tb;
    }
  }
  if (!dryRun) {
    await services.store.jobs.markResultsDeleted(
      rows.map((r) => r.id),
      now,
    );
  }
}

/**
 * Photos of jobs that ended without success are kept for a re-run as long as a result would be
 * (finalized_at + T_result_retention); then the row lets go of them and the files go.
 */
async function expiredPhotos(
  services: CleanupDeps,
  now: Date,
  dryRun: boolean,
  report: CleanupReport,
): Promise<void> {
  const { resultRetentionHours } = await services.settings.current();
  const cutoff = new Date(now.getTime() - resultRetentionHours * 3_600_000);
  const rows = await services.store.jobs.expiredPayloads(cutoff);
  if (dryRun) {
    for (const r of rows) {
      report.photos.count++;
      report.photos.bytes += await size(services, r.payloadPath);
    }
    return;
  }
  for (const path of await services.store.jobs.releasePayloads(rows.map((r) => r.id))) {
    report.photos.count++;
    report.photos.bytes += await services.media.remove(path);
  }
}

async function expiredMediaObjects(
  services: CleanupDeps,
  now: Date,
  dryRun: boolean,
  report: CleanupReport,
): Promise<void> {
  if (!dryRun) {
    const removed = await services.objects.removeExpired(now);
    report.mediaObjects = removed;
    return;
  }
  for (const r of await services.store.mediaObjects.expired(now)) {
    report.mediaObjects.count++;
    report.mediaObjects.bytes += await size(services, r.path);
  }
}

/** Payloads of finished jobs, results no job points at, media no row knows, stray temp files. */
async function orphanFiles(
  services: CleanupDeps,
  now: Date,
  dryRun: boolean,
  report: CleanupReport,
): Promise<void> {
  const cutoff = now.getTime() - ORPHAN_AGE_MS;
  const keptPayloads = new Set(await services.store.jobs.keptPayloadPaths());
  const liveResults = new Set(await services.store.jobs.liveResultPaths());
  const liveMedia = new Set(await services.store.mediaObjects.livePaths());
  const candidates = [
    ...(await services.media.list("payloads")).filter((f) => !keptPayloads.has(f.path)),
    ...(await services.media.list("results")).filter((f) => !liveResults.has(f.path)),
    ...(await services.media.list("media")).filter((f) => !liveMedia.has(f.path)),
    ...(await services.media.list("templates")).filter((f) => f.path.includes(".tmp-")),
  ];
  for (const f of candidates) {
    if (f.mtimeMs > cutoff) continue;
    report.orphanFiles.count++;
    report.orphanFiles.bytes += dryRun ? f.size : await services.media.remove(f.path);
  }
}

/** The last finished cleanup (for `status`, `/metrics` and the settings page). */
export function lastCleanup(services: { store: Pick<Store, "cleanupRuns"> }) {
  return services.store.cleanupRuns.last();
}

/**
 * The cleaner started on demand (`POST /api/media/cache/purge`, the settings page), in the
 * background; a purge already running is not doubled.
 */
export class Purges {
  private running: Promise<unknown> | null = null;

  constructor(private readonly deps: CleanupDeps) {}

  /** Starts a run with trigger "api"; false when one is already running. */
  start(by: string): { started: boolean } {
    if (this.running) return { started: false };
    this.deps.log.info("admin.purge_requested", { by });
    this.running = runCleanup(this.deps, { trigger: "api", wait: true })
      .catch((err) => this.deps.log.error("cleanup.failed", { trigger: "api", error: err }))
      .finally(() => {
        this.running = null;
      });
    return { started: true };
  }

  /** The purge in progress, if any (lets the page and tests wait for it). */
  inProgress(): Promise<unknown> | null {
    return this.running;
  }
}
