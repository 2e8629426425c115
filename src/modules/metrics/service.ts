/** Reads the present state behind the /metrics gauges (queue, workers, media, disk, cleaner, T_sync). */
import { lastCleanup } from "../../cron/cleanup";
import type { GaugeSnapshot } from "../../metrics";
import type { Services } from "../../services";

export async function gaugeSnapshot(
  rt: Pick<Services, "store" | "queue" | "media" | "workers" | "settings" | "quota">,
): Promise<GaugeSnapshot> {
  const [queue, mediaBytes, disk, cleanup, settings, quotas] = await Promise.all([
    rt.queue.counts(),
    rt.media.bytesByKind(),
    rt.media.diskUsage(),
    lastCleanup(rt),
    rt.settings.current(),
    rt.quota.states(),
  ]);
  return {
    queue,
    inFlight: rt.workers.inFlight,
    mediaBytes,
    disk,
    lastCleanupAt: cleanup?.finishedAt ?? null,
    syncResponseSeconds: settings.syncResponseSeconds,
    quotas: quotas.map((q) => ({ provider: q.provider, usedRatio: q.usedRatio })),
    dbStatements: rt.store.statementsSent(),
  };
}
