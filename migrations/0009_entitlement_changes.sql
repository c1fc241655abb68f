-- Every instance caches entitlement lookups in memory (src/entitlements/cache.ts) and drops what a
-- commit changed when Postgres notifies `entitlement_changes`. The triggers below send, once per
-- statement and only after commit, the tags of what the statement touched: `c:<campaign id>`,
-- `p:<Patreon user id>`, `m:<member id>`, `x:<host user id>`, or `*` for everything. Whoever
-- writes (sync, webhook apply, OAuth, a person with psql) is heard by every instance.

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

CREATE FUNCTION "entitlement_changes_campaigns"() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
	tags text[] := '{}';
BEGIN
	IF TG_OP <> 'DELETE' THEN
		tags := tags || ARRAY(SELECT 'c:' || "id" FROM new_rows);
	END IF;
	IF TG_OP <> 'INSERT' THEN
		tags := tags || ARRAY(SELECT 'c:' || "id" FROM old_rows);
	END IF;
	PERFORM entitlement_changes_send(tags);
	RETURN NULL;
END $$;--> statement-breakpoint

-- tiers and benefits: a change in a campaign's catalogue touches every answer in that campaign.
CREATE FUNCTION "entitlement_changes_catalogue"() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
	tags text[] := '{}';
BEGIN
	IF TG_OP <> 'DELETE' THEN
		tags := tags || ARRAY(SELECT 'c:' || "campaign_id" FROM new_rows);
	END IF;
	IF TG_OP <> 'INSERT' THEN
		tags := tags || ARRAY(SELECT 'c:' || "campaign_id" FROM old_rows);
	END IF;
	PERFORM entitlement_changes_send(tags);
	RETURN NULL;
END $$;--> statement-breakpoint

-- A tier gone with its benefit links (cascade) is already announced by the tiers trigger; a link
-- whose tier cannot be found says `*`.
CREATE FUNCTION "entitlement_changes_tier_benefits"() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
	tags text[] := '{}';
BEGIN
	IF TG_OP <> 'DELETE' THEN
		tags := tags || ARRAY(SELECT coalesce('c:' || t."campaign_id", '*') FROM new_rows r LEFT JOIN "tiers" t ON t."id" = r."tier_id");
	END IF;
	IF TG_OP <> 'INSERT' THEN
		tags := tags || ARRAY(SELECT coalesce('c:' || t."campaign_id", '*') FROM old_rows r LEFT JOIN "tiers" t ON t."id" = r."tier_id");
	END IF;
	PERFORM entitlement_changes_send(tags);
	RETURN NULL;
END $$;--> statement-breakpoint

-- members: which membership a host user has is chosen among the members of their Patreon users.
CREATE FUNCTION "entitlement_changes_members"() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
	tags text[] := '{}';
BEGIN
	IF TG_OP <> 'DELETE' THEN
		tags := tags || (SELECT CASE WHEN count(*) > 100 THEN array_agg(DISTINCT 'c:' || "campaign_id")
			ELSE array_agg('p:' || "user_id") FILTER (WHERE "user_id" IS NOT NULL) END FROM new_rows);
	END IF;
	IF TG_OP <> 'INSERT' THEN
		tags := tags || (SELECT CASE WHEN count(*) > 100 THEN array_agg(DISTINCT 'c:' || "campaign_id")
			ELSE array_agg('p:' || "user_id") FILTER (WHERE "user_id" IS NOT NULL) END FROM old_rows);
	END IF;
	PERFORM entitlement_changes_send(tags);
	RETURN NULL;
END $$;--> statement-breakpoint

-- member_tiers: the chosen membership's tiers.
CREATE FUNCTION "entitlement_changes_member_tiers"() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
	tags text[] := '{}';
BEGIN
	IF TG_OP <> 'DELETE' THEN
		IF (SELECT count(*) FROM new_rows) > 100 THEN
			tags := tags || ARRAY(SELECT DISTINCT 'c:' || m."campaign_id" FROM "members" m WHERE m."id" IN (SELECT "member_id" FROM new_rows));
		ELSE
			tags := tags || ARRAY(SELECT 'm:' || "member_id" FROM new_rows);
		END IF;
	END IF;
	IF TG_OP <> 'INSERT' THEN
		IF (SELECT count(*) FROM old_rows) > 100 THEN
			tags := tags || ARRAY(SELECT DISTINCT coalesce('c:' || m."campaign_id", '*') FROM old_rows r LEFT JOIN "members" m ON m."id" = r."member_id");
		ELSE
			tags := tags || ARRAY(SELECT 'm:' || "member_id" FROM old_rows);
		END IF;
	END IF;
	PERFORM entitlement_changes_send(tags);
	RETURN NULL;
END $$;--> statement-breakpoint

-- pledge_events: the chosen membership's last paid charge (deleted-tier rule).
CREATE FUNCTION "entitlement_changes_pledge_events"() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
	tags text[] := '{}';
BEGIN
	IF TG_OP <> 'DELETE' THEN
		tags := tags || (SELECT CASE WHEN count(*) > 100 THEN array_agg(DISTINCT 'c:' || "campaign_id")
			ELSE array_agg('m:' || "member_id") FILTER (WHERE "member_id" IS NOT NULL) END FROM new_rows);
	END IF;
	IF TG_OP <> 'INSERT' THEN
		tags := tags || (SELECT CASE WHEN count(*) > 100 THEN array_agg(DISTINCT 'c:' || "campaign_id")
			ELSE array_agg('m:' || "member_id") FILTER (WHERE "member_id" IS NOT NULL) END FROM old_rows);
	END IF;
	PERFORM entitlement_changes_send(tags);
	RETURN NULL;
END $$;--> statement-breakpoint

-- connections: which Patreon users a host user has connected.
CREATE FUNCTION "entitlement_changes_connections"() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
	tags text[] := '{}';
BEGIN
	IF TG_OP <> 'DELETE' THEN
		tags := tags || ARRAY(SELECT 'x:' || "external_user_id" FROM new_rows);
	END IF;
	IF TG_OP <> 'INSERT' THEN
		tags := tags || ARRAY(SELECT 'x:' || "external_user_id" FROM old_rows);
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
	watched text[][] := ARRAY[
		['campaigns', 'entitlement_changes_campaigns'],
		['tiers', 'entitlement_changes_catalogue'],
		['benefits', 'entitlement_changes_catalogue'],
		['tier_benefits', 'entitlement_changes_tier_benefits'],
		['members', 'entitlement_changes_members'],
		['member_tiers', 'entitlement_changes_member_tiers'],
		['pledge_events', 'entitlement_changes_pledge_events'],
		['connections', 'entitlement_changes_connections']
	];
	i int;
	tbl text;
	fn text;
BEGIN
	FOR i IN 1 .. array_length(watched, 1) LOOP
		tbl := watched[i][1];
		fn := watched[i][2];
		-- A trigger with transition tables serves one event only.
		EXECUTE format('CREATE TRIGGER %I AFTER INSERT ON %I REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION %I()', tbl || '_entitlement_inserted', tbl, fn);
		EXECUTE format('CREATE TRIGGER %I AFTER UPDATE ON %I REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION %I()', tbl || '_entitlement_updated', tbl, fn);
		EXECUTE format('CREATE TRIGGER %I AFTER DELETE ON %I REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION %I()', tbl || '_entitlement_deleted', tbl, fn);
		EXECUTE format('CREATE TRIGGER %I AFTER TRUNCATE ON %I FOR EACH STATEMENT EXECUTE FUNCTION entitlement_changes_truncated()', tbl || '_entitlement_truncated', tbl);
	END LOOP;
END $$;
