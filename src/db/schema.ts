import { sql } from "drizzle-orm";
import {
  bigint,
  bigserial,
  boolean,
  check,
  customType,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uuid,
} from "drizzle-orm/pg-core";
import type { FallbackConfig } from "../domain/fallback";
import type { FailureReason, JobStatus } from "../domain/outcome";

const tz = (name: string) => timestamp(name, { withTimezone: true, mode: "date" });

/** The 15 booth slots. Rows are seeded by the first migration and never created or deleted. */
export const slot = pgTable(
  "slot",
  {
    id: text("id").primaryKey(),
    name: text("name").notNull(),
    enabled: boolean("enabled").notNull().default(true),
    provider: text("provider").notNull().default("local"),
    operation: text("operation").notNull().default("passthrough"),
    settings: jsonb("settings").$type<Record<string, unknown>>().notNull().default({}),
    /** The second provider a failing job falls back to (SPEC §11), validated like the primary; null: none. */
    fallback: jsonb("fallback").$type<FallbackConfig | null>(),
    sizeLimitMb: integer("size_limit_mb").notNull().default(15),
    outputFormat: text("output_format").notNull().default("jpeg"),
    version: integer("version").notNull().default(1),
    updatedBy: text("updated_by"),
    updatedAt: tz("updated_at").notNull().defaultNow(),
    createdAt: tz("created_at").notNull().defaultNow(),
    statsResetAt: tz("stats_reset_at"),
  },
  (t) => [
    check("slot_id_format", sql`${t.id} ~ '^slot-0(0[1-9]|1[0-5])$'`),
    check("slot_size_limit_range", sql`${t.sizeLimitMb} between 1 and 50`),
    check("slot_output_format", sql`${t.outputFormat} in ('jpeg','png','webp','original')`),
  ],
);

/** A running process (server instance); pending jobs belong to the instance whose request waits on them. */
export const instance = pgTable("instance", {
  id: uuid("id").primaryKey(),
  hostname: text("hostname").notNull(),
  pid: integer("pid").notNull(),
  version: text("version").notNull(),
  // Where the instance listens (host:port as it sees itself), for `status` and the health page.
  address: text("address"),
  // Jobs its workers were running at the last heartbeat.
  jobsInFlight: integer("jobs_in_flight").notNull().default(0),
  startedAt: tz("started_at").notNull(),
  heartbeatAt: tz("heartbeat_at").notNull(),
  stoppedAt: tz("stopped_at"),
});

// Statuses and failure reasons are product rules (src/domain/outcome.ts); re-exported for the row types.
export { FAILURE_REASONS, type FailureReason, JOB_STATUSES, type JobStatus } from "../domain/outcome";

/** A template bound to the slot when the job was created (part of the job's snapshot). */
export interface JobTemplate {
  id: string;
  role: string;
  path: string;
  mime: string;
}

/** The queue. One row per ingest or test run; `status` only moves forward. */
export const job = pgTable(
  "job",
  {
    id: uuid("id").primaryKey(),
    slotId: text("slot_id")
      .notNull()
      .references(() => slot.id),
    source: text("source").notNull(),
    status: text("status").$type<JobStatus>().notNull(),
    failureReason: text("failure_reason").$type<FailureReason>(),
    errorMessage: text("error_message"),
    // Snapshot of the slot at ingest: editing a slot never changes a job.
    provider: text("provider").notNull(),
    operation: text("operation").notNull(),
    settings: jsonb("settings").$type<Record<string, unknown>>().notNull(),
    outputFormat: text("output_format").notNull(),
    templates: jsonb("templates").$type<JobTemplate[]>().notNull().default([]),
    // The slot's fallback at ingest (part of the snapshot), and whether the job went to it: set
    // when the primary failed (or was exhausted at ingest), so a re-queued job resumes there.
    fallback: jsonb("fallback").$type<FallbackConfig | null>(),
    fallbackUsed: boolean("fallback_used").notNull().default(false),
    /** The provider whose image the job was answered with (the primary's or the fallback's). */
    servedProvider: text("served_provider"),
    /** The job this one runs again (`source = 'rerun'`). */
    rerunOf: uuid("rerun_of"),
    createdAt: tz("created_at").notNull(),
    startedAt: tz("started_at"),
    finalizedAt: tz("finalized_at"),
    expiresAt: tz("expires_at").notNull(),
    attempts: integer("attempts").notNull().default(0),
    // Which instance's request is waiting on the job (pending jobs of a dead instance are orphans).
    instanceId: uuid("instance_id"),
    // Nobody waits for it any more: its booth's request died with a crashed process. It runs behind
    // live work (its result goes to the gallery) and does not count against the in-flight cap.
    unattended: boolean("unattended").notNull().default(false),
    leaseOwner: text("lease_owner"),
    leaseToken: uuid("lease_token"),
    heartbeatAt: tz("heartbeat_at"),
    providerJobRef: text("provider_job_ref"),
    payloadPath: text("payload_path"),
    payloadMime: text("payload_mime"),
    payloadSize: bigint("payload_size", { mode: "number" }),
    payloadSha256: text("payload_sha256"),
    clientHash: text("client_hash"),
    resultPath: text("result_path"),
    thumbPath: text("thumb_path"),
    resultMime: text("result_mime"),
    resultSize: bigint("result_size", { mode: "number" }),
    resultSha256: text("result_sha256"),
    resultExpiresAt: tz("result_expires_at"),
    resultDeletedAt: tz("result_deleted_at"),
    // Deleted at the studio's request: its files are gone, the row stays for the statistics.
    deletedAt: tz("deleted_at"),
    deletedBy: text("deleted_by"),
    providerLatencyMs: integer("provider_latency_ms"),
    clientMeta: jsonb("client_meta").$type<Record<string, string>>().notNull().default({}),
    clientIp: text("client_ip"),
    createdBy: text("created_by"),
  },
  (t) => [
    // The claim reads only this partial index: pending rows, live booths' first, oldest first.
    index("job_pending_idx").on(t.unattended, t.createdAt).where(sql`${t.status} = 'pending'`),
    index("job_active_idx").on(t.status, t.expiresAt).where(sql`${t.status} in ('pending','processing')`),
    index("job_slot_created_idx").on(t.slotId, t.createdAt),
    index("job_created_idx").on(t.createdAt),
    index("job_finalized_idx").on(t.finalizedAt),
    index("job_slot_results_idx")
      .on(t.slotId, t.finalizedAt)
      .where(sql`${t.status} = 'succeeded' and ${t.resultPath} is not null`),
    index("job_result_expiry_idx").on(t.resultExpiresAt).where(sql`${t.resultPath} is not null`),
    // Statistics over booth ingests (src/modules/stats), by time: it carries every column the
    // aggregates read, so the statistics are index-only scans however large the table grows.
    index("job_ingest_stats_idx")
      .on(t.createdAt, t.slotId, t.provider, t.status, t.failureReason, t.finalizedAt, t.providerLatencyMs)
      .where(sql`${t.source} = 'ingest'`),
    // A slot's last success and last failure (dashboard): one probe each, however long ago.
    index("job_slot_successes_idx")
      .on(t.slotId, t.finalizedAt)
      .where(sql`${t.source} = 'ingest' and ${t.status} = 'succeeded'`),
    index("job_slot_failures_idx")
      .on(t.slotId, t.finalizedAt)
      .where(sql`${t.source} = 'ingest' and ${t.status} in ('failed','timeout','cancelled')`),
    // The jobs a job was re-run as (its page links to them).
    index("job_rerun_of_idx").on(t.rerunOf).where(sql`${t.rerunOf} is not null`),
    // Photos of jobs that ended without success, kept for a re-run until the result retention ends.
    index("job_kept_payload_idx")
      .on(t.finalizedAt)
      .where(sql`${t.payloadPath} is not null and ${t.status} in ('failed','timeout','cancelled')`),
    // Booth jobs the fallback served (statistics: fallback successes per slot).
    index("job_fallback_success_idx")
      .on(t.createdAt, t.slotId, t.provider)
      .where(sql`${t.source} = 'ingest' and ${t.status} = 'succeeded' and ${t.fallbackUsed}`),
    check(
      "job_status_valid",
      sql`${t.status} in ('pending','processing','succeeded','failed','timeout','cancelled')`,
    ),
    check("job_source_valid", sql`${t.source} in ('ingest','test_run','rerun')`),
  ],
);

/** Every step of every job; feeds the job timeline and the statistics. */
export const processingLog = pgTable(
  "processing_log",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    jobId: uuid("job_id")
      .notNull()
      .references(() => job.id, { onDelete: "cascade" }),
    slotId: text("slot_id").notNull(),
    event: text("event").notNull(),
    occurredAt: tz("occurred_at").notNull(),
    providerLatencyMs: integer("provider_latency_ms"),
    message: text("message"),
    details: jsonb("details").$type<Record<string, unknown>>().notNull().default({}),
  },
  (t) => [
    index("processing_log_job_idx").on(t.jobId, t.occurredAt),
    index("processing_log_slot_time_idx").on(t.slotId, t.occurredAt),
    index("processing_log_time_idx").on(t.occurredAt),
  ],
);

/** Packed numbers (big-endian float8/int4 concatenated) of the statistics' hourly rollup. */
const packed = customType<{ data: Uint8Array; driverData: Uint8Array }>({ dataType: () => "bytea" });

/**
 * The statistics' hourly rollup (src/store/job-rollup.ts): the `job` rows of one UTC hour counted
 * per slot, provider, source, status and reason (and again for all slots and providers, `*`), with the finished ones' latencies packed, so the
 * statistics read a few thousand rows instead of every job. An hour is only read from here when
 * `job_stats_hour` marks it complete; the `job_stats_invalidate` triggers drop an hour again when a
 * job older than an hour is inserted, changed or deleted (a live job never fires them).
 */
export const jobStatsHour = pgTable("job_stats_hour", {
  hour: tz("hour").primaryKey(),
  /** The filling transaction (`txid_current()`): readers keep decoded hours by it. */
  gen: bigint("gen", { mode: "number" }).notNull(),
});

export const jobStatsRollup = pgTable(
  "job_stats_rollup",
  {
    hour: tz("hour").notNull(),
    slotId: text("slot_id").notNull(),
    provider: text("provider").notNull(),
    source: text("source").notNull(),
    status: text("status").notNull(),
    failureReason: text("failure_reason"),
    n: integer("n").notNull(),
    /** `finalized_at − created_at` in ms as float8, one per job with both set. */
    totalMs: packed("total_ms").notNull(),
    /** `provider_latency_ms` as int4, one per job that has it. */
    providerMs: packed("provider_ms").notNull(),
  },
  (t) => [index("job_stats_rollup_hour_idx").on(t.hour, t.slotId)],
);

/** Temporary public objects (inputs served to providers that fetch by URL, e.g. Turbotext). */
export const mediaObject = pgTable(
  "media_object",
  {
    id: text("id").primaryKey(),
    jobId: uuid("job_id").references(() => job.id, { onDelete: "set null" }),
    kind: text("kind").notNull(),
    path: text("path").notNull(),
    mime: text("mime").notNull(),
    sizeBytes: bigint("size_bytes", { mode: "number" }).notNull(),
    createdAt: tz("created_at").notNull(),
    expiresAt: tz("expires_at").notNull(),
    deletedAt: tz("deleted_at"),
  },
  (t) => [
    index("media_object_expiry_idx").on(t.expiresAt).where(sql`${t.deletedAt} is null`),
    index("media_object_job_idx").on(t.jobId),
  ],
);

/** Template images bound to a slot by role (style, face…). Never purged automatically. */
export const templateMedia = pgTable(
  "template_media",
  {
    id: uuid("id").primaryKey(),
    slotId: text("slot_id")
      .notNull()
      .references(() => slot.id),
    role: text("role").notNull(),
    path: text("path").notNull(),
    mime: text("mime").notNull(),
    sizeBytes: bigint("size_bytes", { mode: "number" }).notNull(),
    sha256: text("sha256").notNull(),
    filename: text("filename"),
    width: integer("width"),
    height: integer("height"),
    uploadedBy: text("uploaded_by"),
    createdAt: tz("created_at").notNull().defaultNow(),
  },
  (t) => [index("template_media_slot_idx").on(t.slotId, t.role)],
);

/** Key/value settings (T_sync, retention, ingest password hash, encrypted provider keys…). */
export const appSettings = pgTable("app_settings", {
  key: text("key").primaryKey(),
  value: jsonb("value").notNull(),
  isSecret: boolean("is_secret").notNull().default(false),
  updatedAt: tz("updated_at").notNull().defaultNow(),
  updatedBy: text("updated_by"),
});

export const adminUser = pgTable("admin_user", {
  username: text("username").primaryKey(),
  passwordHash: text("password_hash").notNull(),
  scopes: text("scopes").array().notNull(),
  passwordUpdatedAt: tz("password_updated_at").notNull().defaultNow(),
  createdAt: tz("created_at").notNull().defaultNow(),
});

/** Issued admin sessions; a token whose row is revoked (logout) no longer works. */
export const adminSession = pgTable(
  "admin_session",
  {
    id: uuid("id").primaryKey(),
    username: text("username")
      .notNull()
      .references(() => adminUser.username),
    createdAt: tz("created_at").notNull(),
    expiresAt: tz("expires_at").notNull(),
    revokedAt: tz("revoked_at"),
    clientIp: text("client_ip"),
    /** The browser's User-Agent at sign-in: /account names the session by browser and device. */
    userAgent: text("user_agent"),
  },
  (t) => [index("admin_session_user_idx").on(t.username)],
);

/** Failed authentication attempts (admin login, ingest password) for throttling. */
export const authFailure = pgTable(
  "auth_failure",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    scope: text("scope").notNull(),
    key: text("key").notNull(),
    occurredAt: tz("occurred_at").notNull(),
  },
  (t) => [index("auth_failure_lookup_idx").on(t.scope, t.key, t.occurredAt)],
);

/**
 * Attempt counters for anything guessable, one row per scope+key (fixed window). A verification
 * reserves its attempt with one upsert before it runs, so N parallel guesses cannot all slip past
 * a check made before any of them was counted; shared by every instance on the database. Once the
 * window's failures reach the rule's limit the key is blocked until `blocked_until`; a rule with
 * probes still verifies one attempt per interval while blocked (`probe_at`: the last one taken).
 */
export const authThrottle = pgTable(
  "auth_throttle",
  {
    scope: text("scope").notNull(),
    key: text("key").notNull(),
    windowStartedAt: tz("window_started_at").notNull(),
    attempts: integer("attempts").notNull(),
    failures: integer("failures").notNull().default(0),
    blockedUntil: tz("blocked_until"),
    probeAt: tz("probe_at"),
  },
  (t) => [primaryKey({ columns: [t.scope, t.key] })],
);

/** Who changed what and when (password rotations, settings, slot edits). */
export const auditLog = pgTable(
  "audit_log",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    occurredAt: tz("occurred_at").notNull(),
    actor: text("actor").notNull(),
    action: text("action").notNull(),
    details: jsonb("details").$type<Record<string, unknown>>().notNull().default({}),
  },
  (t) => [index("audit_log_time_idx").on(t.occurredAt)],
);

/** Time-limited public share links for the gallery. */
export const shareLink = pgTable("share_link", {
  id: text("id").primaryKey(),
  createdBy: text("created_by").notNull(),
  createdAt: tz("created_at").notNull(),
  expiresAt: tz("expires_at").notNull(),
  revokedAt: tz("revoked_at"),
});

/** One row per run of the cleaner, for `status`, `/metrics` and alerting on a silent cleaner. */
export const cleanupRun = pgTable("cleanup_run", {
  id: bigserial("id", { mode: "number" }).primaryKey(),
  startedAt: tz("started_at").notNull(),
  finishedAt: tz("finished_at"),
  trigger: text("trigger").notNull(),
  removed: jsonb("removed").$type<Record<string, number>>().notNull().default({}),
  error: text("error"),
});

/**
 * Booth requests refused before a job existed (wrong password, too large, disabled slot…), counted
 * per slot, reason and hour: a refused request only increments its bucket's counter (upsert), so a
 * flood of refusals adds at most one row per slot, reason and hour.
 */
export const ingestRefusal = pgTable(
  "ingest_refusal",
  {
    slotId: text("slot_id").notNull(),
    reason: text("reason").notNull(),
    bucket: tz("bucket").notNull(),
    count: integer("count").notNull().default(0),
    firstAt: tz("first_at").notNull(),
    lastAt: tz("last_at").notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.slotId, t.reason, t.bucket] }),
    index("ingest_refusal_time_idx").on(t.bucket),
  ],
);

/** The notifier's last reported state per slot, so each burst and recovery is announced once. */
export const notifyState = pgTable("notify_state", {
  slotId: text("slot_id").primaryKey(),
  failing: boolean("failing").notNull(),
  changedAt: tz("changed_at").notNull(),
});

/**
 * Banners an admin has acknowledged: one row per admin and banner (`key`, e.g. `block:ingest:…`),
 * holding the condition it was acknowledged in (`fingerprint`); a banner whose condition changed
 * since shows again.
 */
export const attentionAck = pgTable(
  "attention_ack",
  {
    username: text("username").notNull(),
    key: text("key").notNull(),
    fingerprint: text("fingerprint").notNull(),
    acknowledgedAt: tz("acknowledged_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.username, t.key] })],
);

/** Every notification sent (test sends and real ones), one row per target, with its result. */
export const notificationLog = pgTable(
  "notification_log",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    sentAt: tz("sent_at").notNull(),
    event: text("event").notNull(),
    target: text("target").notNull(),
    ok: boolean("ok").notNull(),
    /** Why it failed, as a code (dns, refused, timeout, tls, http, …); null when sent. */
    cause: text("cause"),
    /** The cause's particulars: the host, the HTTP status and the service's own message. */
    detail: text("detail"),
    slotId: text("slot_id"),
    sentBy: text("sent_by"),
  },
  (t) => [index("notification_log_time_idx").on(t.sentAt)],
);

/**
 * Provider requests per provider and quota day (the provider's own day: Gemini's ends at midnight
 * Pacific time), counted with one atomic upsert per request so every instance adds to the same
 * row. `exhausted_at` is set when the provider itself said its quota is used up for the day.
 */
export const providerUsage = pgTable(
  "provider_usage",
  {
    provider: text("provider").notNull(),
    day: text("day").notNull(),
    requests: integer("requests").notNull().default(0),
    exhaustedAt: tz("exhausted_at"),
    exhaustedMessage: text("exhausted_message"),
    updatedAt: tz("updated_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.provider, t.day] })],
);

/** Slot settings an operator saved as a reusable style preset (the curated ones ship in code). */
export const slotPreset = pgTable("slot_preset", {
  id: uuid("id").primaryKey(),
  name: text("name").notNull(),
  provider: text("provider").notNull(),
  operation: text("operation").notNull(),
  settings: jsonb("settings").$type<Record<string, unknown>>().notNull(),
  createdBy: text("created_by").notNull(),
  createdAt: tz("created_at").notNull(),
});

export type SlotRow = typeof slot.$inferSelect;
export type JobRow = typeof job.$inferSelect;
export type NewJobRow = typeof job.$inferInsert;
export type MediaObjectRow = typeof mediaObject.$inferSelect;
export type TemplateMediaRow = typeof templateMedia.$inferSelect;
export type SlotPresetRow = typeof slotPreset.$inferSelect;
