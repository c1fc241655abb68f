CREATE TABLE "sync_seen" (
	"job_id" uuid NOT NULL,
	"kind" text NOT NULL,
	"resource_id" text NOT NULL,
	CONSTRAINT "sync_seen_job_id_kind_resource_id_pk" PRIMARY KEY("job_id","kind","resource_id")
);
--> statement-breakpoint
ALTER TABLE "sync_seen" ADD CONSTRAINT "sync_seen_job_id_sync_jobs_id_fk" FOREIGN KEY ("job_id") REFERENCES "public"."sync_jobs"("id") ON DELETE cascade ON UPDATE no action;