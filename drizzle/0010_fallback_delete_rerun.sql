ALTER TABLE "job" DROP CONSTRAINT "job_source_valid";--> statement-breakpoint
ALTER TABLE "job" ADD COLUMN "fallback" jsonb;--> statement-breakpoint
ALTER TABLE "job" ADD COLUMN "fallback_used" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "job" ADD COLUMN "served_provider" text;--> statement-breakpoint
ALTER TABLE "job" ADD COLUMN "rerun_of" uuid;--> statement-breakpoint
ALTER TABLE "job" ADD COLUMN "deleted_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "job" ADD COLUMN "deleted_by" text;--> statement-breakpoint
ALTER TABLE "slot" ADD COLUMN "fallback" jsonb;--> statement-breakpoint
CREATE INDEX "job_rerun_of_idx" ON "job" USING btree ("rerun_of") WHERE "job"."rerun_of" is not null;--> statement-breakpoint
CREATE INDEX "job_kept_payload_idx" ON "job" USING btree ("finalized_at") WHERE "job"."payload_path" is not null and "job"."status" in ('failed','timeout','cancelled');--> statement-breakpoint
CREATE INDEX "job_fallback_success_idx" ON "job" USING btree ("created_at","slot_id","provider") WHERE "job"."source" = 'ingest' and "job"."status" = 'succeeded' and "job"."fallback_used";--> statement-breakpoint
ALTER TABLE "job" ADD CONSTRAINT "job_source_valid" CHECK ("job"."source" in ('ingest','test_run','rerun'));