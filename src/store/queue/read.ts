/** The queue's own reads of `job`: one row, states, the files rows point at, re-runs, counts. */
import type { Sql } from "../../db/client";
import type { JobRow } from "../../db/schema";
import { ACTIVE_STATUSES as ACTIVE } from "../../domain/outcome";
import { toJob } from "./rows";

/** Which of these job ids exist, and whether they are still active. */
export async function jobStates(sql: Sql, ids: string[]): Promise<Map<string, string>> {
  if (!ids.length) return new Map();
  const rows = await sql<{ id: string; status: string }[]>`
    select id::text, status from job where id = any(${sql.array(ids)}::uuid[])`;
  return new Map(rows.map((r) => [r.id, r.status]));
}

/**
 * The files these jobs still point at: results and thumbnails not yet expired or deleted, and the
 * photos kept (of active jobs, and of failures waiting for a re-run).
 */
export async function referencedFiles(sql: Sql, ids: string[]): Promise<Set<string>> {
  if (!ids.length) return new Set();
  const rows = await sql<{ a: string | null; b: string | null; c: string | null }[]>`
    select case when result_deleted_at is null then result_path end as a,
      case when result_deleted_at is null then thumb_path end as b, payload_path as c
    from job where id = any(${sql.array(ids)}::uuid[])`;
  return new Set(rows.flatMap((r) => [r.a, r.b, r.c]).filter((p): p is string => !!p));
}

/** The jobs that re-ran `id`, oldest first. */
export async function rerunsOf(sql: Sql, id: string): Promise<{ id: string; status: string }[]> {
  return sql<{ id: string; status: string }[]>`
    select id::text, status from job where rerun_of = ${id} order by created_at, id`;
}

export async function getJob(sql: Sql, id: string): Promise<JobRow | null> {
  const rows = await sql`select * from job where id = ${id}`;
  return rows[0] ? toJob(rows[0]) : null;
}

export async function countActive(sql: Sql): Promise<{ pending: number; processing: number }> {
  const rows = await sql<{ status: string; n: number }[]>`
    select status, count(*)::int as n from job where status in ${sql(ACTIVE)} group by status`;
  const out = { pending: 0, processing: 0 };
  for (const r of rows) out[r.status as "pending" | "processing"] = r.n;
  return out;
}
