CREATE TABLE "benefits" (
	"id" text PRIMARY KEY NOT NULL,
	"campaign_id" text NOT NULL,
	"title" text,
	"description" text,
	"benefit_type" text,
	"rule_type" text,
	"is_deleted" boolean,
	"is_ended" boolean,
	"is_published" boolean,
	"tiers_count" integer,
	"app_external_id" text,
	"app_meta" jsonb,
	"next_deliverable_due_date" timestamp with time zone,
	"patreon_created_at" timestamp with time zone,
	"seen_at" timestamp with time zone,
	"deleted_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "campaigns" (
	"id" text PRIMARY KEY NOT NULL,
	"connection_id" uuid,
	"creator_user_id" text,
	"name" text,
	"creation_name" text,
	"summary" text,
	"vanity" text,
	"url" text,
	"pledge_url" text,
	"image_url" text,
	"image_small_url" text,
	"currency" text,
	"is_monthly" boolean,
	"is_nsfw" boolean,
	"is_charged_immediately" boolean,
	"patron_count" integer,
	"published_at" timestamp with time zone,
	"patreon_created_at" timestamp with time zone,
	"last_synced_at" timestamp with time zone,
	"seen_at" timestamp with time zone,
	"deleted_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "goals" (
	"id" text PRIMARY KEY NOT NULL,
	"campaign_id" text NOT NULL,
	"title" text,
	"description" text,
	"amount_cents" integer,
	"currency" text DEFAULT 'USD' NOT NULL,
	"completed_percentage" integer,
	"reached_at" timestamp with time zone,
	"patreon_created_at" timestamp with time zone,
	"seen_at" timestamp with time zone,
	"deleted_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "tier_benefits" (
	"tier_id" text NOT NULL,
	"benefit_id" text NOT NULL,
	CONSTRAINT "tier_benefits_tier_id_benefit_id_pk" PRIMARY KEY("tier_id","benefit_id")
);
--> statement-breakpoint
CREATE TABLE "tiers" (
	"id" text PRIMARY KEY NOT NULL,
	"campaign_id" text NOT NULL,
	"title" text,
	"description" text,
	"amount_cents" integer,
	"currency" text DEFAULT 'USD' NOT NULL,
	"patron_count" integer,
	"post_count" integer,
	"published" boolean,
	"published_at" timestamp with time zone,
	"unpublished_at" timestamp with time zone,
	"edited_at" timestamp with time zone,
	"remaining" integer,
	"user_limit" integer,
	"requires_shipping" boolean,
	"discord_role_ids" text[],
	"image_url" text,
	"url" text,
	"patreon_created_at" timestamp with time zone,
	"seen_at" timestamp with time zone,
	"deleted_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "connections" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"external_user_id" text NOT NULL,
	"role" text NOT NULL,
	"status" text DEFAULT 'active' NOT NULL,
	"patreon_user_id" text NOT NULL,
	"scopes" text[] DEFAULT '{}' NOT NULL,
	"access_token_ciphertext" text,
	"refresh_token_ciphertext" text,
	"token_expires_at" timestamp with time zone,
	"last_refreshed_at" timestamp with time zone,
	"failure_count" integer DEFAULT 0 NOT NULL,
	"last_error_code" text,
	"last_error_at" timestamp with time zone,
	"disconnected_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "oauth_states" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"ticket_hash" text NOT NULL,
	"state_hash" text NOT NULL,
	"external_user_id" text NOT NULL,
	"role" text NOT NULL,
	"scopes" text[] NOT NULL,
	"return_to" text NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"ticket_used_at" timestamp with time zone,
	"completed_at" timestamp with time zone,
	"connection_id" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "oauth_states_ticket_hash_unique" UNIQUE("ticket_hash"),
	CONSTRAINT "oauth_states_state_hash_unique" UNIQUE("state_hash")
);
--> statement-breakpoint
CREATE TABLE "member_tiers" (
	"member_id" text NOT NULL,
	"tier_id" text NOT NULL,
	CONSTRAINT "member_tiers_member_id_tier_id_pk" PRIMARY KEY("member_id","tier_id")
);
--> statement-breakpoint
CREATE TABLE "members" (
	"id" text PRIMARY KEY NOT NULL,
	"campaign_id" text NOT NULL,
	"user_id" text,
	"full_name" text,
	"email" text,
	"note" text,
	"patron_status" text,
	"last_charge_status" text,
	"last_charge_date" timestamp with time zone,
	"next_charge_date" timestamp with time zone,
	"pledge_cadence" integer,
	"pledge_relationship_start" timestamp with time zone,
	"currency" text,
	"currently_entitled_amount_cents" integer,
	"will_pay_amount_cents" integer,
	"campaign_lifetime_support_cents" integer,
	"is_free_trial" boolean,
	"is_gifted" boolean,
	"is_follower" boolean,
	"address" jsonb,
	"last_source" text,
	"seen_at" timestamp with time zone,
	"deleted_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "pledge_events" (
	"id" text PRIMARY KEY NOT NULL,
	"campaign_id" text NOT NULL,
	"member_id" text,
	"patron_user_id" text,
	"type" text,
	"date" timestamp with time zone NOT NULL,
	"amount_cents" integer,
	"currency" text,
	"payment_status" text,
	"pledge_payment_status" text,
	"tier_id" text,
	"tier_title" text,
	"seen_at" timestamp with time zone,
	"deleted_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "outbound_deliveries" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"event_id" uuid NOT NULL,
	"endpoint_id" uuid NOT NULL,
	"status" text DEFAULT 'pending' NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"next_attempt_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_attempt_at" timestamp with time zone,
	"last_status_code" integer,
	"last_error" text,
	"last_response" jsonb,
	"delivered_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "outbound_endpoints" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"url" text NOT NULL,
	"description" text,
	"event_types" text[] DEFAULT '{}' NOT NULL,
	"secret_ciphertexts" text[] NOT NULL,
	"enabled" boolean DEFAULT true NOT NULL,
	"disabled_reason" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "outbound_events" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"type" text NOT NULL,
	"dedupe_key" text NOT NULL,
	"campaign_id" text,
	"connection_id" uuid,
	"external_user_id" text,
	"payload" jsonb NOT NULL,
	"occurred_at" timestamp with time zone NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "outbound_events_dedupe_key_unique" UNIQUE("dedupe_key")
);
--> statement-breakpoint
CREATE TABLE "patreon_users" (
	"id" text PRIMARY KEY NOT NULL,
	"email" text,
	"is_email_verified" boolean,
	"full_name" text,
	"first_name" text,
	"last_name" text,
	"vanity" text,
	"url" text,
	"image_url" text,
	"thumb_url" text,
	"is_creator" boolean,
	"social_connections" jsonb,
	"patreon_created_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "posts" (
	"id" text PRIMARY KEY NOT NULL,
	"campaign_id" text NOT NULL,
	"user_id" text,
	"title" text,
	"content" text,
	"url" text,
	"embed_url" text,
	"embed_data" jsonb,
	"is_paid" boolean,
	"is_public" boolean,
	"tier_ids" text[],
	"app_id" integer,
	"app_status" text,
	"published_at" timestamp with time zone,
	"seen_at" timestamp with time zone,
	"deleted_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "sync_jobs" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"connection_id" uuid NOT NULL,
	"campaign_id" text,
	"kind" text NOT NULL,
	"status" text DEFAULT 'queued' NOT NULL,
	"trigger" text NOT NULL,
	"phase" text,
	"cursor" text,
	"counts" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"drift" jsonb,
	"attempts" integer DEFAULT 0 NOT NULL,
	"queue_job_id" text,
	"error_code" text,
	"error_detail" text,
	"waiting_until" timestamp with time zone,
	"started_at" timestamp with time zone,
	"finished_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "patreon_webhooks" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"patreon_webhook_id" text,
	"connection_id" uuid,
	"campaign_id" text NOT NULL,
	"uri" text NOT NULL,
	"triggers" text[] NOT NULL,
	"secret_ciphertext" text,
	"paused" boolean DEFAULT false NOT NULL,
	"num_consecutive_times_failed" integer DEFAULT 0 NOT NULL,
	"last_attempted_at" timestamp with time zone,
	"last_delivery_at" timestamp with time zone,
	"last_reconciled_at" timestamp with time zone,
	"deleted_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "patreon_webhooks_patreon_webhook_id_unique" UNIQUE("patreon_webhook_id")
);
--> statement-breakpoint
CREATE TABLE "webhook_events" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"webhook_id" uuid NOT NULL,
	"event" text NOT NULL,
	"dedupe_key" text NOT NULL,
	"body" "bytea" NOT NULL,
	"resource_type" text,
	"resource_id" text,
	"status" text DEFAULT 'received' NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"last_error" text,
	"received_at" timestamp with time zone DEFAULT now() NOT NULL,
	"duplicate_count" integer DEFAULT 0 NOT NULL,
	"applied_at" timestamp with time zone,
	CONSTRAINT "webhook_events_dedupe_key_unique" UNIQUE("dedupe_key")
);
--> statement-breakpoint
ALTER TABLE "benefits" ADD CONSTRAINT "benefits_campaign_id_campaigns_id_fk" FOREIGN KEY ("campaign_id") REFERENCES "public"."campaigns"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "campaigns" ADD CONSTRAINT "campaigns_connection_id_connections_id_fk" FOREIGN KEY ("connection_id") REFERENCES "public"."connections"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "campaigns" ADD CONSTRAINT "campaigns_creator_user_id_patreon_users_id_fk" FOREIGN KEY ("creator_user_id") REFERENCES "public"."patreon_users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "goals" ADD CONSTRAINT "goals_campaign_id_campaigns_id_fk" FOREIGN KEY ("campaign_id") REFERENCES "public"."campaigns"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "tier_benefits" ADD CONSTRAINT "tier_benefits_tier_id_tiers_id_fk" FOREIGN KEY ("tier_id") REFERENCES "public"."tiers"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "tier_benefits" ADD CONSTRAINT "tier_benefits_benefit_id_benefits_id_fk" FOREIGN KEY ("benefit_id") REFERENCES "public"."benefits"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "tiers" ADD CONSTRAINT "tiers_campaign_id_campaigns_id_fk" FOREIGN KEY ("campaign_id") REFERENCES "public"."campaigns"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "connections" ADD CONSTRAINT "connections_patreon_user_id_patreon_users_id_fk" FOREIGN KEY ("patreon_user_id") REFERENCES "public"."patreon_users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "oauth_states" ADD CONSTRAINT "oauth_states_connection_id_connections_id_fk" FOREIGN KEY ("connection_id") REFERENCES "public"."connections"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "member_tiers" ADD CONSTRAINT "member_tiers_member_id_members_id_fk" FOREIGN KEY ("member_id") REFERENCES "public"."members"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "members" ADD CONSTRAINT "members_campaign_id_campaigns_id_fk" FOREIGN KEY ("campaign_id") REFERENCES "public"."campaigns"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "members" ADD CONSTRAINT "members_user_id_patreon_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."patreon_users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "pledge_events" ADD CONSTRAINT "pledge_events_campaign_id_campaigns_id_fk" FOREIGN KEY ("campaign_id") REFERENCES "public"."campaigns"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "pledge_events" ADD CONSTRAINT "pledge_events_member_id_members_id_fk" FOREIGN KEY ("member_id") REFERENCES "public"."members"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "outbound_deliveries" ADD CONSTRAINT "outbound_deliveries_event_id_outbound_events_id_fk" FOREIGN KEY ("event_id") REFERENCES "public"."outbound_events"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "outbound_deliveries" ADD CONSTRAINT "outbound_deliveries_endpoint_id_outbound_endpoints_id_fk" FOREIGN KEY ("endpoint_id") REFERENCES "public"."outbound_endpoints"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "posts" ADD CONSTRAINT "posts_campaign_id_campaigns_id_fk" FOREIGN KEY ("campaign_id") REFERENCES "public"."campaigns"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "sync_jobs" ADD CONSTRAINT "sync_jobs_connection_id_connections_id_fk" FOREIGN KEY ("connection_id") REFERENCES "public"."connections"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "sync_jobs" ADD CONSTRAINT "sync_jobs_campaign_id_campaigns_id_fk" FOREIGN KEY ("campaign_id") REFERENCES "public"."campaigns"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "patreon_webhooks" ADD CONSTRAINT "patreon_webhooks_connection_id_connections_id_fk" FOREIGN KEY ("connection_id") REFERENCES "public"."connections"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "patreon_webhooks" ADD CONSTRAINT "patreon_webhooks_campaign_id_campaigns_id_fk" FOREIGN KEY ("campaign_id") REFERENCES "public"."campaigns"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "webhook_events" ADD CONSTRAINT "webhook_events_webhook_id_patreon_webhooks_id_fk" FOREIGN KEY ("webhook_id") REFERENCES "public"."patreon_webhooks"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "benefits_campaign_id_idx" ON "benefits" USING btree ("campaign_id");--> statement-breakpoint
CREATE INDEX "campaigns_connection_id_idx" ON "campaigns" USING btree ("connection_id");--> statement-breakpoint
CREATE INDEX "campaigns_creator_user_id_idx" ON "campaigns" USING btree ("creator_user_id");--> statement-breakpoint
CREATE INDEX "goals_campaign_id_idx" ON "goals" USING btree ("campaign_id");--> statement-breakpoint
CREATE INDEX "tier_benefits_benefit_id_idx" ON "tier_benefits" USING btree ("benefit_id");--> statement-breakpoint
CREATE INDEX "tiers_campaign_id_idx" ON "tiers" USING btree ("campaign_id","amount_cents");--> statement-breakpoint
CREATE UNIQUE INDEX "connections_external_user_patreon_user_role_key" ON "connections" USING btree ("external_user_id","patreon_user_id","role");--> statement-breakpoint
CREATE INDEX "connections_external_user_id_idx" ON "connections" USING btree ("external_user_id","created_at","id");--> statement-breakpoint
CREATE INDEX "connections_created_at_idx" ON "connections" USING btree ("created_at","id");--> statement-breakpoint
CREATE INDEX "connections_patreon_user_id_idx" ON "connections" USING btree ("patreon_user_id");--> statement-breakpoint
CREATE INDEX "connections_status_token_expires_at_idx" ON "connections" USING btree ("status","token_expires_at");--> statement-breakpoint
CREATE INDEX "oauth_states_expires_at_idx" ON "oauth_states" USING btree ("expires_at");--> statement-breakpoint
CREATE INDEX "oauth_states_connection_id_idx" ON "oauth_states" USING btree ("connection_id");--> statement-breakpoint
CREATE INDEX "member_tiers_tier_id_idx" ON "member_tiers" USING btree ("tier_id");--> statement-breakpoint
CREATE INDEX "members_campaign_id_idx" ON "members" USING btree ("campaign_id","id");--> statement-breakpoint
CREATE INDEX "members_campaign_id_patron_status_idx" ON "members" USING btree ("campaign_id","patron_status");--> statement-breakpoint
CREATE INDEX "members_user_id_campaign_id_idx" ON "members" USING btree ("user_id","campaign_id");--> statement-breakpoint
CREATE INDEX "members_campaign_id_email_idx" ON "members" USING btree ("campaign_id","email") WHERE "members"."email" is not null;--> statement-breakpoint
CREATE INDEX "pledge_events_campaign_id_date_idx" ON "pledge_events" USING btree ("campaign_id","date");--> statement-breakpoint
CREATE INDEX "pledge_events_member_id_date_idx" ON "pledge_events" USING btree ("member_id","date");--> statement-breakpoint
CREATE INDEX "pledge_events_patron_user_id_idx" ON "pledge_events" USING btree ("patron_user_id");--> statement-breakpoint
CREATE UNIQUE INDEX "outbound_deliveries_event_id_endpoint_id_key" ON "outbound_deliveries" USING btree ("event_id","endpoint_id");--> statement-breakpoint
CREATE INDEX "outbound_deliveries_due_idx" ON "outbound_deliveries" USING btree ("next_attempt_at") WHERE "outbound_deliveries"."status" in ('pending', 'failed');--> statement-breakpoint
CREATE INDEX "outbound_deliveries_endpoint_id_status_idx" ON "outbound_deliveries" USING btree ("endpoint_id","status","created_at");--> statement-breakpoint
CREATE INDEX "outbound_events_created_at_idx" ON "outbound_events" USING btree ("created_at","id");--> statement-breakpoint
CREATE INDEX "outbound_events_type_created_at_idx" ON "outbound_events" USING btree ("type","created_at");--> statement-breakpoint
CREATE INDEX "outbound_events_campaign_id_idx" ON "outbound_events" USING btree ("campaign_id","created_at");--> statement-breakpoint
CREATE INDEX "posts_campaign_id_published_at_idx" ON "posts" USING btree ("campaign_id","published_at","id");--> statement-breakpoint
CREATE INDEX "sync_jobs_connection_id_created_at_idx" ON "sync_jobs" USING btree ("connection_id","created_at");--> statement-breakpoint
CREATE INDEX "sync_jobs_campaign_id_created_at_idx" ON "sync_jobs" USING btree ("campaign_id","created_at");--> statement-breakpoint
CREATE INDEX "sync_jobs_status_idx" ON "sync_jobs" USING btree ("status");--> statement-breakpoint
CREATE INDEX "patreon_webhooks_campaign_id_idx" ON "patreon_webhooks" USING btree ("campaign_id");--> statement-breakpoint
CREATE INDEX "patreon_webhooks_connection_id_idx" ON "patreon_webhooks" USING btree ("connection_id");--> statement-breakpoint
CREATE INDEX "webhook_events_pending_idx" ON "webhook_events" USING btree ("id") WHERE "webhook_events"."status" = 'received';--> statement-breakpoint
CREATE INDEX "webhook_events_webhook_id_received_at_idx" ON "webhook_events" USING btree ("webhook_id","received_at");--> statement-breakpoint
CREATE INDEX "webhook_events_resource_idx" ON "webhook_events" USING btree ("resource_type","resource_id","id");