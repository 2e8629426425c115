/**
 * What the pages show, composed from the admin services (slots, jobs, settings, stats) — the
 * same functions behind the JSON API, so a page never disagrees with /api and never writes SQL.
 */
import { ACTIVE_STATUSES } from "../../domain/outcome";
import type { Services } from "../../services";
import { type JobView, jobView, listJobs } from "../jobs/service";

export interface SlotLive {
  inFlight: number;
  lastResult: JobView | null;
}

/** Per slot: jobs pending/processing now and the newest succeeded job (two statements, no counts). */
export async function slotsLive(
  services: Pick<Services, "store">,
  slotIds: string[],
  base: string,
): Promise<Map<string, SlotLive>> {
  const [active, newest] = await Promise.all([
    services.store.jobs.list({ statuses: [...ACTIVE_STATUSES], offset: 0, limit: 200, count: false }),
    services.store.jobs.newestPerSlot(slotIds, "succeeded"),
  ]);
  const out = new Map<string, SlotLive>();
  for (const id of slotIds) out.set(id, { inFlight: 0, lastResult: null });
  for (const j of newest) {
    const s = out.get(j.slotId);
    if (s) s.lastResult = jobView(j, base);
  }
  for (const j of active.rows) {
    const s = out.get(j.slotId);
    if (s) s.inFlight++;
  }
  return out;
}

/** The newest servable results of one slot (for the gallery); `boothOnly` leaves test runs out. */
export async function slotResults(
  services: Pick<Services, "store" | "clock">,
  slotId: string,
  base: string,
  limit: number,
  boothOnly = false,
): Promise<JobView[]> {
  const page = await listJobs(
    services,
    { statuses: ["succeeded"], slotId, source: boothOnly ? "ingest" : undefined, page: 1, pageSize: limit },
    base,
  );
  const now = services.clock.now().getTime();
  return page.data.filter(
    (j) => j.result_url && (!j.result_expires_at || new Date(j.result_expires_at).getTime() > now),
  );
}

/** Results on disk now, and how many of them are past their retention (what a purge would delete). */
export function storedResultCounts(
  services: Pick<Services, "store" | "clock">,
): Promise<{ kept: number; expired: number }> {
  return services.store.jobs.storedResultCounts(services.clock.now());
}
