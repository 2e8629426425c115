/**
 * What the operator must notice, in SQL: booth refusals counted per slot/reason/hour (an upsert, so
 * a flood of refused requests only bumps counters) and the notifier's per-slot state (announced once
 * per change, whichever instance sees it). Each slot's health, read from `job`, is the job store's.
 */
import type { Sql } from "../db/client";
import { bindSql } from "./bind";

/** Refusals are counted in buckets of this length. */
export const REFUSAL_BUCKET_MS = 60 * 60_000;
/** Refusal counters older than this are deleted by the cleaner. */
export const REFUSAL_RETENTION_MS = 30 * 86_400_000;

function bucketOf(at: Date): Date {
  return new Date(Math.floor(at.getTime() / REFUSAL_BUCKET_MS) * REFUSAL_BUCKET_MS);
}

/** Counts one refused booth request (one statement; concurrent refusals serialize on the row). */
export async function recordRefusal(sql: Sql, slotId: string, reason: string, at: Date): Promise<void> {
  await sql`
    insert into ingest_refusal (slot_id, reason, bucket, count, first_at, last_at)
    values (${slotId}, ${reason}, ${bucketOf(at)}, 1, ${at}, ${at})
    on conflict (slot_id, reason, bucket) do update
      set count = ingest_refusal.count + 1,
          last_at = greatest(ingest_refusal.last_at, excluded.last_at)`;
}

export interface RefusalRow {
  slot_id: string;
  reason: string;
  count: number;
  last_at: Date;
}

/** Refusals per slot and reason in the buckets overlapping [since, now]. */
export async function refusalsSince(sql: Sql, since: Date, slotId?: string): Promise<RefusalRow[]> {
  const rows = await sql<RefusalRow[]>`
    select slot_id, reason, sum(count)::int as count, max(last_at) as last_at
    from ingest_refusal
    where bucket >= ${bucketOf(since)} and last_at >= ${since}
      ${slotId ? sql`and slot_id = ${slotId}` : sql``}
    group by slot_id, reason
    order by max(last_at) desc`;
  return rows;
}

export interface RefusalBucket {
  bucket: Date;
  reason: string;
  count: number;
}

/** One slot's refusal counters by hour since `since` (slot page history). */
export async function refusalBuckets(sql: Sql, slotId: string, since: Date): Promise<RefusalBucket[]> {
  return sql<RefusalBucket[]>`
    select bucket, reason, count from ingest_refusal
    where slot_id = ${slotId} and bucket >= ${bucketOf(since)}
    order by bucket desc, reason`;
}

export async function pruneRefusals(sql: Sql, before: Date): Promise<number> {
  const rows = await sql`delete from ingest_refusal where bucket < ${before} returning 1`;
  return rows.length;
}

/**
 * Records that a slot is (not) failing. True only for the caller whose write changed the state, so
 * with several instances each burst and each recovery is announced exactly once.
 */
export async function changeNotifyState(
  sql: Sql,
  slotId: string,
  failing: boolean,
  at: Date,
): Promise<boolean> {
  const rows = await sql`
    insert into notify_state (slot_id, failing, changed_at) values (${slotId}, ${failing}, ${at})
    on conflict (slot_id) do update set failing = excluded.failing, changed_at = excluded.changed_at
      where notify_state.failing is distinct from excluded.failing
    returning (xmax = 0) as inserted`;
  const row = rows[0] as { inserted: boolean } | undefined;
  // a first row saying "not failing" is the quiet baseline, not news
  if (!row) return false;
  return !(row.inserted && !failing);
}

/** The statements above, bound to the client once, as `store.attention`. */
export function openAttentionStore(sql: Sql) {
  return bindSql(sql, {
    recordRefusal,
    refusalsSince,
    refusalBuckets,
    pruneRefusals,
    changeNotifyState,
  });
}
export type AttentionStore = ReturnType<typeof openAttentionStore>;
