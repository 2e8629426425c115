/**
 * What the operator must notice, in SQL: booth refusals counted per slot/reason/hour (an upsert, so
 * a flood of refused requests only bumps counters), each slot's recent failures, the cleaner's last
 * run, and the notifier's per-slot state (announced once per change, whichever instance sees it).
 */
import type { Sql } from "../db/client";
import { bindSql } from "./bind";
import { lastOutcomeJoins } from "./job-stats";

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

export interface SlotHealthRow {
  id: string;
  name: string;
  enabled: boolean;
  last_success_at: Date | null;
  last_failure_at: Date | null;
  last_failure_reason: string | null;
  last_failure_message: string | null;
  failures_since: number;
}

/**
 * Each slot's newest booth success and failure (one index probe each) and the number of booth
 * failures finished since `since`. An admin's cancel is not the slot failing, so it is left out.
 */
export async function slotHealth(sql: Sql, since: Date): Promise<SlotHealthRow[]> {
  return sql<SlotHealthRow[]>`
    select s.id, s.name, s.enabled,
      ok.finalized_at as last_success_at,
      bad.finalized_at as last_failure_at,
      coalesce(bad.failure_reason, bad.status) as last_failure_reason,
      bad.error_message as last_failure_message,
      coalesce(n.c, 0)::int as failures_since
    from slot s
    ${lastOutcomeJoins(sql, "without-cancels")}
    left join lateral (
      select count(*) as c from job
      where slot_id = s.id and source = 'ingest' and status in ('failed', 'timeout')
        and finalized_at >= ${since}
    ) n on true
    order by s.id`;
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
    slotHealth,
    changeNotifyState,
  });
}
export type AttentionStore = ReturnType<typeof openAttentionStore>;
