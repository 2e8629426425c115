/**
 * The queue's NOTIFY channels and the one LISTEN on them. A notification is only a hint (the
 * pg-boss habit): the waiters' and workers' slow polls stay the truth.
 */
import type { Sql } from "../../db/client";

export const CHANNEL_JOB_DONE = "photochanger_job_done";
export const CHANNEL_JOB_NEW = "photochanger_job_new";

/**
 * Relays NOTIFY from other processes (and our own) to the handlers: a job finalized, a job queued.
 * After a (re)connect a hint may have been missed, so `onQueued` is called then too.
 */
export async function listenForJobs(
  sql: Sql,
  handlers: { onFinalized(jobId: string): void; onQueued(jobId: string | null): void; onConnected?(): void },
): Promise<{ unlisten(): Promise<void> }> {
  const done = await sql.listen(
    CHANNEL_JOB_DONE,
    (payload) => handlers.onFinalized(payload),
    () => handlers.onConnected?.(),
  );
  const queued = await sql.listen(
    CHANNEL_JOB_NEW,
    (payload) => handlers.onQueued(payload || null),
    () => handlers.onQueued(null),
  );
  return {
    async unlisten() {
      await done.unlisten().catch(() => {});
      await queued.unlisten().catch(() => {});
    },
  };
}
