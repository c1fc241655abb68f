CREATE TABLE "entitlement_states" (
	"external_user_id" text NOT NULL,
	"campaign_id" text NOT NULL,
	"entitled" boolean DEFAULT false NOT NULL,
	"status" text DEFAULT 'inactive' NOT NULL,
	"tier_ids" text[] DEFAULT '{}'::text[] NOT NULL,
	"until" timestamp with time zone,
	"answer" jsonb,
	"version" integer DEFAULT 0 NOT NULL,
	"due_at" timestamp with time zone,
	"reviewed_at" timestamp with time zone,
	CONSTRAINT "entitlement_states_external_user_id_campaign_id_pk" PRIMARY KEY("external_user_id","campaign_id")
);
--> statement-breakpoint
ALTER TABLE "webhook_events" DROP CONSTRAINT "webhook_events_dedupe_key_unique";--> statement-breakpoint
ALTER TABLE "connections" ADD COLUMN "memberships_refreshed_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "connections" ADD COLUMN "memberships_due_at" timestamp with time zone;--> statement-breakpoint
CREATE INDEX "entitlement_states_due_at_idx" ON "entitlement_states" USING btree ("due_at") WHERE "entitlement_states"."due_at" is not null;--> statement-breakpoint
CREATE INDEX "entitlement_states_campaign_id_idx" ON "entitlement_states" USING btree ("campaign_id");--> statement-breakpoint
CREATE INDEX "connections_memberships_due_at_idx" ON "connections" USING btree ("memberships_due_at") WHERE "connections"."memberships_due_at" is not null;--> statement-breakpoint
CREATE INDEX "webhook_events_webhook_id_dedupe_key_idx" ON "webhook_events" USING btree ("webhook_id","dedupe_key");--> statement-breakpoint
-- Patron connections made before this migration are refreshed at once, then on their schedule.
UPDATE "connections" SET "memberships_due_at" = now() WHERE "role" = 'patron' AND "status" <> 'disconnected';