/**
 * Holds a request until its job is final: woken in-process (or by NOTIFY) when the job finalizes,
 * re-reading the row about once a second as a safety net, and reading it one last time at the
 * deadline — where, if the job is still running, the waiter itself finalizes it as `timeout`.
 */
import type { JobRow } from "../db/schema";
import { isFinal } from "../domain/outcome";
import type { Clock } from "../lib/clock";
import type { JobEvents } from "./events";
import type { JobQueue } from "./index";

const SAFETY_NET_MS = 1000;

export async function waitForOutcome(
  deps: { queue: JobQueue; events: JobEvents; clock: Clock },
  jobId: string,
  expiresAt: Date,
  signal?: AbortSignal,
): Promise<JobRow | null> {
  const { queue, events, clock } = deps;
  // A wake-up that lands while the row is being read must not be lost: it is remembered and the
  // row read again at once, instead of sleeping until the safety net.
  let woken = false;
  let wake: () => void = () => {
    woken = true;
  };
  const off = events.onFinalized(jobId, () => wake());
  try {
    for (;;) {
      woken = false;
      wake = () => {
        woken = true;
      };
      // At the deadline the fenced expiry comes first: the booth's 504 is one statement away, and
      // if the job ended at the edge (or the clock is ahead) the read below decides.
      if (expiresAt.getTime() <= clock.now().getTime()) {
        const expired = await queue.expire(jobId);
        if (expired) return expired;
      }
      const row = await queue.get(jobId);
      if (!row) return null;
      if (isFinal(row.status)) return row;
      const left = expiresAt.getTime() - clock.now().getTime();
      if (signal?.aborted) return null;
      if (woken) continue;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, Math.max(1, Math.min(SAFETY_NET_MS, left)));
        function done() {
          clearTimeout(timer);
          signal?.removeEventListener("abort", done);
          resolve();
        }
        wake = done;
        signal?.addEventListener("abort", done, { once: true });
      });
    }
  } finally {
    off();
  }
}
