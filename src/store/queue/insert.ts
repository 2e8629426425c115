/**
 * Enqueue: a job inserted within the global in-flight cap — pending, or leased to an idle loop of the
 * inserting process — with its first log rows and (when pending) its NOTIFY in the same statement;
 * and a log row appended on its own.
 */
import type { Sql } from "../../db/client";
import type { JobRow, NewJobRow } from "../../db/schema";
import { CHANNEL_JOB_NEW } from "./listen";
import { getJob } from "./read";
import { type LogEntry, toColumns, toJob } from "./rows";

export type InsertOutcome = { kind: "inserted"; job: JobRow } | { kind: "busy"; inFlight: number };

/**
 * Far below the cap, concurrent inserts cannot overshoot it: at most this many statements run at
 * once (a few instances' pools), so a count this far under the cap stays under it whatever they
 * insert. Such inserts skip the lock (one statement, one round trip, nothing serialized).
 */
export const CAP_LOCK_FREE_MARGIN = 64;

/**
 * Inserts a job — pending, or already leased to a worker loop of the calling process — and its
 * first log rows, when given, unless the global in-flight cap is reached. A pending job is announced
 * (NOTIFY); a leased one needs no one woken. A processing row whose lease heartbeat is older than `liveSince` belongs to a dead
 * worker: it is about to be re-queued and must not keep booths out meanwhile, so it is not counted.
 * Far below the cap (CAP_LOCK_FREE_MARGIN) count and insert are one statement; near it they run
 * under a transaction-scoped advisory lock inside one function call, so concurrent ingests cannot
 * overshoot the cap — one round trip and one commit either way.
 */
export async function insertJobWithinCap(
  sql: Sql,
  values: NewJobRow,
  cap: number,
  liveSince: Date,
  log: LogEntry[] = [],
): Promise<InsertOutcome> {
  // Far below the cap (known from the last enqueue's count) the lock-free statement goes first;
  // near it — or with a cap below the margin — straight to the locked one: no insert that cannot
  // write anything.
  if (lastCounted + CAP_LOCK_FREE_MARGIN < cap) {
    const fast = await countAndInsert(sql, values, cap - CAP_LOCK_FREE_MARGIN, liveSince, log);
    lastCounted = fast.kind === "busy" ? fast.inFlight : lastCounted;
    if (fast.kind === "inserted") return fast;
  }
  return insertLocked(sql, values, cap, liveSince, log);
}

/** The live count the last enqueue of this process saw (a hint for which path to take). */
let lastCounted = 0;

/**
 * Count and insert under the enqueue lock, in one call of `photochanger_enqueue_locked` (migrations
 * 0012 and 0016): one round trip, one commit, and the count sees every insert committed before the
 * lock.
 */
async function insertLocked(
  sql: Sql,
  values: NewJobRow,
  cap: number,
  liveSince: Date,
  log: LogEntry[],
): Promise<InsertOutcome> {
  const cols = toColumns(values);
  // Column names from the schema (never from input).
  const colList = Object.keys(cols)
    .map((c) => `"${c}"`)
    .join(", ");
  const entries = log.map((e) => ({ event: e.event, at: e.at.toISOString(), details: e.details ?? {} }));
  const [r] = await sql<{ counted_n: number; inserted_id: string | null }[]>`
    select counted_n, inserted_id from photochanger_enqueue_locked(
      ${sql.json(cols as never)}, ${colList}, ${cap}, ${liveSince}, ${sql.json(entries as never)},
      ${CHANNEL_JOB_NEW})`;
  lastCounted = r!.counted_n;
  if (!r!.inserted_id) return { kind: "busy", inFlight: r!.counted_n };
  const job = await getJob(sql, r!.inserted_id);
  return { kind: "inserted", job: job! };
}

/** Counts the live jobs and inserts the job (with its log rows and NOTIFY) if they are below `limit`. */
async function countAndInsert(
  sql: Sql,
  values: NewJobRow,
  limit: number,
  liveSince: Date,
  log: LogEntry[],
): Promise<InsertOutcome> {
  const cols = toColumns(values);
  // Column names from the schema (never from input), as one identifier list.
  const names = sql.unsafe(
    Object.keys(cols)
      .map((c) => `"${c}"`)
      .join(", "),
  );
  const entries = log.map((e) => ({ event: e.event, at: e.at.toISOString(), details: e.details ?? {} }));
  const rows = await sql`
    with counted as (
      select count(*)::int as n from job
      where not unattended
        and (status = 'pending' or (status = 'processing' and heartbeat_at >= ${liveSince}))
    ),
    inserted as (
      insert into job (${names})
      select ${names} from counted, jsonb_populate_record(null::job, ${sql.json(cols as never)})
      where counted.n < ${limit}
      returning *
    ),
    logged as (
      insert into processing_log (job_id, slot_id, event, occurred_at, details)
      select inserted.id, inserted.slot_id, e.event, e.at, e.details
      from inserted cross join jsonb_to_recordset(${sql.json(entries as never)}::jsonb)
        as e(event text, at timestamptz, details jsonb)
    )
    select counted.n as counted_n, inserted.*,
      case when inserted.status = 'pending' then pg_notify(${CHANNEL_JOB_NEW}, inserted.id::text) end
    from counted left join inserted on true`;
  const row = rows[0] as Record<string, unknown>;
  if (row.id == null) return { kind: "busy", inFlight: row.counted_n as number };
  return { kind: "inserted", job: toJob(row) };
}

export async function appendLog(sql: Sql, e: LogEntry): Promise<void> {
  await sql`
    insert into processing_log (job_id, slot_id, event, occurred_at, provider_latency_ms, message, details)
    values (${e.jobId}, ${e.slotId}, ${e.event}, ${e.at}, ${e.providerLatencyMs ?? null},
            ${e.message ?? null}, ${sql.json((e.details ?? {}) as never)})`;
}
