CREATE TABLE "admin_session" (
	"id" uuid PRIMARY KEY NOT NULL,
	"username" text NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"revoked_at" timestamp with time zone,
	"client_ip" text
);
--> statement-breakpoint
CREATE TABLE "admin_user" (
	"username" text PRIMARY KEY NOT NULL,
	"password_hash" text NOT NULL,
	"scopes" text[] NOT NULL,
	"password_updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "app_settings" (
	"key" text PRIMARY KEY NOT NULL,
	"value" jsonb NOT NULL,
	"is_secret" boolean DEFAULT false NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_by" text
);
--> statement-breakpoint
CREATE TABLE "audit_log" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"occurred_at" timestamp with time zone NOT NULL,
	"actor" text NOT NULL,
	"action" text NOT NULL,
	"details" jsonb DEFAULT '{}'::jsonb NOT NULL
);
--> statement-breakpoint
CREATE TABLE "auth_failure" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"scope" text NOT NULL,
	"key" text NOT NULL,
	"occurred_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "cleanup_run" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"started_at" timestamp with time zone NOT NULL,
	"finished_at" timestamp with time zone,
	"trigger" text NOT NULL,
	"removed" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"error" text
);
--> statement-breakpoint
CREATE TABLE "instance" (
	"id" uuid PRIMARY KEY NOT NULL,
	"hostname" text NOT NULL,
	"pid" integer NOT NULL,
	"version" text NOT NULL,
	"started_at" timestamp with time zone NOT NULL,
	"heartbeat_at" timestamp with time zone NOT NULL,
	"stopped_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "job" (
	"id" uuid PRIMARY KEY NOT NULL,
	"slot_id" text NOT NULL,
	"source" text NOT NULL,
	"status" text NOT NULL,
	"failure_reason" text,
	"error_message" text,
	"provider" text NOT NULL,
	"operation" text NOT NULL,
	"settings" jsonb NOT NULL,
	"output_format" text NOT NULL,
	"templates" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"started_at" timestamp with time zone,
	"finalized_at" timestamp with time zone,
	"expires_at" timestamp with time zone NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"instance_id" uuid,
	"lease_owner" text,
	"lease_token" uuid,
	"heartbeat_at" timestamp with time zone,
	"provider_job_ref" text,
	"payload_path" text,
	"payload_mime" text,
	"payload_size" bigint,
	"payload_sha256" text,
	"client_hash" text,
	"result_path" text,
	"thumb_path" text,
	"result_mime" text,
	"result_size" bigint,
	"result_sha256" text,
	"result_expires_at" timestamp with time zone,
	"result_deleted_at" timestamp with time zone,
	"provider_latency_ms" integer,
	"client_meta" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"client_ip" text,
	"created_by" text,
	CONSTRAINT "job_status_valid" CHECK ("job"."status" in ('pending','processing','succeeded','failed','timeout','cancelled')),
	CONSTRAINT "job_source_valid" CHECK ("job"."source" in ('ingest','test_run'))
);
--> statement-breakpoint
CREATE TABLE "media_object" (
	"id" text PRIMARY KEY NOT NULL,
	"job_id" uuid,
	"kind" text NOT NULL,
	"path" text NOT NULL,
	"mime" text NOT NULL,
	"size_bytes" bigint NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"deleted_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "processing_log" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"job_id" uuid NOT NULL,
	"slot_id" text NOT NULL,
	"event" text NOT NULL,
	"occurred_at" timestamp with time zone NOT NULL,
	"provider_latency_ms" integer,
	"message" text,
	"details" jsonb DEFAULT '{}'::jsonb NOT NULL
);
--> statement-breakpoint
CREATE TABLE "share_link" (
	"id" text PRIMARY KEY NOT NULL,
	"created_by" text NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"revoked_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "slot" (
	"id" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"enabled" boolean DEFAULT true NOT NULL,
	"provider" text DEFAULT 'local' NOT NULL,
	"operation" text DEFAULT 'passthrough' NOT NULL,
	"settings" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"size_limit_mb" integer DEFAULT 15 NOT NULL,
	"output_format" text DEFAULT 'jpeg' NOT NULL,
	"version" integer DEFAULT 1 NOT NULL,
	"updated_by" text,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"stats_reset_at" timestamp with time zone,
	CONSTRAINT "slot_id_format" CHECK ("slot"."id" ~ '^slot-0(0[1-9]|1[0-5])$'),
	CONSTRAINT "slot_size_limit_range" CHECK ("slot"."size_limit_mb" between 1 and 50),
	CONSTRAINT "slot_output_format" CHECK ("slot"."output_format" in ('jpeg','png','webp','original'))
);
--> statement-breakpoint
CREATE TABLE "template_media" (
	"id" uuid PRIMARY KEY NOT NULL,
	"slot_id" text NOT NULL,
	"role" text NOT NULL,
	"path" text NOT NULL,
	"mime" text NOT NULL,
	"size_bytes" bigint NOT NULL,
	"sha256" text NOT NULL,
	"filename" text,
	"width" integer,
	"height" integer,
	"uploaded_by" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "admin_session" ADD CONSTRAINT "admin_session_username_admin_user_username_fk" FOREIGN KEY ("username") REFERENCES "public"."admin_user"("username") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "job" ADD CONSTRAINT "job_slot_id_slot_id_fk" FOREIGN KEY ("slot_id") REFERENCES "public"."slot"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "media_object" ADD CONSTRAINT "media_object_job_id_job_id_fk" FOREIGN KEY ("job_id") REFERENCES "public"."job"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "processing_log" ADD CONSTRAINT "processing_log_job_id_job_id_fk" FOREIGN KEY ("job_id") REFERENCES "public"."job"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "template_media" ADD CONSTRAINT "template_media_slot_id_slot_id_fk" FOREIGN KEY ("slot_id") REFERENCES "public"."slot"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "admin_session_user_idx" ON "admin_session" USING btree ("username");--> statement-breakpoint
CREATE INDEX "audit_log_time_idx" ON "audit_log" USING btree ("occurred_at");--> statement-breakpoint
CREATE INDEX "auth_failure_lookup_idx" ON "auth_failure" USING btree ("scope","key","occurred_at");--> statement-breakpoint
CREATE INDEX "job_pending_idx" ON "job" USING btree ("created_at") WHERE "job"."status" = 'pending';--> statement-breakpoint
CREATE INDEX "job_active_idx" ON "job" USING btree ("status","expires_at") WHERE "job"."status" in ('pending','processing');--> statement-breakpoint
CREATE INDEX "job_slot_created_idx" ON "job" USING btree ("slot_id","created_at");--> statement-breakpoint
CREATE INDEX "job_created_idx" ON "job" USING btree ("created_at");--> statement-breakpoint
CREATE INDEX "job_finalized_idx" ON "job" USING btree ("finalized_at");--> statement-breakpoint
CREATE INDEX "job_slot_results_idx" ON "job" USING btree ("slot_id","finalized_at") WHERE "job"."status" = 'succeeded' and "job"."result_path" is not null;--> statement-breakpoint
CREATE INDEX "job_result_expiry_idx" ON "job" USING btree ("result_expires_at") WHERE "job"."result_path" is not null;--> statement-breakpoint
CREATE INDEX "media_object_expiry_idx" ON "media_object" USING btree ("expires_at") WHERE "media_object"."deleted_at" is null;--> statement-breakpoint
CREATE INDEX "media_object_job_idx" ON "media_object" USING btree ("job_id");--> statement-breakpoint
CREATE INDEX "processing_log_job_idx" ON "processing_log" USING btree ("job_id","occurred_at");--> statement-breakpoint
CREATE INDEX "processing_log_slot_time_idx" ON "processing_log" USING btree ("slot_id","occurred_at");--> statement-breakpoint
CREATE INDEX "processing_log_time_idx" ON "processing_log" USING btree ("occurred_at");--> statement-breakpoint
CREATE INDEX "template_media_slot_idx" ON "template_media" USING btree ("slot_id","role");