/**
 * The cleaner (SPEC §5): deletes expired results and thumbnails, expired media objects, orphaned
 * payloads and temp files, resolves stale jobs, prunes old auth failures — and records what it
 * removed in `cleanup_run`. Templates are never touched. `dryRun` reports without deleting.
 */
import { and, eq, inArray, isNotNull, isNull, lte, sql } from "drizzle-orm";
import { cleanupRun, job, mediaObject } from "../db/schema";
import { pruneFailures } from "../modules/auth/throttle";
import { LEASE_TTL_MS, type Runtime } from "../runtime";
import { pruneRefusals, REFUSAL_RETENTION_MS } from "../store/attention";

/** Files this old that no job points at are leftovers of a crash (a live upload takes seconds). */
const ORPHAN_AGE_MS = 60 * 60_000;

export interface CleanupKindReport {
  count: number;
  bytes: number;
}

export interface CleanupReport {
  dryRun: boolean;
  results: CleanupKindReport;
  thumbnails: CleanupKindReport;
  mediaObjects: CleanupKindReport;
  orphanFiles: CleanupKindReport;
  staleJobs: number;
  authFailures: number;
}

export async function runCleanup(
  rt: Runtime,
  options: { trigger: string; dryRun?: boolean },
): Promise<CleanupReport> {
  const dryRun = options.dryRun ?? false;
  const now = rt.clock.now();
  const [run] = dryRun
    ? [null]
    : await rt.db.insert(cleanupRun).values({ startedAt: now, trigger: options.trigger }).returning();
  const report: CleanupReport = {
    dryRun,
    results: { count: 0, bytes: 0 },
    thumbnails: { count: 0, bytes: 0 },
    mediaObjects: { count: 0, bytes: 0 },
    orphanFiles: { count: 0, bytes: 0 },
    staleJobs: 0,
    authFailures: 0,
  };
  try {
    await expiredResults(rt, now, dryRun, report);
    await expiredMediaObjects(rt, now, dryRun, report);
    await orphanFiles(rt, now, dryRun, report);
    if (!dryRun) {
      report.staleJobs = (await rt.queue.recover(LEASE_TTL_MS, 3_000)).length;
      report.authFailures = await pruneFailures(rt.db, now);
      await pruneRefusals(rt.sql, new Date(now.getTime() - REFUSAL_RETENTION_MS));
    }
    if (run) {
      await rt.db
        .update(cleanupRun)
        .set({ finishedAt: rt.clock.now(), removed: flatten(report) })
        .where(eq(cleanupRun.id, run.id));
    }
    rt.log.info(dryRun ? "cleanup.dry_run" : "cleanup.done", {
      trigger: options.trigger,
      ...flatten(report),
    });
    if (!dryRun) rt.metrics.cleanupFinished(report);
    return report;
  } catch (err) {
    if (!dryRun) rt.metrics.cleanupFailed();
    if (run) {
      await rt.db
        .update(cleanupRun)
        .set({ finishedAt: rt.clock.now(), removed: flatten(report), error: String(err) })
        .where(eq(cleanupRun.id, run.id))
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
    media_objects: r.mediaObjects.count,
    media_objects_bytes: r.mediaObjects.bytes,
    orphan_files: r.orphanFiles.count,
    orphan_files_bytes: r.orphanFiles.bytes,
    stale_jobs: r.staleJobs,
    auth_failures: r.authFailures,
  };
}

async function size(rt: Runtime, path: string | null): Promise<number> {
  if (!path) return 0;
  const f = Bun.file(rt.media.abs(path));
  return (await f.exists()) ? f.size : 0;
}

async function expiredResults(rt: Runtime, now: Date, dryRun: boolean, report: CleanupReport): Promise<void> {
  const rows = await rt.db
    .select({ id: job.id, resultPath: job.resultPath, thumbPath: job.thumbPath })
    .from(job)
    .where(and(isNotNull(job.resultPath), isNull(job.resultDeletedAt), lte(job.resultExpiresAt, now)));
  for (const r of rows) {
    const bytes = dryRun ? await size(rt, r.resultPath) : await rt.media.remove(r.resultPath);
    report.results.count++;
    report.results.bytes += bytes;
    if (r.thumbPath) {
      const tb = dryRun ? await size(rt, r.thumbPath) : await rt.media.remove(r.thumbPath);
      report.thumbnails.count++;
      report.thumbnails.bytes += tb;
    }
  }
  if (!dryRun && rows.length) {
    await rt.db
      .update(job)
      .set({ resultDeletedAt: now })
      .where(
        inArray(
          job.id,
          rows.map((r) => r.id),
        ),
      );
  }
}

async function expiredMediaObjects(
  rt: Runtime,
  now: Date,
  dryRun: boolean,
  report: CleanupReport,
): Promise<void> {
  if (!dryRun) {
    const removed = await rt.objects.removeExpired(now);
    report.mediaObjects = removed;
    return;
  }
  const rows = await rt.db
    .select({ path: mediaObject.path })
    .from(mediaObject)
    .where(and(lte(mediaObject.expiresAt, now), isNull(mediaObject.deletedAt)));
  for (const r of rows) {
    report.mediaObjects.count++;
    report.mediaObjects.bytes += await size(rt, r.path);
  }
}

/** Payloads of finished jobs, results no job points at, media no row knows, stray temp files. */
async function orphanFiles(rt: Runtime, now: Date, dryRun: boolean, report: CleanupReport): Promise<void> {
  const cutoff = now.getTime() - ORPHAN_AGE_MS;
  const activePayloads = new Set(
    (
      await rt.db
        .select({ p: job.payloadPath })
        .from(job)
        .where(and(isNotNull(job.payloadPath), inArray(job.status, ["pending", "processing"])))
    ).map((r) => r.p),
  );
  const liveResults = new Set<string>();
  for (const r of await rt.db
    .select({ a: job.resultPath, b: job.thumbPath })
    .from(job)
    .where(and(isNotNull(job.resultPath), isNull(job.resultDeletedAt)))) {
    if (r.a) liveResults.add(r.a);
    if (r.b) liveResults.add(r.b);
  }
  const liveMedia = new Set(
    (await rt.db.select({ p: mediaObject.path }).from(mediaObject).where(isNull(mediaObject.deletedAt))).map(
      (r) => r.p,
    ),
  );
  const candidates = [
    ...(await rt.media.list("payloads")).filter((f) => !activePayloads.has(f.path)),
    ...(await rt.media.list("results")).filter((f) => !liveResults.has(f.path)),
    ...(await rt.media.list("media")).filter((f) => !liveMedia.has(f.path)),
    ...(await rt.media.list("templates")).filter((f) => f.path.includes(".tmp-")),
  ];
  for (const f of candidates) {
    if (f.mtimeMs > cutoff) continue;
    report.orphanFiles.count++;
    report.orphanFiles.bytes += dryRun ? f.size : await rt.media.remove(f.path);
  }
}

/** The last finished cleanup (for `status`, `/metrics` and the settings page). */
export async function lastCleanup(rt: Pick<Runtime, "db">) {
  const [row] = await rt.db
    .select()
    .from(cleanupRun)
    .where(isNotNull(cleanupRun.finishedAt))
    .orderBy(sql`${cleanupRun.finishedAt} desc`)
    .limit(1);
  return row ?? null;
}
