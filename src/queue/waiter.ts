/**
 * Holds a request until its job is final: woken in-process (or by NOTIFY, or by the process's
 * batched safety-net read, events.ts pollWaiting) when the job finalizes, and reading it one last
 * time at the deadline — where, if the job is still running, the waiter itself finalizes it as
 * `timeout`. A waiter reads its row only when woken or at the deadline: no read of a job it has
 * just inserted, and no re-read per second per held request.
 * Database errors do not end the wait: the waiter keeps reading until the deadline (plus a short
 * grace for the final read), and if the database is still unreachable then it says so. The give-up
 * time is a timer, not a database answer: a call still running then is left to finish on its own,
 * and the booth gets its 504 with the job id at the deadline plus the grace at worst.
 */
import type { JobRow } from "../db/schema";
import { isFinal } from "../domain/outcome";
import { type Clock, sleep, sleepWithin } from "../lib/clock";
import { isDatabaseUnavailable } from "../lib/http";
import type { JobEvents } from "./events";
import type { JobQueue } from "./index";

/** After the deadline, how long the waiter keeps trying to read (or expire) the job through errors. */
export const FINAL_READ_GRACE_MS = 3000;
/** Between reads that failed for want of the database, once past the deadline. */
const RETRY_AFTER_DEADLINE_MS = 250;
/** Before the deadline, after a read the database refused (the outage may be short). */
const RETRY_AFTER_FAILURE_MS = 1000;

/** The job's outcome could not be read by the deadline (the database stayed unreachable). */
export const UNCONFIRMED = "unconfirmed" as const;

export async function waitForOutcome(
  deps: { queue: JobQueue; events: JobEvents; clock: Clock },
  jobId: string,
  expiresAt: Date,
  signal?: AbortSignal,
): Promise<JobRow | null | typeof UNCONFIRMED> {
  const { queue, events, clock } = deps;
  // A wake-up that lands while the row is being read must not be lost: it is remembered and the
  // row read again at once. Nothing is read before the first wake-up (the job was just queued).
  let woken = false;
  let read = false;
  let wake: () => void = () => {
    woken = true;
  };
  // A finalization in this process hands over its own row: the booth is answered from it without
  // reading the job again (a NOTIFY from another process carries no row, so that one re-reads).
  let finalRow: JobRow | null = null;
  const off = events.onFinalized(jobId, (row) => {
    if (row) finalRow = row;
    wake();
  });
  const giveUpAt = expiresAt.getTime() + FINAL_READ_GRACE_MS;
  let gaveUp: (v: typeof UNCONFIRMED) => void = () => {};
  const givingUp = new Promise<typeof UNCONFIRMED>((resolve) => {
    gaveUp = resolve;
  });
  const cancelGiveUp = clock.setTimer(giveUpAt - clock.now().getTime(), () => gaveUp(UNCONFIRMED));
  /** A database call, or UNCONFIRMED once the give-up time comes first (the call's answer is dropped). */
  const beforeGiveUp = <T>(call: Promise<T>): Promise<T | typeof UNCONFIRMED> => {
    call.catch(() => {});
    return Promise.race([call, givingUp]);
  };
  try {
    for (;;) {
      if (finalRow) return finalRow;
      if (signal?.aborted) return null;
      woken = false;
      wake = () => {
        woken = true;
      };
      let failed = false;
      let finishing = false;
      const due = expiresAt.getTime() <= clock.now().getTime();
      if (read || due) {
        read = false;
        try {
          // At the deadline the fenced expiry comes first: the booth's 504 is one statement away,
          // and if the job ended at the edge (or the clock is ahead) the read below decides.
          if (due) {
            const expired = await beforeGiveUp(queue.expire(jobId));
            if (expired) return expired;
          }
          const row = await beforeGiveUp(queue.get(jobId));
          if (row === UNCONFIRMED) return UNCONFIRMED;
          if (!row) return null;
          // A row this process is still finishing (its files being removed) is answered from its
          // wake-up, which follows the clean-up: the booth never hears of a half-finished job.
          if (isFinal(row.status)) {
            if (!events.isFinalizingHere(jobId)) return row;
            finishing = true;
          }
        } catch (err) {
          if (!isDatabaseUnavailable(err)) throw err;
          // Keep reading through the blip; past the deadline and its grace, answer without the row.
          if (clock.now().getTime() >= giveUpAt) return UNCONFIRMED;
          failed = true;
        }
      }
      const left = expiresAt.getTime() - clock.now().getTime();
      if (signal?.aborted) return null;
      if (woken) {
        read = true;
        continue;
      }
      const pause = new AbortController();
      wake = () => {
        read = true;
        pause.abort();
      };
      signal?.addEventListener("abort", wake, { once: true });
      // Before the deadline: until a wake-up (in-process, NOTIFY or the batched safety net), at the
      // latest until the clock reaches the deadline. A read that failed is tried again after a
      // pause (woken or not). After the deadline: a short pause between reads the database refused
      // (or while this process finishes the job; its wake-up ends the pause).
      try {
        if (left > 0) {
          await sleepWithin(clock, failed ? RETRY_AFTER_FAILURE_MS : left, expiresAt, pause.signal);
          if (failed) read = true;
        } else await sleep(failed || finishing ? RETRY_AFTER_DEADLINE_MS : 1, pause.signal);
      } finally {
        signal?.removeEventListener("abort", wake);
      }
    }
  } finally {
    cancelGiveUp();
    off();
  }
}
