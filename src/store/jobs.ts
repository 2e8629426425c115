/**
 * The queue's SQL, in one place, as small named operations — each a single statement that can be
 * read and EXPLAINed (the graphile-worker habit): insert within the cap, claim, heartbeat, the
 * fenced finalizations, expire, cancel, recover. Times come from the app clock as parameters, so
 * deadline behaviour is testable without sleeping. The `job` and `processing_log` tables are read
 * and written only here and in the other `job-*.ts` files of the store, always with postgres.js.
 */
import { getTableColumns } from "drizzle-orm";
import type { PendingQuery, Row } from "postgres";
import type { Sql } from "../db/client";
import { type FailureReason, type JobRow, job, type NewJobRow } from "../db/schema";
import { ACTIVE_STATUSES as ACTIVE } from "../domain/outcome";

export const CHANNEL_JOB_DONE = "photochanger_job_done";
export const CHANNEL_JOB_NEW = "photochanger_job_new";

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

function toColumns(values: NewJobRow): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const c of columns) {
    const v = (values as Record<string, unknown>)[c.key];
    if (v !== undefined) out[c.name] = v;
  }
  return out;
}

export type InsertOutcome = { kind: "inserted"; job: JobRow } | { kind: "busy"; inFlight: number };

/**
 * Far below the cap, concurrent inserts cannot overshoot it: at most this many statements run at
 * once (a few instances' pools), so a count this far under the cap stays under it whatever they
 * insert. Such inserts skip the lock (one statement, one round trip, nothing serialized).
 */
export const CAP_LOCK_FREE_MARGIN = 64;

/**
 * Inserts a pending job — and its first log rows, when given — unless the global in-flight cap is
 * reached. A processing row whose lease heartbeat is older than `liveSince` belongs to a dead
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
 * Count and insert under the enqueue lock, in one call of `photochanger_enqueue_locked` (migration
 * 0012): one round trip, one commit, and the count sees every insert committed before the lock.
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
      case when inserted.id is null then null else pg_notify(${CHANNEL_JOB_NEW}, inserted.id::text) end
    from counted left join inserted on true`;
  const row = rows[0] as Record<string, unknown>;
  if (row.id == null) return { kind: "busy", inFlight: row.counted_n as number };
  return { kind: "inserted", job: toJob(row) };
}

/**
 * The provider a job runs on: its fallback's once it went there (src/domain/fallback.ts), else the
 * primary of its snapshot. Per-provider concurrency limits count it there.
 */
const runsOn = (sql: Sql) =>
  sql.unsafe(`coalesce(case when fallback_used then fallback->>'provider' end, provider)`);

/** What one claim statement may take: per-provider room, and the room shared by network providers. */
export interface ClaimRoom {
  /** Jobs each provider may still start in this process (0: skipped); one not named, any number. */
  perProvider: Record<string, number>;
  /** Providers whose calls share `shared` (those that go through fetch). */
  sharedBy: string[];
  shared: number;
}

/**
 * Claims up to `owners.length` of the oldest pending jobs still before their deadline — a live
 * booth's before any unattended one (see recoverOrphans) — in one statement, the i-th for
 * `owners[i]`: the inner SELECT … FOR UPDATE SKIP LOCKED reads the partial index
 * `job_pending_idx`, so concurrent loops and processes never get the same row; of the rows it
 * locks, a provider gets no more than its room (and the network providers together no more than
 * their shared room). Each job's `dispatched` log row is written by the same statement. Returned
 * oldest first; fewer than asked when the queue (for the providers with room) has no more.
 */
export async function claimJobs(
  sql: Sql,
  owners: readonly string[],
  now: Date,
  room: ClaimRoom | null = null,
  onlyInstance: string | null = null,
): Promise<{ jobs: JobRow[]; locked: number }> {
  const limit = owners.length;
  const full = Object.entries(room?.perProvider ?? {})
    .filter(([, n]) => n <= 0)
    .map(([p]) => p);
  const rows = await sql`
    with candidates as (
      select id, ${runsOn(sql)} as runs_on, unattended, created_at
      from job
      where status = 'pending' and expires_at > ${now}
        and ${runsOn(sql)} <> all(${sql.array(full)}::text[])
        and (${onlyInstance}::uuid is null or instance_id = ${onlyInstance}::uuid)
      order by unattended, created_at
      limit ${limit}
      for update skip locked
    ), ranked as (
      select id, runs_on, unattended, created_at,
        row_number() over (partition by runs_on order by unattended, created_at) as nth_of_provider,
        count(*) filter (where runs_on = any(${sql.array(room?.sharedBy ?? [])}::text[]))
          over (order by unattended, created_at rows unbounded preceding) as nth_shared
      from candidates
    ), picked as (
      select id, row_number() over (order by unattended, created_at) as nth
      from ranked
      where ${room === null}
        or (nth_of_provider <= coalesce((${sql.json(room?.perProvider ?? {})}::jsonb ->> runs_on)::int, ${limit})
          and (runs_on <> all(${sql.array(room?.sharedBy ?? [])}::text[]) or nth_shared <= ${room?.shared ?? limit}))
    ), done as (
      update job set
        status = 'processing',
        started_at = ${now},
        attempts = attempts + 1,
        lease_owner = (${sql.array([...owners])}::text[])[picked.nth],
        lease_token = gen_random_uuid(),
        heartbeat_at = ${now}
      from picked
      where job.id = picked.id
      returning job.*
    ), logged as (
      insert into processing_log (job_id, slot_id, event, occurred_at, details)
      select id, slot_id, 'dispatched', ${now}, jsonb_build_object(
        'owner', lease_owner, 'provider', ${runsOn(sql)}, 'operation',
        case when fallback_used then fallback->>'operation' else operation end, 'attempt', attempts,
        'queue_wait_ms', (extract(epoch from started_at - created_at) * 1000)::bigint)
      from done
    )
    select counted.n as locked_n, done.*
    from (select count(*)::int as n from candidates) counted left join done on true`;
  const locked = (rows[0]?.locked_n as number | undefined) ?? 0;
  const jobs = rows.filter((r) => r.id != null).map(toJob);
  jobs.sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime());
  return { jobs, locked };
}

/** One job, as `claimJobs` claims them (no provider limits unless `skipProviders` names some). */
export async function claimNextJob(
  sql: Sql,
  owner: string,
  now: Date,
  skipProviders: string[] = [],
  onlyInstance: string | null = null,
): Promise<JobRow | null> {
  const room: ClaimRoom | null = skipProviders.length
    ? { perProvider: Object.fromEntries(skipProviders.map((p) => [p, 0])), sharedBy: [], shared: 1 }
    : null;
  const { jobs } = await claimJobs(sql, [owner], now, room, onlyInstance);
  return jobs[0] ?? null;
}

/** Extends the lease; false means the job is no longer ours (finalized, cancelled or reclaimed). */
export async function heartbeat(sql: Sql, id: string, token: string, now: Date): Promise<boolean> {
  return (await heartbeatMany(sql, [{ id, token }], now)).has(id);
}

/**
 * Extends the leases of every job a process runs, in one statement; returns the ids still ours (a
 * job missing from it was finalized, cancelled or reclaimed).
 */
export async function heartbeatMany(
  sql: Sql,
  leases: readonly { id: string; token: string }[],
  now: Date,
): Promise<Set<string>> {
  if (!leases.length) return new Set();
  const rows = await sql<{ id: string }[]>`
    update job set heartbeat_at = ${now}
    from unnest(${sql.array(leases.map((l) => l.id))}::uuid[], ${sql.array(leases.map((l) => l.token))}::uuid[])
      as lease(id, token)
    where job.id = lease.id and job.lease_token = lease.token and job.status = 'processing'
    returning job.id`;
  return new Set(rows.map((r) => r.id));
}

export interface ResultColumns {
  /** The provider whose image this is: the primary's, or the fallback's. */
  servedProvider: string;
  resultPath: string;
  thumbPath: string | null;
  resultMime: string;
  resultSize: number;
  resultSha256: string;
  resultExpiresAt: Date;
  providerLatencyMs: number | null;
}

/** A finished (or re-queued) job's row, and the files its finalization let go of. */
export interface FinalizedJob {
  row: JobRow;
  /** The payload and temporary media no row points at any more: removed after the commit. */
  releasedPaths: string[];
}

/**
 * The log rows a finalizing statement writes with the state: optional earlier steps (e.g.
 * `provider_responded`, which would otherwise cost its own round trip), then the final row — its
 * event is the new status (`requeued` for a job put back), its details these plus the failure
 * reason and `total_ms` (or `attempts` for a re-queued job).
 */
export interface FinalLog {
  details: Record<string, unknown>;
  before?: LogEntry[];
}

/**
 * Every finalization is one statement, so one commit: the fenced state change (`update`: an
 * `update job … returning *` fragment; it clears `payload_path` of the rows whose photo goes — a
 * success, a cancel — and keeps it for a failure, whose photo waits for a re-run), the job's
 * temporary media marked deleted, its log rows, and the NOTIFY for waiters and idle workers
 * elsewhere. Nothing can be half-finished. The files it released are removed after the commit,
 * idempotently; a crash in between leaves files no row points at, which reclaimLeftovers removes.
 * The payload path is read in the statement's snapshot, i.e. before the update.
 */
async function finalizeWith(
  sql: Sql,
  now: Date,
  update: PendingQuery<Row[]>,
  log: FinalLog,
): Promise<FinalizedJob[]> {
  const before = (log.before ?? []).map((e) => ({
    event: e.event,
    at: e.at.toISOString(),
    latency: e.providerLatencyMs ?? null,
    details: e.details ?? {},
  }));
  const rows = await sql`
    with done as (${update}),
    earlier as (
      insert into processing_log (job_id, slot_id, event, occurred_at, provider_latency_ms, details)
      select done.id, done.slot_id, e.event, e.at, e.latency, e.details
      from done cross join jsonb_to_recordset(${sql.json(before as never)}::jsonb)
        as e(event text, at timestamptz, latency int, details jsonb)
      returning 1
    ),
    logged as (
      insert into processing_log (job_id, slot_id, event, occurred_at, provider_latency_ms, details)
      select done.id, done.slot_id,
        case when done.status = 'pending' then 'requeued' else done.status end,
        coalesce(done.finalized_at, ${now}), done.provider_latency_ms,
        ${sql.json(log.details as never)}::jsonb
          || jsonb_strip_nulls(jsonb_build_object('failure_reason', done.failure_reason))
          || case when done.status = 'pending' then jsonb_build_object('attempts', done.attempts)
             else jsonb_build_object('total_ms',
               (extract(epoch from done.finalized_at - done.created_at) * 1000)::bigint) end
      -- reading \`earlier\` first makes its rows precede the final one (ids follow the timeline)
      from done cross join (select count(*) from earlier) as written
    ),
    objects as (
      update media_object set deleted_at = ${now}
      where deleted_at is null and job_id in (select id from done where status <> 'pending')
      returning job_id, path
    )
    select done.*,
      array_remove(
        array[(select p.payload_path from job p
          where p.id = done.id and done.status <> 'pending' and done.payload_path is null)]
          || coalesce((select array_agg(o.path) from objects o where o.job_id = done.id), '{}'),
        null) as released_paths,
      pg_notify(case when done.status = 'pending' then ${CHANNEL_JOB_NEW} else ${CHANNEL_JOB_DONE} end,
        done.id::text)
    from done`;
  return rows.map((r) => ({ row: toJob(r), releasedPaths: (r.released_paths as string[] | null) ?? [] }));
}

/**
 * Fenced success: only the current lease holder of a processing job that is not past its deadline
 * may finalize it. Null when the fence refuses (the caller discards its result).
 */
export async function finalizeSucceeded(
  sql: Sql,
  id: string,
  token: string,
  now: Date,
  r: ResultColumns,
  log: FinalLog,
): Promise<FinalizedJob | null> {
  const [done] = await finalizeWith(
    sql,
    now,
    sql`
      update job set
        status = 'succeeded', finalized_at = ${now}, lease_token = null, payload_path = null,
        result_path = ${r.resultPath}, thumb_path = ${r.thumbPath}, result_mime = ${r.resultMime},
        result_size = ${r.resultSize}, result_sha256 = ${r.resultSha256},
        result_expires_at = ${r.resultExpiresAt}, provider_latency_ms = ${r.providerLatencyMs},
        served_provider = ${r.servedProvider}
      where id = ${id} and lease_token = ${token} and status = 'processing' and expires_at > ${now}
      returning *`,
    log,
  );
  return done ?? null;
}

/**
 * Fenced failure by the lease holder (provider error, blocked, invalid config, internal error). The
 * photo stays (`payload_path`): the job may be re-run until the result retention ends.
 */
export async function finalizeFailed(
  sql: Sql,
  id: string,
  token: string,
  now: Date,
  reason: FailureReason,
  message: string,
  providerLatencyMs: number | null,
  log: FinalLog,
): Promise<FinalizedJob | null> {
  const [done] = await finalizeWith(
    sql,
    now,
    sql`
      update job set
        -- A provider that gives up for lack of time (e.g. Gemini NO_IMAGE retries) ends as timeout.
        status = case when ${reason} = 'timeout' then 'timeout' else 'failed' end,
        failure_reason = ${reason}, error_message = ${message}, provider_latency_ms = ${providerLatencyMs},
        finalized_at = ${now}, lease_token = null
      where id = ${id} and lease_token = ${token} and status = 'processing' and expires_at > ${now}
      returning *`,
    log,
  );
  return done ?? null;
}

/**
 * Finalizes a job as `timeout` once its deadline has passed. Used by the waiter at the deadline, by
 * the worker whose call was cut by the deadline, and by the sweeper. Null if it already ended. The
 * photo stays for a re-run.
 */
export async function expireJob(sql: Sql, id: string, now: Date): Promise<FinalizedJob | null> {
  const [done] = await finalizeWith(
    sql,
    now,
    sql`
      update job set
        status = 'timeout', failure_reason = 'timeout', finalized_at = ${now}, lease_token = null,
        error_message = 'The deadline passed before the provider answered'
      where id = ${id} and status in ${sql(ACTIVE)} and expires_at <= ${now}
      returning *`,
    { details: {} },
  );
  return done ?? null;
}

/** An admin's cancel: any pending or processing job ends as `cancelled` (and its photo goes). */
export async function cancelJob(sql: Sql, id: string, now: Date, by: string): Promise<FinalizedJob | null> {
  const [done] = await finalizeWith(
    sql,
    now,
    sql`
      update job set
        status = 'cancelled', failure_reason = 'cancelled', finalized_at = ${now}, lease_token = null,
        payload_path = null, error_message = ${`Cancelled by ${by}`}
      where id = ${id} and status in ${sql(ACTIVE)}
      returning *`,
    { details: { by } },
  );
  return done ?? null;
}

/** How many times a job may be claimed; an interruption after the last attempt fails it. */
export const MAX_ATTEMPTS = 5;
/** A job re-queued with less time than this before its deadline could not finish: it fails instead. */
export const MIN_RERUN_MS = 2_000;

/**
 * The one rule for work that stopped without an outcome (its worker died, lost its lease or had to
 * stop): past the deadline it ends as `timeout`; with attempts left and time to run again it goes
 * back to `pending` (lease cleared, so a late result of the old attempt is refused by the fence);
 * otherwise it fails as `interrupted`. The photo stays either way (a failure keeps it for a re-run).
 * Used inside an UPDATE of `job`.
 */
function interruptedSet(sql: Sql, now: Date, message: string) {
  const minLeft = new Date(now.getTime() + MIN_RERUN_MS);
  return sql`
    status = case when expires_at <= ${now} then 'timeout'
      when attempts < ${MAX_ATTEMPTS} and expires_at > ${minLeft} then 'pending' else 'failed' end,
    failure_reason = case when expires_at <= ${now} then 'timeout'
      when attempts < ${MAX_ATTEMPTS} and expires_at > ${minLeft} then null else 'interrupted' end,
    error_message = case when expires_at <= ${now} then 'The deadline passed before the job finished'
      when attempts < ${MAX_ATTEMPTS} and expires_at > ${minLeft} then null else ${message} end,
    finalized_at = case when expires_at > ${minLeft} and attempts < ${MAX_ATTEMPTS} then null else ${now}::timestamptz end,
    lease_owner = null, lease_token = null, heartbeat_at = null`;
}

/**
 * The lease holder gives its job up (shutdown, database trouble): fenced by the lease token, the
 * job is re-queued or resolved by the interruption rule. Null if the job is no longer ours.
 */
export async function releaseJob(
  sql: Sql,
  id: string,
  token: string,
  now: Date,
  message: string,
): Promise<FinalizedJob | null> {
  const [done] = await finalizeWith(
    sql,
    now,
    sql`
      update job set ${interruptedSet(sql, now, message)}
      where id = ${id} and lease_token = ${token} and status = 'processing'
      returning *`,
    { details: { released: true } },
  );
  return done ?? null;
}

/**
 * Resolves work orphaned by a crash or a stop, by the interruption rule: processing jobs whose
 * instance is known to be stopped, and — when `lapsedBefore` is given — processing jobs of other
 * instances whose lease heartbeat is older than it; `me`'s own jobs are never taken by lapse (its
 * workers are alive and will finalize or release them). Anything active that is past its deadline
 * by more than the grace ends as `timeout`. Pending jobs of a dead instance stay pending: their
 * booth is gone, but the work is still done and its result kept.
 */
export async function recoverOrphans(
  sql: Sql,
  now: Date,
  me: string,
  lapsedBefore: Date | null,
  graceMs: number,
): Promise<FinalizedJob[]> {
  const overdue = new Date(now.getTime() - graceMs);
  return finalizeWith(
    sql,
    now,
    sql`
      update job set ${interruptedSet(sql, now, "The server stopped while the job was running")},
        unattended = unattended or exists (select 1 from instance w
          where w.id = job.instance_id and w.stopped_at is not null)
      where (status = 'processing' and (lease_owner is null or lease_owner not like ${`${me}/%`}) and (
          exists (select 1 from instance i
            where i.id::text = split_part(job.lease_owner, '/', 1) and i.stopped_at is not null)
          or (${lapsedBefore}::timestamptz is not null and heartbeat_at < ${lapsedBefore}::timestamptz)
        ))
        or (status in ${sql(ACTIVE)} and expires_at <= ${overdue})
      returning *`,
    { details: { recovered: true } },
  );
}

/**
 * Pending jobs whose booth waited on a process that is gone: nobody will read their answer, so they
 * run behind live work and leave the in-flight cap to live booths. Returns how many it marked.
 */
export async function markUnattended(sql: Sql): Promise<number> {
  const rows = await sql`
    update job set unattended = true
    where status = 'pending' and not unattended
      and exists (select 1 from instance w where w.id = job.instance_id and w.stopped_at is not null)
    returning 1`;
  return rows.length;
}

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

/**
 * The lease holder moves its job to the fallback (src/domain/fallback.ts), fenced like a
 * finalization and with the `fallback` log row in the same statement: a job re-queued after this
 * resumes on the fallback, never on the primary again. False when the job is no longer ours.
 */
export async function switchToFallback(
  sql: Sql,
  id: string,
  token: string,
  now: Date,
  details: Record<string, unknown>,
): Promise<boolean> {
  const rows = await sql`
    with done as (
      update job set fallback_used = true
      where id = ${id} and lease_token = ${token} and status = 'processing' and expires_at > ${now}
        and fallback is not null
      returning id, slot_id
    ), logged as (
      insert into processing_log (job_id, slot_id, event, occurred_at, details)
      select id, slot_id, 'fallback', ${now}, ${sql.json(details as never)}::jsonb from done
    )
    select id from done`;
  return rows.length === 1;
}

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

export async function setProviderRef(sql: Sql, id: string, token: string, ref: string): Promise<void> {
  await sql`update job set provider_job_ref = ${ref} where id = ${id} and lease_token = ${token}`;
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

export interface LogEntry {
  jobId: string;
  slotId: string;
  event: string;
  at: Date;
  providerLatencyMs?: number | null;
  message?: string | null;
  details?: Record<string, unknown>;
}

export async function appendLog(sql: Sql, e: LogEntry): Promise<void> {
  await sql`
    insert into processing_log (job_id, slot_id, event, occurred_at, provider_latency_ms, message, details)
    values (${e.jobId}, ${e.slotId}, ${e.event}, ${e.at}, ${e.providerLatencyMs ?? null},
            ${e.message ?? null}, ${sql.json((e.details ?? {}) as never)})`;
}

/**
 * Relays NOTIFY from other processes (and our own) to the handlers: a job finalized, a job queued.
 * After a (re)connect a hint may have been missed, so `onQueued` is called then too.
 */
export async function listenForJobs(
  sql: Sql,
  handlers: { onFinalized(jobId: string): void; onQueued(jobId: string | null): void; onConnected?(): void },
): Promise<{ unlisten(): Promise<void> }> {
  const done = await sql.listen(
    CHANNEL_JOB_DONE,
    (payload) => handlers.onFinalized(payload),
    () => handlers.onConnected?.(),
  );
  const queued = await sql.listen(
    CHANNEL_JOB_NEW,
    (payload) => handlers.onQueued(payload || null),
    () => handlers.onQueued(null),
  );
  return {
    async unlisten() {
      await done.unlisten().catch(() => {});
      await queued.unlisten().catch(() => {});
    },
  };
}
