-- The members email filter is case-insensitive and uses members_campaign_id_lower_email_idx; this
-- exact-match index was never read, only written on every member upsert.
DROP INDEX "members_campaign_id_email_idx";--> statement-breakpoint
-- sync_seen: one row per page written (its ids as an array) instead of a row per id. What jobs in
-- progress have seen so far is kept, grouped.
ALTER TABLE "sync_seen" RENAME TO "sync_seen_ids";--> statement-breakpoint
ALTER TABLE "sync_seen_ids" DROP CONSTRAINT "sync_seen_job_id_kind_resource_id_pk";--> statement-breakpoint
CREATE TABLE "sync_seen" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"job_id" uuid NOT NULL,
	"kind" text NOT NULL,
	"resource_ids" text[] NOT NULL
);--> statement-breakpoint
ALTER TABLE "sync_seen" ADD CONSTRAINT "sync_seen_job_id_sync_jobs_id_fk" FOREIGN KEY ("job_id") REFERENCES "public"."sync_jobs"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "sync_seen_job_id_kind_idx" ON "sync_seen" USING btree ("job_id","kind");--> statement-breakpoint
INSERT INTO "sync_seen" ("job_id", "kind", "resource_ids")
	SELECT "job_id", "kind", array_agg("resource_id") FROM "sync_seen_ids" GROUP BY "job_id", "kind";--> statement-breakpoint
DROP TABLE "sync_seen_ids";
