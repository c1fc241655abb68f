CREATE TABLE "outbound_attempts" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "outbound_attempts_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"delivery_id" uuid NOT NULL,
	"attempted_at" timestamp with time zone NOT NULL,
	"status_code" integer,
	"error" text,
	"duration_ms" integer NOT NULL,
	"response_body" text
);
--> statement-breakpoint
ALTER TABLE "outbound_endpoints" ADD COLUMN "previous_secrets_expire_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "outbound_endpoints" ADD COLUMN "source" text DEFAULT 'api' NOT NULL;--> statement-breakpoint
ALTER TABLE "outbound_endpoints" ADD COLUMN "disabled_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "outbound_endpoints" ADD COLUMN "failing_since" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "outbound_events" ADD COLUMN "seq" bigint NOT NULL GENERATED ALWAYS AS IDENTITY (sequence name "outbound_events_seq_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1);--> statement-breakpoint
ALTER TABLE "outbound_events" ADD COLUMN "resource_key" text;--> statement-breakpoint
-- Events recorded before this migration: their resource from the payload they carry.
UPDATE "outbound_events" SET "resource_key" = CASE
	WHEN "payload" ? 'member' THEN 'member:' || ("payload"->'member'->>'id')
	WHEN "payload" ? 'post' THEN 'post:' || ("payload"->'post'->>'id')
	WHEN "type" LIKE 'connection.%' THEN 'connection:' || "connection_id"
END;--> statement-breakpoint
ALTER TABLE "outbound_deliveries" ADD COLUMN "event_seq" bigint;--> statement-breakpoint
ALTER TABLE "outbound_deliveries" ADD COLUMN "resource_key" text;--> statement-breakpoint
UPDATE "outbound_deliveries" d SET "event_seq" = e."seq", "resource_key" = e."resource_key" FROM "outbound_events" e WHERE e."id" = d."event_id";--> statement-breakpoint
ALTER TABLE "outbound_deliveries" ALTER COLUMN "event_seq" SET NOT NULL;--> statement-breakpoint
ALTER TABLE "outbound_attempts" ADD CONSTRAINT "outbound_attempts_delivery_id_outbound_deliveries_id_fk" FOREIGN KEY ("delivery_id") REFERENCES "public"."outbound_deliveries"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "outbound_attempts_delivery_id_idx" ON "outbound_attempts" USING btree ("delivery_id","id");--> statement-breakpoint
CREATE INDEX "outbound_deliveries_open_resource_idx" ON "outbound_deliveries" USING btree ("endpoint_id","resource_key","event_seq") WHERE "outbound_deliveries"."status" in ('pending', 'failed');--> statement-breakpoint
CREATE UNIQUE INDEX "outbound_endpoints_config_key" ON "outbound_endpoints" USING btree ("source") WHERE "outbound_endpoints"."source" = 'config';--> statement-breakpoint
CREATE INDEX "outbound_endpoints_created_at_idx" ON "outbound_endpoints" USING btree ("created_at","id");--> statement-breakpoint
CREATE UNIQUE INDEX "outbound_events_seq_key" ON "outbound_events" USING btree ("seq");--> statement-breakpoint
CREATE INDEX "outbound_events_type_seq_idx" ON "outbound_events" USING btree ("type","seq");