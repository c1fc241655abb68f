ALTER TABLE "webhook_events" ADD COLUMN "error_code" text;--> statement-breakpoint
-- Errors stored before codes may hold a database error's text (SQL, parameters): replaced.
UPDATE "webhook_events" SET "error_code" = 'APPLY_FAILED',
  "last_error" = 'Applying the event failed (recorded before error codes).'
  WHERE "last_error" IS NOT NULL;--> statement-breakpoint
UPDATE "sync_jobs" SET "error_detail" = 'The sync failed (recorded before error codes).'
  WHERE "error_code" IS NOT NULL AND "error_code" !~ '^[A-Z][A-Z0-9_]+$';--> statement-breakpoint
UPDATE "sync_jobs" SET "error_code" = 'SYNC_ERROR' WHERE "error_code" !~ '^[A-Z][A-Z0-9_]+$';
