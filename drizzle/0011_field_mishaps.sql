CREATE TABLE "attention_ack" (
	"username" text NOT NULL,
	"key" text NOT NULL,
	"fingerprint" text NOT NULL,
	"acknowledged_at" timestamp with time zone NOT NULL,
	CONSTRAINT "attention_ack_username_key_pk" PRIMARY KEY("username","key")
);
--> statement-breakpoint
CREATE TABLE "notification_log" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"sent_at" timestamp with time zone NOT NULL,
	"event" text NOT NULL,
	"target" text NOT NULL,
	"ok" boolean NOT NULL,
	"cause" text,
	"detail" text,
	"slot_id" text,
	"sent_by" text
);
--> statement-breakpoint
ALTER TABLE "auth_throttle" ADD COLUMN "failures" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "auth_throttle" ADD COLUMN "blocked_until" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "auth_throttle" ADD COLUMN "probe_at" timestamp with time zone;--> statement-breakpoint
CREATE INDEX "notification_log_time_idx" ON "notification_log" USING btree ("sent_at");