DROP INDEX "outbound_deliveries_due_idx";--> statement-breakpoint
ALTER TABLE "outbound_deliveries" ADD COLUMN "ready" boolean DEFAULT false NOT NULL;--> statement-breakpoint
CREATE INDEX "outbound_deliveries_ready_idx" ON "outbound_deliveries" USING btree ("next_attempt_at") WHERE "outbound_deliveries"."status" in ('pending', 'failed') and "outbound_deliveries"."ready";