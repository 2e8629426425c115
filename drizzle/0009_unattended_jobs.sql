DROP INDEX "job_pending_idx";--> statement-breakpoint
ALTER TABLE "job" ADD COLUMN "unattended" boolean DEFAULT false NOT NULL;--> statement-breakpoint
CREATE INDEX "job_pending_idx" ON "job" USING btree ("unattended","created_at") WHERE "job"."status" = 'pending';