/**
 * What a banner is about (its key) and in which condition (its fingerprint): an acknowledgement
 * holds both, so a changed condition shows the banner again (see ./acks.ts). Pure, for the
 * template's "got it" button too.
 */
import type { Banner } from "./service";

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
