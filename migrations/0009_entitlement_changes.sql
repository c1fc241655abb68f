-- Every instance caches entitlement lookups in memory (src/entitlements/cache.ts) and drops what a
-- commit changed when Postgres notifies `entitlement_changes`. The triggers below send, for each
-- row written and only once the transaction commits, the tag of what the row belongs to:
-- `c:<campaign id>`, `p:<Patreon user id>`, `m:<member id>`, `x:<host user id>`, or `*` for
-- everything. Whoever writes (webhook apply, OAuth, a person with psql) is heard by every instance.
--
-- A bulk writer (a sync page: a thousand members with their tiers and charges) announces its
-- campaign once instead (src/db/entitlement-changes.ts): it notifies `c:<campaign>` and sets
-- `patreon_gateway.entitlement_changes` to `announced` for its transaction, which the triggers'
-- WHEN clause reads, so its rows pay no trigger call at all.

-- Sends a JSON array of distinct tags; `["*"]` when the list would not fit in a notification.
CREATE FUNCTION "entitlement_changes_send"(tags text[]) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
	payload text;
BEGIN
	IF tags IS NULL OR cardinality(tags) = 0 THEN
		RETURN;
	END IF;
	payload := array_to_json(ARRAY(SELECT DISTINCT tag FROM unnest(tags) AS tag WHERE tag IS NOT NULL))::text;
	IF payload = '[]' THEN
		RETURN;
	END IF;
	IF octet_length(payload) > 7000 OR '*' = ANY (tags) THEN
		payload := '["*"]';
	END IF;
	PERFORM pg_notify('entitlement_changes', payload);
END $$;--> statement-breakpoint

-- The tags of one row of a watched table.
CREATE FUNCTION "entitlement_changes_tags"(tbl name, r anyelement) RETURNS text[] LANGUAGE plpgsql AS $$
BEGIN
	CASE tbl
		WHEN 'campaigns' THEN RETURN ARRAY['c:' || r.id];
		WHEN 'tiers', 'benefits' THEN RETURN ARRAY['c:' || r.campaign_id];
		-- A link whose tier is gone (deleted with it, and announced by the tiers row) says `*`.
		WHEN 'tier_benefits' THEN
			RETURN ARRAY[coalesce((SELECT 'c:' || t."campaign_id" FROM "tiers" t WHERE t."id" = r.tier_id), '*')];
		-- Which membership a host user has is chosen among the members of their Patreon users.
		WHEN 'members' THEN RETURN ARRAY['p:' || r.user_id];
		-- The chosen membership's tiers and its last paid charge (deleted-tier rule).
		WHEN 'member_tiers', 'pledge_events' THEN RETURN ARRAY['m:' || r.member_id];
		-- Which Patreon users a host user has connected.
		WHEN 'connections' THEN RETURN ARRAY['x:' || r.external_user_id];
		ELSE RETURN ARRAY['*'];
	END CASE;
END $$;--> statement-breakpoint

CREATE FUNCTION "entitlement_changes_row"() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
	tags text[] := '{}';
BEGIN
	IF TG_OP <> 'DELETE' THEN
		tags := tags || entitlement_changes_tags(TG_TABLE_NAME, NEW);
	END IF;
	IF TG_OP <> 'INSERT' THEN
		tags := tags || entitlement_changes_tags(TG_TABLE_NAME, OLD);
	END IF;
	PERFORM entitlement_changes_send(tags);
	RETURN NULL;
END $$;--> statement-breakpoint

CREATE FUNCTION "entitlement_changes_truncated"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	PERFORM entitlement_changes_send(ARRAY['*']);
	RETURN NULL;
END $$;--> statement-breakpoint

DO $$
DECLARE
	tbl text;
BEGIN
	FOREACH tbl IN ARRAY ARRAY['campaigns', 'tiers', 'benefits', 'tier_benefits', 'members',
		'member_tiers', 'pledge_events', 'connections']
	LOOP
		EXECUTE format('CREATE TRIGGER %I AFTER INSERT OR UPDATE OR DELETE ON %I FOR EACH ROW '
			'WHEN (current_setting(''patreon_gateway.entitlement_changes'', true) IS DISTINCT FROM ''announced'') '
			'EXECUTE FUNCTION entitlement_changes_row()', tbl || '_entitlement_changes', tbl);
		EXECUTE format('CREATE TRIGGER %I AFTER TRUNCATE ON %I FOR EACH STATEMENT '
			'EXECUTE FUNCTION entitlement_changes_truncated()', tbl || '_entitlement_truncated', tbl);
	END LOOP;
END $$;
