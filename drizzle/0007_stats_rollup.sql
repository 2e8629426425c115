CREATE TABLE "job_stats_hour" (
	"hour" timestamp with time zone PRIMARY KEY NOT NULL,
	"gen" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "job_stats_rollup" (
	"hour" timestamp with time zone NOT NULL,
	"slot_id" text NOT NULL,
	"provider" text NOT NULL,
	"source" text NOT NULL,
	"status" text NOT NULL,
	"failure_reason" text,
	"n" integer NOT NULL,
	"total_ms" "bytea" NOT NULL,
	"provider_ms" "bytea" NOT NULL
);
--> statement-breakpoint
CREATE INDEX "job_stats_rollup_hour_idx" ON "job_stats_rollup" USING btree ("hour","slot_id");--> statement-breakpoint
CREATE INDEX "processing_log_final_idx" ON "processing_log" USING btree ("job_id") WHERE "processing_log"."event" in ('succeeded', 'failed', 'timeout', 'cancelled');--> statement-breakpoint
-- Drops the hours a changed job belongs to from the rollup (src/store/job-rollup.ts). Only jobs
-- created more than an hour ago fire it (the WHEN clauses), and the rollup only holds hours that
-- ended more than two hours ago, so no job on the hot path ever calls it. The shared advisory lock
-- orders it against a rollup fill (which takes the lock exclusively before it reads `job`).
CREATE FUNCTION job_stats_invalidate() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  hours timestamptz[];
BEGIN
  IF TG_OP = 'TRUNCATE' THEN
    TRUNCATE job_stats_hour, job_stats_rollup;
    RETURN NULL;
  ELSIF TG_OP = 'INSERT' THEN
    hours := ARRAY[date_trunc('hour', NEW.created_at, 'UTC')];
  ELSIF TG_OP = 'DELETE' THEN
    hours := ARRAY[date_trunc('hour', OLD.created_at, 'UTC')];
  ELSE
    hours := ARRAY[date_trunc('hour', OLD.created_at, 'UTC'), date_trunc('hour', NEW.created_at, 'UTC')];
  END IF;
  PERFORM pg_advisory_xact_lock_shared(hashtext('photochanger.job_stats'));
  DELETE FROM job_stats_hour WHERE hour = ANY (hours);
  DELETE FROM job_stats_rollup WHERE hour = ANY (hours);
  RETURN NULL;
END
$$;
--> statement-breakpoint
CREATE TRIGGER job_stats_invalidate_insert AFTER INSERT ON job FOR EACH ROW
  WHEN (NEW.created_at < clock_timestamp() - interval '1 hour')
  EXECUTE FUNCTION job_stats_invalidate();
--> statement-breakpoint
CREATE TRIGGER job_stats_invalidate_update
  AFTER UPDATE OF slot_id, source, status, failure_reason, provider, created_at, finalized_at, provider_latency_ms
  ON job FOR EACH ROW
  WHEN (OLD.created_at < clock_timestamp() - interval '1 hour' OR NEW.created_at < clock_timestamp() - interval '1 hour')
  EXECUTE FUNCTION job_stats_invalidate();
--> statement-breakpoint
CREATE TRIGGER job_stats_invalidate_delete AFTER DELETE ON job FOR EACH ROW
  WHEN (OLD.created_at < clock_timestamp() - interval '1 hour')
  EXECUTE FUNCTION job_stats_invalidate();
--> statement-breakpoint
CREATE TRIGGER job_stats_invalidate_truncate AFTER TRUNCATE ON job FOR EACH STATEMENT
  EXECUTE FUNCTION job_stats_invalidate();
