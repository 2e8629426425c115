/**
 * Row 5 — deadline precision. With T_sync at its minimum (10 s) and a provider that needs longer,
 * N booths post at once; each must get 504 `sync_timeout` as soon as its job's `expires_at` passes.
 * Lateness = time the 504 arrived − `details.expires_at` (same host, same wall clock).
 */
import postgres from "postgres";
import { type BenchServer, ingest } from "./env";

export interface DeadlineRun {
  statuses: Record<string, number>;
  lateness: number[];
  /** finalized_at − expires_at: how late the server finalized the job as timeout. */
  finalizeLag: number[];
  /** answer received − finalized_at: from the timeout row to the booth's 504. */
  answerLag: number[];
}

export async function measureDeadline(
  server: BenchServer,
  slotId: string,
  photo: Uint8Array,
  n: number,
): Promise<DeadlineRun> {
  const statuses: Record<string, number> = {};
  const lateness: number[] = [];
  const received = new Map<string, number>();
  await Promise.all(
    Array.from({ length: n }, async () => {
      const r = await ingest(server, slotId, photo);
      statuses[r.status] = (statuses[r.status] ?? 0) + 1;
      if (r.status !== 504) return;
      const body = JSON.parse(new TextDecoder().decode(r.body)) as {
        error: { code: string; details: { expires_at: string } };
      };
      lateness.push(r.receivedAt - Date.parse(body.error.details.expires_at));
      if (r.jobId) received.set(r.jobId, r.receivedAt);
    }),
  );
  const finalizeLag: number[] = [];
  const answerLag: number[] = [];
  const sql = postgres(server.env.DATABASE_URL!, { max: 1, onnotice: () => {} });
  try {
    const ids = [...received.keys()];
    const rows = ids.length
      ? await sql<{ id: string; expires: number; finalized: number }[]>`
          select id, extract(epoch from expires_at) * 1000 as expires,
                 extract(epoch from finalized_at) * 1000 as finalized
          from job where id in ${sql(ids)}`
      : [];
    for (const r of rows) {
      finalizeLag.push(Number(r.finalized) - Number(r.expires));
      answerLag.push(received.get(r.id)! - Number(r.finalized));
    }
  } finally {
    await sql.end({ timeout: 5 });
  }
  return { statuses, lateness, finalizeLag, answerLag };
}
