/**
 * "Does anything need the operator?" — computed for every admin page (the banner), the dashboard's
 * slot cards, the slot page and the notifier: slots whose booth jobs fail, booth requests refused
 * (above all a stale password after a rotation), a nearly full disk, a silent or failing cleaner,
 * an unreachable database, an unreachable media bucket.
 */

import type { Attention, Banner, Block, SlotAttention } from "../../domain/attention";
import { mediaState } from "../../media/spool";
import { LEASE_TTL_MS } from "../../queue/index";
import type { Services } from "../../services";
import { KEYS } from "../../settings/service";
import type { RefusalRow } from "../../store/attention";
import type { CleanupRunRow } from "../../store/housekeeping";
import type { InstanceInfo } from "../../store/instances";
import { listBlocks } from "../blocks/service";

/** How far back "failing now" and the counts on the cards look. */
export const ATTENTION_WINDOW_MS = 60 * 60_000;
/** The cleaner runs every 15 minutes; no finished run for this long means it has stopped. */
const CLEANER_SILENT_MS = 2 * 60 * 60_000;
/** Below either, the disk banner shows. */
const DISK_LOW_BYTES = 1024 ** 3;
const DISK_LOW_FRACTION = 0.05;
/** A rotation this long before a block began may explain it (the booth kept the old password). */
const ROTATION_EXPLAINS_MS = 24 * 3600_000;
/**
 * Refusals that get no banner of their own: the server's load rather than the booth's setup, and
 * the throttle's refusals, which the "blocked" banner tells live (shown on the cards all the same).
 */
const QUIET_REFUSALS = new Set([
  "too_many_attempts",
  "queue_busy",
  "service_unavailable",
  "storage_full",
  "insufficient_storage",
]);

function iso(d: Date | null | undefined): string | null {
  return d ? new Date(d).toISOString() : null;
}

export async function slotAttention(
  services: Pick<Services, "store">,
  now: Date,
): Promise<Map<string, SlotAttention>> {
  const since = new Date(now.getTime() - ATTENTION_WINDOW_MS);
  const [health, refusals] = await Promise.all([
    services.store.jobs.slotHealth(since),
    services.store.attention.refusalsSince(since),
  ]);
  const bySlot = new Map<string, RefusalRow[]>();
  for (const r of refusals) bySlot.set(r.slot_id, [...(bySlot.get(r.slot_id) ?? []), r]);
  const out = new Map<string, SlotAttention>();
  for (const h of health) {
    const fail = h.last_failure_at ? new Date(h.last_failure_at).getTime() : null;
    const ok = h.last_success_at ? new Date(h.last_success_at).getTime() : null;
    out.set(h.id, {
      slotId: h.id,
      name: h.name,
      enabled: h.enabled,
      failing: fail !== null && fail >= since.getTime() && (ok === null || fail > ok),
      lastFailureAt: iso(h.last_failure_at),
      lastFailureReason: h.last_failure_reason,
      lastFailureMessage: h.last_failure_message,
      lastSuccessAt: iso(h.last_success_at),
      failuresInWindow: h.failures_since,
      refusals: (bySlot.get(h.id) ?? []).map((r) => ({
        reason: r.reason,
        count: r.count,
        lastAt: new Date(r.last_at).toISOString(),
      })),
    });
  }
  return out;
}

/** Everything the banner shows. A database that does not answer is itself the banner. */
export async function attention(
  services: Pick<Services, "store" | "settings" | "media" | "log">,
  now: Date,
): Promise<Attention> {
  let slots: Map<string, SlotAttention>;
  let cleaner: CleanupRunRow | null;
  let rotatedAt: Date | null;
  let instances: InstanceInfo[];
  let blocks: Block[];
  try {
    [slots, cleaner, rotatedAt, instances, blocks] = await Promise.all([
      slotAttention(services, now),
      services.store.cleanupRuns.lastStarted(),
      // the password set on the first start is no rotation: nobody changed it
      services.settings
        .meta(KEYS.ingestPassword)
        .then((m) => (m.updatedBy === "first-start" ? null : m.updatedAt)),
      services.store.instances.list(LEASE_TTL_MS, 0),
      listBlocks(services, now),
    ]);
  } catch (err) {
    services.log.warn("attention.unavailable", { error: String(err) });
    return { slots: new Map(), banners: [{ kind: "database" }] };
  }
  const banners: Banner[] = [];
  const failing = [...slots.values()].filter((s) => s.failing);
  if (failing.length) {
    banners.push({
      kind: "failing",
      slots: failing.map((s) => ({
        id: s.slotId,
        name: s.name,
        failures: s.failuresInWindow,
        reason: s.lastFailureReason,
        lastFailureAt: s.lastFailureAt,
      })),
    });
  }
  const byReason = new Map<string, { id: string; name: string; count: number; lastAt: string }[]>();
  for (const s of slots.values()) {
    for (const r of s.refusals) {
      if (QUIET_REFUSALS.has(r.reason)) continue;
      byReason.set(r.reason, [
        ...(byReason.get(r.reason) ?? []),
        { id: s.slotId, name: s.name, count: r.count, lastAt: r.lastAt },
      ]);
    }
  }
  for (const [reason, list] of byReason) {
    const afterRotation =
      reason === "invalid_credentials" &&
      rotatedAt !== null &&
      list.some((x) => new Date(x.lastAt).getTime() > new Date(rotatedAt).getTime());
    banners.push({ kind: "refusals", reason, afterRotation, slots: list });
  }
  const booths = blocks.filter((b) => b.scope === "ingest");
  if (booths.length) {
    banners.push({
      kind: "blocked",
      blocks: booths.map((b) => ({
        ...b,
        afterRotation:
          rotatedAt !== null && new Date(rotatedAt).getTime() >= b.since.getTime() - ROTATION_EXPLAINS_MS,
      })),
    });
  }
  const media = await mediaState(services.media);
  if (media.health.failingSince) {
    banners.push({
      kind: "bucket",
      since: media.health.failingSince.toISOString(),
      error: media.health.error,
      waiting: media.spool?.files ?? 0,
    });
  }
  try {
    const disk = await services.media.diskUsage();
    if (disk.total > 0 && (disk.free < DISK_LOW_BYTES || disk.free / disk.total < DISK_LOW_FRACTION)) {
      banners.push({ kind: "disk", freeBytes: disk.free, totalBytes: disk.total });
    }
  } catch {
    // the readiness probe reports an unreadable media root; the banner stays about what it knows
  }
  // a cleaner is only "silent" once some instance has been up longer than it may stay quiet
  const running = instances.filter((i) => i.live).map((i) => new Date(i.startedAt).getTime());
  const started = running.length ? Math.min(...running) : now.getTime();
  const lastFinished = cleaner?.finishedAt ? cleaner.finishedAt.getTime() : null;
  if (cleaner?.error) {
    banners.push({ kind: "cleaner", lastFinishedAt: iso(cleaner.finishedAt), error: cleaner.error });
  } else if (
    now.getTime() - started > CLEANER_SILENT_MS &&
    (lastFinished === null || now.getTime() - lastFinished > CLEANER_SILENT_MS)
  ) {
    banners.push({ kind: "cleaner", lastFinishedAt: iso(cleaner?.finishedAt), error: null });
  }
  return { slots, banners };
}
