CREATE TABLE "patreon_rate_slots" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"key" text NOT NULL,
	"sent_at" timestamp with time zone DEFAULT now() NOT NULL,
	"done_at" timestamp with time zone
);
--> statement-breakpoint
CREATE INDEX "patreon_rate_slots_key_idx" ON "patreon_rate_slots" USING btree ("key","done_at");