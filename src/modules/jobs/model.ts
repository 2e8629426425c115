/** Shapes of the jobs API. */
import { Type } from "@sinclair/typebox";
import { JOB_STATUSES } from "../../db/schema";

export const JOB_SOURCES = ["ingest", "test_run", "rerun"] as const;
export const MAX_PAGE_SIZE = 200;
export const DEFAULT_PAGE_SIZE = 50;

/** Query strings as they arrive; parsed (and refused with 400) by `parseJobQuery`. */
export const JobQuery = Type.Object({
  status: Type.Optional(
    Type.String({ description: `One status or a comma-separated list: ${JOB_STATUSES.join(", ")}` }),
  ),
  slot: Type.Optional(Type.String({ description: "Slot id, e.g. slot-001" })),
  source: Type.Optional(Type.String({ description: JOB_SOURCES.join(" or ") })),
  from: Type.Optional(Type.String({ description: "Created at or after (ISO 8601)" })),
  to: Type.Optional(Type.String({ description: "Created before (ISO 8601)" })),
  page: Type.Optional(Type.String({ description: "Page number, from 1" })),
  page_size: Type.Optional(Type.String({ description: `Rows per page, 1–${MAX_PAGE_SIZE}` })),
});
export type JobQuery = typeof JobQuery.static;

const iso = Type.String({ format: "date-time" });
const nullable = <T extends ReturnType<typeof Type.String | typeof Type.Integer>>(s: T) =>
  Type.Union([s, Type.Null()]);

export const Durations = Type.Object({
  queue_wait_ms: nullable(Type.Integer()),
  provider_ms: nullable(Type.Integer()),
  total_ms: nullable(Type.Integer()),
});

export const JobView = Type.Object({
  id: Type.String({ format: "uuid" }),
  slot_id: Type.String(),
  source: Type.String(),
  status: Type.String(),
  failure_reason: nullable(Type.String()),
  error_message: nullable(Type.String()),
  provider: Type.String(),
  operation: Type.String(),
  output_format: Type.String(),
  created_at: iso,
  started_at: nullable(iso),
  finalized_at: nullable(iso),
  expires_at: iso,
  attempts: Type.Integer(),
  fallback_used: Type.Boolean({ description: "The job went to the slot's fallback provider" }),
  served_provider: nullable(
    Type.String({ description: "The provider whose image the job was answered with" }),
  ),
  rerun_of: nullable(Type.String({ format: "uuid", description: "The job this one runs again" })),
  deleted_at: nullable(iso),
  created_by: nullable(Type.String()),
  result_expires_at: nullable(iso),
  result_url: nullable(Type.String()),
  download_url: nullable(Type.String()),
  thumb_url: nullable(Type.String()),
  durations: Durations,
});

export const TimelineEntry = Type.Object({
  event: Type.String(),
  at: iso,
  offset_ms: Type.Integer({ description: "Milliseconds since the job was created" }),
  provider_latency_ms: nullable(Type.Integer()),
  message: nullable(Type.String()),
  details: Type.Record(Type.String(), Type.Unknown()),
});

export const JobDetail = Type.Composite([
  JobView,
  Type.Object({
    settings: Type.Record(Type.String(), Type.Unknown()),
    fallback: Type.Union([
      Type.Object({
        provider: Type.String(),
        operation: Type.String(),
        settings: Type.Record(Type.String(), Type.Unknown()),
      }),
      Type.Null(),
    ]),
    reruns: Type.Array(Type.Object({ id: Type.String({ format: "uuid" }), status: Type.String() }), {
      description: "The jobs that ran this one again",
    }),
    deleted_by: nullable(Type.String()),
    photo_kept: Type.Boolean({ description: "The photo is still kept (a failed job can be run again)" }),
    templates: Type.Array(Type.Object({ id: Type.String(), role: Type.String() })),
    client_meta: Type.Record(Type.String(), Type.String()),
    client_ip: nullable(Type.String()),
    client_hash: nullable(Type.String()),
    provider_job_ref: nullable(Type.String()),
    payload: Type.Object({
      mime: nullable(Type.String()),
      size_bytes: nullable(Type.Integer()),
      sha256: nullable(Type.String()),
    }),
    result: Type.Object({
      mime: nullable(Type.String()),
      size_bytes: nullable(Type.Integer()),
      sha256: nullable(Type.String()),
      deleted_at: nullable(iso),
    }),
    deadline_left_ms: Type.Union([Type.Integer(), Type.Null()], {
      description: "Time left before the deadline while the job is active; null once final",
    }),
    timeline: Type.Array(TimelineEntry),
  }),
]);

export const JobPage = Type.Object({
  data: Type.Array(JobView),
  meta: Type.Object({ page: Type.Integer(), page_size: Type.Integer(), total: Type.Integer() }),
});
