/**
 * Row 5 — deadline precision. With T_sync at its minimum (10 s) and a provider that needs longer,
 * N booths post at once; each must get 504 `sync_timeout` as soon as its job's `expires_at` passes.
 * Lateness = time the 504 arrived − `details.expires_at` (same host, same wall clock).
 */
import { type BenchServer, ingest } from "./env";

export interface DeadlineRun {
  statuses: Record<string, number>;
  lateness: number[];
}

export async function measureDeadline(
  server: BenchServer,
  slotId: string,
  photo: Uint8Array,
  n: number,
): Promise<DeadlineRun> {
  const statuses: Record<string, number> = {};
  const lateness: number[] = [];
  await Promise.all(
    Array.from({ length: n }, async () => {
      const r = await ingest(server, slotId, photo);
      statuses[r.status] = (statuses[r.status] ?? 0) + 1;
      if (r.status !== 504) return;
      const body = JSON.parse(new TextDecoder().decode(r.body)) as {
        error: { code: string; details: { expires_at: string } };
      };
      lateness.push(r.receivedAt - Date.parse(body.error.details.expires_at));
    }),
  );
  return { statuses, lateness };
}
