/**
 * A finished job's files: deleted at the studio's request, a thumbnail made after the fact, a
 * spooled result promoted to the bucket.
 */
import type { Sql } from "../../db/client";
import { ACTIVE_STATUSES as ACTIVE } from "../../domain/outcome";
import type { FinalizedJob } from "./finalize";
import { toJob } from "./rows";

/**
 * Deletes a finished job at the studio's request, in one statement: the row is marked
 * (`deleted_at`, `deleted_by`; its result counts as deleted) and lets go of its photo, result,
 * thumbnail and temporary media, whose paths it returns for removal after the commit (a crash in
 * between leaves files no row points at, which the cleaner removes). The row itself stays for the
 * statistics. Null when the job is still active or already deleted (or unknown).
 */
export async function deleteJob(sql: Sql, id: string, now: Date, by: string): Promise<FinalizedJob | null> {
  const rows = await sql`
    with done as (
      update job set deleted_at = ${now}, deleted_by = ${by}, payload_path = null,
        result_deleted_at = coalesce(result_deleted_at, ${now})
      where id = ${id} and status not in ${sql(ACTIVE)} and deleted_at is null
      returning *
    ),
    objects as (
      update media_object set deleted_at = coalesce(deleted_at, ${now})
      where job_id in (select id from done)
      returning path
    )
    select done.*,
      array_remove(array[p.payload_path, p.result_path, p.thumb_path]
        || coalesce((select array_agg(o.path) from objects o), '{}'), null) as released_paths
    from done join job p on p.id = done.id`;
  const r = rows[0];
  return r ? { row: toJob(r), releasedPaths: (r.released_paths as string[] | null) ?? [] } : null;
}

/**
 * A result kept in the local spool (src/media/spool.ts) is now in the bucket: the job points at the
 * bucket's key. Only while it still points at the spooled copy and the result is kept; false when
 * that changed meanwhile (the cleaner deleted it), so the caller removes what it uploaded.
 */
export async function promoteSpooledResult(sql: Sql, id: string, from: string, to: string): Promise<boolean> {
  const rows = await sql`
    update job set result_path = ${to}
    where id = ${id} and status = 'succeeded' and result_path = ${from} and result_deleted_at is null
    returning id`;
  return rows.length === 1;
}

/** Records a thumbnail made after the fact; false when the result is gone (purged) meanwhile. */
export async function recordThumbnail(sql: Sql, id: string, path: string): Promise<boolean> {
  const rows = await sql`
    update job set thumb_path = ${path}
    where id = ${id} and status = 'succeeded' and result_path is not null and result_deleted_at is null
    returning id`;
  return rows.length === 1;
}
