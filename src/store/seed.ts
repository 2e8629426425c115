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

/**
 * `n` jobs, one a minute back from now (≈1.9 years for a million), for query-plan tests on a
 * scratch database only: the load skips the WAL and the job table's indexes and foreign keys
 * (rebuilt after it, as a bulk load would; the two foreign keys to job are not restored).
 * 5 % test runs; 80 % succeeded, 8 % failed (reasons cycle), 9 % timeouts, 3 % cancelled; the
 * newest few still pending or processing.
 */
export async function seedBulkJobHistory(database: Pick<Database, "sql">, n: number): Promise<void> {
  const { sql } = database;
  const indexes = await sql<{ indexname: string; indexdef: string }[]>`
    select indexname, indexdef from pg_indexes
    where tablename = 'job' and indexname <> 'job_pkey'`;
  await sql.begin(async (tx) => {
    // A scratch database: skip the WAL for the load (an unlogged table cannot be referenced by
    // logged ones, so the two foreign keys to job go first). Plans do not depend on either.
    await tx.unsafe("alter table processing_log drop constraint processing_log_job_id_job_id_fk");
    await tx.unsafe("alter table media_object drop constraint media_object_job_id_job_id_fk");
    await tx.unsafe("alter table job set unlogged");
    await tx.unsafe("set local maintenance_work_mem = '256MB'");
    // …and the per-row check of job.slot_id → slot (the seed only uses real slots).
    await tx.unsafe("set local session_replication_role = replica");
    for (const i of indexes) await tx.unsafe(`drop index ${i.indexname}`);
    // One job a minute for ~1.9 years: 5 % test runs; 80 % succeeded, 8 % failed (reasons cycle),
    // 9 % timeouts, 3 % cancelled; the newest few still pending or processing.
    await tx.unsafe(`
      insert into job (id, slot_id, source, status, failure_reason, provider, operation, settings,
        output_format, created_at, started_at, finalized_at, expires_at, provider_latency_ms, result_path)
      select ('00000000-0000-4000-8000-' || lpad(to_hex(i), 12, '0'))::uuid,
        'slot-' || lpad((1 + i % 15)::text, 3, '0'),
        case when i % 20 = 7 then 'test_run' else 'ingest' end,
        s.status,
        case s.status when 'failed' then (array['provider_error','provider_blocked','invalid_config',
          'interrupted','internal_error'])[1 + i % 5] when 'timeout' then 'timeout'
          when 'cancelled' then 'cancelled' end,
        (array['gemini','turbotext','openai','local'])[1 + i % 4], 'image_edit', '{}'::jsonb, 'jpeg',
        c.at, c.at, case when s.status not in ('pending','processing') then c.at + (i % 47000) * interval '1 ms' end,
        c.at + interval '48 s',
        case when s.status in ('succeeded','failed') then 500 + i % 40000 end,
        case when s.status = 'succeeded' then 'results/' || i || '.jpg' end
      from generate_series(1, ${n}) as i
      cross join lateral (select now() - i * interval '1 minute' as at) c
      cross join lateral (select case
        when i <= 5 then (array['pending','processing'])[1 + i % 2]
        when i % 100 < 80 then 'succeeded' when i % 100 < 88 then 'failed'
        when i % 100 < 97 then 'timeout' else 'cancelled' end as status) s`);
    for (const i of indexes) await tx.unsafe(i.indexdef);
  });
}
