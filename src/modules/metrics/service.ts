/** Reads the present state behind the /metrics gauges (queue, workers, media, disk, cleaner, T_sync). */
import { lastCleanup } from "../../cron/cleanup";
import type { GaugeSnapshot } from "../../metrics";
import type { Services } from "../../services";

export async function gaugeSnapshot(
  services: Pick<Services, "store" | "queue" | "media" | "workers" | "settings" | "quota">,
): Promise<GaugeSnapshot> {
  const [queue, mediaBytes, disk, cleanup, settings, quotas] = await Promise.all([
    services.queue.counts(),
    services.media.bytesByKind(),
    services.media.diskUsage(),
    lastCleanup(services),
    services.settings.current(),
    services.quota.states(),
  ]);
  return {
    queue,
    inFlight: services.workers.inFlight,
    mediaBytes,
    disk,
    lastCleanupAt: cleanup?.finishedAt ?? null,
    syncResponseSeconds: settings.syncResponseSeconds,
    quotas: quotas.map((q) => ({ provider: q.provider, usedRatio: q.usedRatio })),
    db: services.store.databaseWork(),
  };
}
