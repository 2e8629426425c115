CREATE TABLE "provider_usage" (
	"provider" text NOT NULL,
	"day" text NOT NULL,
	"requests" integer DEFAULT 0 NOT NULL,
	"exhausted_at" timestamp with time zone,
	"exhausted_message" text,
	"updated_at" timestamp with time zone NOT NULL,
	CONSTRAINT "provider_usage_provider_day_pk" PRIMARY KEY("provider","day")
);
--> statement-breakpoint
CREATE TABLE "slot_preset" (
	"id" uuid PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"provider" text NOT NULL,
	"operation" text NOT NULL,
	"settings" jsonb NOT NULL,
	"created_by" text NOT NULL,
	"created_at" timestamp with time zone NOT NULL
);
