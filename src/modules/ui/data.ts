/**
 * What the pages show, composed from the admin services (slots, jobs, settings, stats) — the
 * same functions behind the JSON API, so a page never disagrees with /api and never writes SQL.
 */
import { ACTIVE_STATUSES } from "../../domain/outcome";
import type { Services } from "../../services";
import { type JobView, listJobs } from "../jobs/service";

export interface SlotLive {
  inFlight: number;
  lastResult: JobView | null;
}

/** Per slot: jobs pending/processing now and the newest succeeded job. */
export async function slotsLive(
  rt: Pick<Services, "store">,
  slotIds: string[],
  base: string,
): Promise<Map<string, SlotLive>> {
  const [active, ...last] = await Promise.all([
    listJobs(rt, { statuses: [...ACTIVE_STATUSES], page: 1, pageSize: 200 }, base),
    ...slotIds.map((slotId) => listJobs(rt, { statuses: ["succeeded"], slotId, page: 1, pageSize: 1 }, base)),
  ]);
  const out = new Map<string, SlotLive>();
  slotIds.forEach((id, i) => {
    out.set(id, { inFlight: 0, lastResult: last[i]?.data[0] ?? null });
  });
  for (const j of active!.data) {
    const s = out.get(j.slot_id);
    if (s) s.inFlight++;
  }
  return out;
}

/** The newest servable results of one slot (for the gallery); `boothOnly` leaves test runs out. */
export async function slotResults(
  rt: Pick<Services, "store" | "clock">,
  slotId: string,
  base: string,
  limit: number,
  boothOnly = false,
): Promise<JobView[]> {
  const page = await listJobs(
    rt,
    { statuses: ["succeeded"], slotId, source: boothOnly ? "ingest" : undefined, page: 1, pageSize: limit },
    base,
  );
  const now = rt.clock.now().getTime();
  return page.data.filter(
    (j) => j.result_url && (!j.result_expires_at || new Date(j.result_expires_at).getTime() > now),
  );
}

/** Results on disk now, and how many of them are past their retention (what a purge would delete). */
export function storedResultCounts(
  rt: Pick<Services, "store" | "clock">,
): Promise<{ kept: number; expired: number }> {
  return rt.store.jobs.storedResultCounts(rt.clock.now());
}
