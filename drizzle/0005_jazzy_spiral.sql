ALTER TABLE "instance" ADD COLUMN "address" text;--> statement-breakpoint
ALTER TABLE "instance" ADD COLUMN "jobs_in_flight" integer DEFAULT 0 NOT NULL;