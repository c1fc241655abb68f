import { sql } from 'drizzle-orm';
import type { DbOrTx } from '../db/database.js';
import type { EntitlementView } from '../entitlements/schemas.js';

/** One host user's answer in one campaign: what the member pipeline reviews. */
export type Target = { externalUserId: string; campaignId: string };

/** What the host was last told (a row of `entitlement_states`). */
export type AnnouncedState = Target & {
  entitled: boolean;
  status: EntitlementView['status'];
  tierIds: string[];
  until: string | null;
  answer: EntitlementView | null;
  version: number;
};

type TargetRow = { external_user_id: string; campaign_id: string };
const targets = (rows: TargetRow[]): Target[] =>
  rows.map((row) => ({ externalUserId: row.external_user_id, campaignId: row.campaign_id }));

/**
 * The host users whose answers these members decide: those whose live connection proved the
 * member's Patreon user (the lookup's notion of "linked"), in the member's campaign.
 */
export async function targetsOfMembers(db: DbOrTx, memberIds: string[]): Promise<Target[]> {
  if (memberIds.length === 0) return [];
  const result = await db.execute<TargetRow>(sql`
    select distinct c.external_user_id, m.campaign_id
    from members m join connections c on c.patreon_user_id = m.user_id
    where m.id = any(${sql.param(memberIds)}::text[]) and c.status <> 'disconnected'`);
  return targets(result.rows);
}

/** Every host user with an answer in this campaign: announced before, or linked to a member. */
export async function targetsOfCampaign(db: DbOrTx, campaignId: string): Promise<Target[]> {
  const result = await db.execute<TargetRow>(sql`
    select external_user_id, campaign_id from entitlement_states where campaign_id = ${campaignId}
    union
    select c.external_user_id, m.campaign_id
    from connections c join members m on m.user_id = c.patreon_user_id
    where m.campaign_id = ${campaignId} and c.status <> 'disconnected'`);
  return targets(result.rows);
}

/**
 * Every campaign a host user's answer may have changed in after their connections changed: the
 * campaigns of every membership of any Patreon user they ever connected, and those announced.
 */
export async function targetsOfExternalUser(db: DbOrTx, externalUserId: string): Promise<Target[]> {
  const result = await db.execute<TargetRow>(sql`
    select external_user_id, campaign_id from entitlement_states
    where external_user_id = ${externalUserId}
    union
    select c.external_user_id, m.campaign_id
    from connections c join members m on m.user_id = c.patreon_user_id
    where c.external_user_id = ${externalUserId}`);
  return targets(result.rows);
}

/**
 * Locks the announced state of each target (creating "never announced" rows as needed), in one
 * order for every caller so two transactions cannot deadlock on them. Held until commit: two
 * writers reviewing one answer take turns, and the second sees what the first announced.
 */
export async function lockStates(
  db: DbOrTx,
  sorted: Target[],
): Promise<Map<string, AnnouncedState>> {
  const users = sorted.map((t) => t.externalUserId);
  const campaigns = sorted.map((t) => t.campaignId);
  await db.execute(sql`
    insert into entitlement_states (external_user_id, campaign_id)
    select * from unnest(${sql.param(users)}::text[], ${sql.param(campaigns)}::text[])
    on conflict do nothing`);
  const result = await db.execute<{
    external_user_id: string;
    campaign_id: string;
    entitled: boolean;
    status: EntitlementView['status'];
    tier_ids: string[];
    until: string | null;
    answer: EntitlementView | null;
    version: number;
  }>(sql`
    select s.external_user_id, s.campaign_id, s.entitled, s.status, s.tier_ids,
      to_json(s.until)#>>'{}' as until, s.answer, s.version
    from entitlement_states s
    join unnest(${sql.param(users)}::text[], ${sql.param(campaigns)}::text[]) as t(external_user_id, campaign_id)
      using (external_user_id, campaign_id)
    -- The order the caller sorted in (code points), so every transaction locks alike.
    order by s.external_user_id collate "C", s.campaign_id collate "C"
    for update of s`);
  return new Map(
    result.rows.map((row) => [
      keyOf({ externalUserId: row.external_user_id, campaignId: row.campaign_id }),
      {
        externalUserId: row.external_user_id,
        campaignId: row.campaign_id,
        entitled: row.entitled,
        status: row.status,
        tierIds: row.tier_ids,
        until: row.until === null ? null : new Date(row.until).toISOString(),
        answer: row.answer,
        version: row.version,
      },
    ]),
  );
}

export const keyOf = (target: Target) => `${target.externalUserId}\u0000${target.campaignId}`;

export type StateUpdate = Target & {
  /** Only for an announced change: the new state and answer, with the version bumped. */
  announced?: {
    entitled: boolean;
    status: string;
    tierIds: string[];
    until: string | null;
    answer: EntitlementView;
  };
  dueAt: string | null;
};

/** Writes what a review concluded, one statement for the lot. */
export async function writeStates(db: DbOrTx, updates: StateUpdate[], reviewedAt: Date) {
  if (updates.length === 0) return;
  const rows = updates.map((u) => ({
    external_user_id: u.externalUserId,
    campaign_id: u.campaignId,
    announced: u.announced !== undefined,
    entitled: u.announced?.entitled ?? null,
    status: u.announced?.status ?? null,
    tier_ids: u.announced?.tierIds ?? null,
    until: u.announced?.until ?? null,
    answer: u.announced?.answer ?? null,
    due_at: u.dueAt,
  }));
  await db.execute(sql`
    update entitlement_states s set
      entitled = case when u.announced then u.entitled else s.entitled end,
      status = case when u.announced then u.status else s.status end,
      tier_ids = case when u.announced then u.tier_ids else s.tier_ids end,
      until = case when u.announced then u.until else s.until end,
      answer = case when u.announced then u.answer else s.answer end,
      version = s.version + case when u.announced then 1 else 0 end,
      due_at = u.due_at,
      reviewed_at = ${reviewedAt.toISOString()}::timestamptz
    from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) as u(
      external_user_id text, campaign_id text, announced boolean, entitled boolean, status text,
      tier_ids text[], until timestamptz, answer jsonb, due_at timestamptz)
    where s.external_user_id = u.external_user_id and s.campaign_id = u.campaign_id`);
}

/**
 * Answers the clock has changed by `now`, oldest first, locked for this transaction; rows another
 * instance is reviewing are skipped (it announces them).
 */
export async function dueTargets(db: DbOrTx, now: Date, limit: number): Promise<Target[]> {
  const result = await db.execute<TargetRow>(sql`
    select external_user_id, campaign_id from entitlement_states
    where due_at <= ${now.toISOString()}::timestamptz
    order by due_at limit ${limit}
    for update skip locked`);
  return targets(result.rows);
}
