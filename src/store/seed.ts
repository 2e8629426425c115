/**
 * History for tests and benchmarks — never called by the product. The queue only ever creates jobs
 * "now", one at a time; statistics and retention need months of finished jobs in seconds, so these
 * write job rows as they would stand after the product had run them. Nothing else writes product
 * rows from outside the product (tests configure slots and settings through the services).
 */
import type { Database } from "../db/client";
import { job, type NewJobRow } from "../db/schema";

/** Writes finished (or still running) job rows as history, in batches; returns them as written. */
export async function seedJobHistory(
  database: Pick<Database, "db">,
  rows: NewJobRow[],
): Promise<NewJobRow[]> {
  for (let i = 0; i < rows.length; i += 500) await database.db.insert(job).values(rows.slice(i, i + 500));
  return rows;
}

/** Fills the queue with `n` pending no-op jobs (local passthrough, far deadline) for claim benchmarks. */
export async function seedPendingJobs(database: Pick<Database, "sql">, n: number): Promise<void> {
  const { sql } = database;
  await sql`
    insert into job (id, slot_id, source, status, provider, operation, settings, output_format,
                     created_at, expires_at)
    select gen_random_uuid(), 'slot-001', 'ingest', 'pending', 'local', 'passthrough', '{}', 'original',
           now() - make_interval(secs => ${n} - g), now() + interval '1 day'
    from generate_series(1, ${n}) g`;
  await sql`analyze job`;
}
