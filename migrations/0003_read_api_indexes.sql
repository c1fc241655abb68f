CREATE INDEX "members_campaign_id_updated_at_idx" ON "members" USING btree ("campaign_id","updated_at","id");--> statement-breakpoint
CREATE INDEX "members_campaign_id_pledge_relationship_start_idx" ON "members" USING btree ("campaign_id","pledge_relationship_start","id");--> statement-breakpoint
CREATE INDEX "members_campaign_id_full_name_idx" ON "members" USING btree ("campaign_id","full_name","id");--> statement-breakpoint
CREATE INDEX "members_campaign_id_last_charge_status_idx" ON "members" USING btree ("campaign_id","last_charge_status");--> statement-breakpoint
CREATE INDEX "members_campaign_id_lower_email_idx" ON "members" USING btree ("campaign_id",lower("email")) WHERE "members"."email" is not null;--> statement-breakpoint
CREATE INDEX "pledge_events_campaign_id_type_date_idx" ON "pledge_events" USING btree ("campaign_id","type","date","id");--> statement-breakpoint
CREATE INDEX "pledge_events_campaign_id_tier_id_date_idx" ON "pledge_events" USING btree ("campaign_id","tier_id","date","id");