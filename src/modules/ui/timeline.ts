/**
 * A job's processing log as the job page tells it. Two things the raw rows would say wrongly: a job
 * whose slot could not run (no key, no template) was "dispatched" — taken by a worker — but never
 * sent to a provider, so it gets neither "sent to provider" nor "provider error"; and the failure's
 * sentence, already in the page's error box, is not repeated on every row after it.
 */
import { reachedProvider } from "../../domain/outcome";

export interface TimelineStep {
  event: string;
  at: string;
  offsetMs: number;
  message: string | null;
  details: Record<string, unknown>;
}

const CALLED = new Set(["provider_responded", "retry", "late_result_discarded"]);

export function tellTimeline(steps: TimelineStep[], job: { errorMessage: string | null }): TimelineStep[] {
  const failedBeforeCall = (s: TimelineStep) =>
    s.event === "provider_failed" && !reachedProvider(String(s.details.reason ?? ""));
  const called = steps.some(
    (s) => CALLED.has(s.event) || (s.event === "provider_failed" && !failedBeforeCall(s)),
  );
  const out: TimelineStep[] = [];
  let carried: unknown;
  for (const s of steps) {
    if (failedBeforeCall(s)) {
      carried = s.details.reason; // said by the final row instead
      continue;
    }
    const step = { ...s, details: { ...s.details } };
    if (s.event === "dispatched" && !called) step.event = "claimed";
    if ((s.event === "failed" || s.event === "fallback") && carried !== undefined && !step.details.reason) {
      step.details.reason = carried;
      carried = undefined;
    }
    if (job.errorMessage) {
      if (step.message === job.errorMessage) step.message = null;
      if (step.details.error === job.errorMessage) delete step.details.error;
    }
    out.push(step);
  }
  return out;
}
