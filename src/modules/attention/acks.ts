/**
 * Acknowledged banners: an admin who has seen a banner hides it until its condition changes — a
 * new failure of a slot (or another slot failing), another address blocked (or blocked again),
 * refusals reach another slot, the free disk halves, the cleaner fails differently. Each banner has
 * a key (what it is about) and a fingerprint (the condition); an acknowledgement holds both, per
 * admin. One whose banner is gone or changed is forgotten, so the next occurrence shows again; none
 * outlives ACK_MAX_AGE_MS (a night away is a new evening). A database outage cannot be acknowledged.
 */

import { type Attention, bannerIdentity } from "../../domain/attention";
import type { Services } from "../../services";
import { attention } from "./service";

export const ACK_MAX_AGE_MS = 12 * 3600_000;

type Deps = Pick<Services, "store" | "settings" | "media" | "log">;

/** The banners as one admin sees them: without those acknowledged in their present condition. */
export async function attentionFor(services: Deps, username: string, now: Date): Promise<Attention> {
  const all = await attention(services, now);
  if (all.banners.some((b) => b.kind === "database")) return all;
  try {
    const acks = await services.store.attentionAcks.forUser(username);
    if (!acks.length) return { ...all, acknowledged: 0 };
    const current = new Map<string, string>();
    for (const b of all.banners) {
      const id = bannerIdentity(b);
      if (id) current.set(id.key, id.fingerprint);
    }
    const oldest = now.getTime() - ACK_MAX_AGE_MS;
    const holds = (a: (typeof acks)[number]) =>
      current.get(a.key) === a.fingerprint && a.acknowledgedAt.getTime() >= oldest;
    const stale = acks.filter((a) => !holds(a)).map((a) => a.key);
    if (stale.length) await services.store.attentionAcks.forget(username, stale, new Date(oldest));
    const hidden = new Set(acks.filter(holds).map((a) => a.key));
    return {
      ...all,
      banners: all.banners.filter((b) => !hidden.has(bannerIdentity(b)?.key ?? "")),
      acknowledged: hidden.size,
    };
  } catch (err) {
    // acknowledgements that cannot be read hide nothing
    services.log.warn("attention.acks_unavailable", { error: String(err) });
    return all;
  }
}

/**
 * The admin has seen the banner `key` in the condition `fingerprint`. Only a banner shown now, in
 * that very condition, is acknowledged: one that changed since the page was drawn stays.
 */
export async function acknowledge(
  services: Deps,
  username: string,
  key: string,
  fingerprint: string,
  now: Date,
): Promise<boolean> {
  const { banners } = await attention(services, now);
  const shown = banners.map(bannerIdentity).find((id) => id?.key === key);
  if (!shown || shown.fingerprint !== fingerprint) return false;
  await services.store.attentionAcks.put(username, key, fingerprint, now);
  return true;
}
