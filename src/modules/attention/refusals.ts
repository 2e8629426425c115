/**
 * Booth requests refused before a job existed, counted so the operator sees them (dashboard, slot
 * page, banner). Counting never delays or changes the booth's answer: it runs after the answer is
 * decided, and a database error only ends up in the log.
 */
import { slotLabel } from "../../metrics";
import type { Services } from "../../services";

/** Outcomes that are not the booth's problem to see on a slot (no such slot: nothing to show it on). */
const NOT_RECORDED = new Set(["slot_not_found", "client_closed"]);

export function noteRefusal(
  services: Pick<Services, "store" | "clock" | "log">,
  slotId: string,
  outcome: string,
): void {
  const slot = slotLabel(slotId);
  if (slot === "unknown" || NOT_RECORDED.has(outcome)) return;
  services.store.attention
    .recordRefusal(slot, outcome, services.clock.now())
    .catch((err: unknown) =>
      services.log.warn("ingest.refusal_not_recorded", { slot, outcome, error: String(err) }),
    );
}
