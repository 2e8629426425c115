CREATE TABLE "ingest_refusal" (
	"slot_id" text NOT NULL,
	"reason" text NOT NULL,
	"bucket" timestamp with time zone NOT NULL,
	"count" integer DEFAULT 0 NOT NULL,
	"first_at" timestamp with time zone NOT NULL,
	"last_at" timestamp with time zone NOT NULL,
	CONSTRAINT "ingest_refusal_slot_id_reason_bucket_pk" PRIMARY KEY("slot_id","reason","bucket")
);
--> statement-breakpoint
CREATE TABLE "notify_state" (
	"slot_id" text PRIMARY KEY NOT NULL,
	"failing" boolean NOT NULL,
	"changed_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE INDEX "ingest_refusal_time_idx" ON "ingest_refusal" USING btree ("bucket");