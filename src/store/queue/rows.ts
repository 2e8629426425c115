/**
 * What the queue's statements share: the `job` row mapped from postgres.js's snake_case (bigint as
 * string) to the drizzle row shape and back, the provider a job runs on, and a log row's fields.
 * The queue's SQL lives in this folder, one file a verb (the graphile-worker habit): insert, claim,
 * lease, finalize, release, recover, listen — each operation a single statement that can be read
 * and EXPLAINed. Times come from the app clock as parameters, so deadline behaviour is testable
 * without sleeping. The `job` and `processing_log` tables are read and written only here and in the
 * `job-*.ts` files of the store, always with postgres.js.
 */
import { getTableColumns } from "drizzle-orm";
import type { Sql } from "../../db/client";
import { type JobRow, job, type NewJobRow } from "../../db/schema";

// Raw rows are snake_case with bigint as string; map them to the drizzle row shape.
const columns = Object.entries(getTableColumns(job)).map(([key, col]) => ({
  key,
  name: col.name,
  bigint: col.columnType === "PgBigInt53",
}));

export function toJob(row: Record<string, unknown>): JobRow {
  const out: Record<string, unknown> = {};
  for (const c of columns) {
    const v = row[c.name];
    out[c.key] = c.bigint && v !== null && v !== undefined ? Number(v) : v;
  }
  return out as JobRow;
}

export function toColumns(values: NewJobRow): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const c of columns) {
    const v = (values as Record<string, unknown>)[c.key];
    if (v !== undefined) out[c.name] = v;
  }
  return out;
}

/**
 * The provider a job runs on: its fallback's once it went there (src/domain/fallback.ts), else the
 * primary of its snapshot. Per-provider concurrency limits count it there.
 */
export const runsOn = (sql: Sql) =>
  sql.unsafe(`coalesce(case when fallback_used then fallback->>'provider' end, provider)`);

export interface LogEntry {
  jobId: string;
  slotId: string;
  event: string;
  at: Date;
  providerLatencyMs?: number | null;
  message?: string | null;
  details?: Record<string, unknown>;
}
