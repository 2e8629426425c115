/**
 * What the operator is told needs them — the view models of the banner, the dashboard's slot cards
 * and the slot page (computed by modules/attention, drawn by templates/), and which condition an
 * acknowledgement holds. Plain data and pure functions: the templates read these, not the services.
 */

/** What a wrong-password throttle guards: the booth's ingest password or an admin's login. */
export type ThrottleScope = "ingest" | "login";

/** A key blocked for wrong passwords. */
export interface Block {
  scope: ThrottleScope;
  key: string;
  /** The address the block is for (the key of an ingest block, the part after `|` of a login's). */
  address: string;
  /** The admin whose login is blocked (login blocks only). */
  username: string | null;
  /** Wrong passwords counted since `since`. */
  failures: number;
  since: Date;
  until: Date;
}

export interface SlotRefusal {
  reason: string;
  count: number;
  lastAt: string;
}

export interface SlotAttention {
  slotId: string;
  name: string;
  enabled: boolean;
  /** The newest booth job failed, within the window. */
  failing: boolean;
  lastFailureAt: string | null;
  lastFailureReason: string | null;
  lastFailureMessage: string | null;
  lastSuccessAt: string | null;
  failuresInWindow: number;
  refusals: SlotRefusal[];
}

export type Banner =
  | {
      kind: "failing";
      slots: {
        id: string;
        name: string;
        failures: number;
        reason: string | null;
        /** The slot's newest failure (a newer one brings an acknowledged banner back). */
        lastFailureAt: string | null;
      }[];
    }
  | {
      kind: "refusals";
      reason: string;
      afterRotation: boolean;
      slots: { id: string; name: string; count: number }[];
    }
  | {
      kind: "blocked";
      /** Booth addresses blocked for wrong ingest passwords; `afterRotation`: a rotation may explain it. */
      blocks: (Block & { afterRotation: boolean })[];
    }
  | { kind: "disk"; freeBytes: number; totalBytes: number }
  | { kind: "cleaner"; lastFinishedAt: string | null; error: string | null }
  | { kind: "database" }
  /** The bucket's calls fail (since when, why); `waiting`: results kept in this server's spool. */
  | { kind: "bucket"; since: string; error: string | null; waiting: number };

export interface Attention {
  slots: Map<string, SlotAttention>;
  /** What needs the operator (for one admin: without what they acknowledged, see modules/attention/acks.ts). */
  banners: Banner[];
  /** How many banners the admin acknowledged and are not shown. */
  acknowledged?: number;
}

/** What a banner is about and in which condition; null: it cannot be acknowledged. */
export function bannerIdentity(b: Banner): { key: string; fingerprint: string } | null {
  const sorted = (xs: string[]) => [...xs].sort().join(",");
  switch (b.kind) {
    case "failing":
      // a new failure (or another slot failing) brings it back
      return { key: "failing", fingerprint: sorted(b.slots.map((s) => `${s.id}@${s.lastFailureAt ?? "-"}`)) };
    case "refusals":
      return { key: `refusals:${b.reason}`, fingerprint: sorted(b.slots.map((s) => s.id)) };
    case "blocked":
      return {
        key: "blocked",
        fingerprint: sorted(b.blocks.map((k) => `${k.key}@${k.since.toISOString()}`)),
      };
    case "disk":
      // comes back each time the free space halves
      return { key: "disk", fingerprint: String(Math.floor(Math.log2(Math.max(1, b.freeBytes)))) };
    case "cleaner":
      return { key: "cleaner", fingerprint: `${b.error ? "failed" : "silent"}@${b.lastFinishedAt ?? "-"}` };
    case "bucket":
      // acknowledged for this outage; a new one (another start) brings it back
      return { key: "bucket", fingerprint: b.since };
    case "database":
      return null;
  }
}
