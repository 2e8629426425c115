/**
 * Time-limited public links to the gallery (table `share_link`): created by an admin with an
 * expiry that is persisted, revocable, and viewed by guests under a per-link rate limit.
 */
import { randomBytes } from "node:crypto";
import { AppError } from "../../lib/errors";
import type { Services } from "../../services";
import type { ShareLinkRow } from "../../store/index";

export const SHARE_DURATIONS_MIN = [15, 60, 240, 1440] as const;
/** Guest views per link per minute. */
export const SHARE_VIEWS_PER_MINUTE = 30;

type ShareDeps = Pick<Services, "store" | "settings" | "clock">;

export async function createShareLink(
  services: ShareDeps,
  by: string,
  minutes: number,
): Promise<ShareLinkRow> {
  if (!(SHARE_DURATIONS_MIN as readonly number[]).includes(minutes)) {
    throw new AppError("validation_failed", "Unsupported share duration", {
      fields: [{ field: "minutes", message: `Expected one of ${SHARE_DURATIONS_MIN.join(", ")}` }],
    });
  }
  const now = services.clock.now();
  const row = await services.store.shareLinks.insert({
    id: randomBytes(24).toString("base64url"),
    createdBy: by,
    createdAt: now,
    expiresAt: new Date(now.getTime() + minutes * 60_000),
  });
  await services.settings.audit(by, "gallery.shared", {
    share_id: row.id,
    expires_at: row.expiresAt.toISOString(),
  });
  return row;
}

export function activeShareLinks(services: ShareDeps): Promise<ShareLinkRow[]> {
  return services.store.shareLinks.active(services.clock.now());
}

export async function revokeShareLink(services: ShareDeps, id: string, by: string): Promise<void> {
  await services.store.shareLinks.revoke(id, services.clock.now());
  await services.settings.audit(by, "gallery.share_revoked", { share_id: id });
}

/** The link if it may be viewed now, else null (unknown, revoked or expired). */
export async function usableShareLink(services: ShareDeps, id: string): Promise<ShareLinkRow | null> {
  if (!/^[A-Za-z0-9_-]{32}$/.test(id)) return null;
  const row = await services.store.shareLinks.get(id);
  if (!row || row.revokedAt || row.expiresAt.getTime() <= services.clock.now().getTime()) return null;
  return row;
}

/** A sliding one-minute window per key, in memory (a guest link is a low-stakes, per-process limit). */
export class ViewLimiter {
  private readonly hits = new Map<string, number[]>();
  constructor(
    private readonly perMinute: number,
    private readonly now: () => number,
  ) {}

  /** Records a view; false when the key is over its limit. */
  allow(key: string): boolean {
    const t = this.now();
    const recent = (this.hits.get(key) ?? []).filter((at) => t - at < 60_000);
    if (recent.length >= this.perMinute) {
      this.hits.set(key, recent);
      return false;
    }
    recent.push(t);
    this.hits.set(key, recent);
    if (this.hits.size > 1000) {
      for (const [k, v] of this.hits) if (!v.some((at) => t - at < 60_000)) this.hits.delete(k);
    }
    return true;
  }
}
