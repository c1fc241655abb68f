import { sql } from 'drizzle-orm';
import type { Pool } from 'pg';
import { coalesce } from '../db/coalesce.js';
import type { DbOrTx } from '../db/database.js';
import type { MembershipFacts, TierFacts } from './policy.js';

export type Source = 'creator_sync' | 'patron_connection';

export type Found =
  | { kind: 'no_campaign' }
  | { kind: 'unlinked' }
  | { kind: 'linked'; patreonUserIds: string[]; membership?: Membership };

export type Membership = {
  facts: MembershipFacts;
  source: Source;
  patreonUserId: string | null;
  /** When Patreon last confirmed this membership (a sync page, a delivery, an identity read). */
  asOf: Date | null;
  benefits: { id: string; title: string | null; tierIds: string[] }[];
};

type MemberJson = {
  id: string;
  user_id: string | null;
  patron_status: string | null;
  last_charge_status: string | null;
  last_charge_date: string | null;
  pledge_relationship_start: string | null;
  pledge_cadence: number | null;
  is_gifted: boolean | null;
  is_free_trial: boolean | null;
  currently_entitled_amount_cents: number | null;
  will_pay_amount_cents: number | null;
  currency: string | null;
  last_source: string | null;
  as_of: string | null;
};
type TierJson = { id: string; title: string | null; amount_cents: number | null; deleted: boolean };

type Row = {
  campaign: { id: string; currency: string | null } | null;
  linked: string[];
  member: MemberJson | null;
  tiers: TierJson[];
  last_paid: (TierJson & { tier_id: string; date: string; known: boolean }) | null;
  benefits: { id: string; title: string | null; tier_ids: string[] }[];
};

const ASKED = '$1::text[], $2::text[]';
const MEMBERSHIPS = `
    select r.* from unnest(${ASKED}) with ordinality
      as q(external_user_id, campaign_id, position)
    cross join lateral (
      with linked as (
        select distinct patreon_user_id from connections
        where external_user_id = q.external_user_id and status <> 'disconnected'
      ),
      member as (
        select m.* from members m
        where m.campaign_id = q.campaign_id and m.deleted_at is null
          and m.user_id in (select patreon_user_id from linked)
        order by (m.last_source is distinct from 'identity') desc,
          case m.patron_status when 'active_patron' then 3 when 'declined_patron' then 2
            when 'former_patron' then 1 else 0 end desc,
          m.pledge_relationship_start desc nulls last
        limit 1
      ),
      entitled as (
        select mt.tier_id as id, t.title, t.amount_cents, t.deleted_at is not null as deleted
        from member m join member_tiers mt on mt.member_id = m.id
        left join tiers t on t.id = mt.tier_id
      ),
      last_paid as (
        select pe.tier_id, pe.date, t.id is not null as known, t.title, t.amount_cents,
          t.deleted_at is not null as deleted
        from member m
        join lateral (
          select tier_id, date from pledge_events
          where member_id = m.id and payment_status = 'Paid' and tier_id is not null
          order by date desc limit 1
        ) pe on true
        left join tiers t on t.id = pe.tier_id
        where m.patron_status is not null and not exists (select 1 from entitled)
      ),
      granted as (
        select b.id, b.title, array_agg(tb.tier_id order by tb.tier_id) as tier_ids
        from tier_benefits tb join benefits b on b.id = tb.benefit_id
        where b.deleted_at is null
          and tb.tier_id in (select id from entitled union all select tier_id from last_paid)
        group by b.id, b.title
      )
      select
        (select json_build_object('id', id, 'currency', currency) from campaigns
          where id = q.campaign_id) as campaign,
        (select coalesce(json_agg(patreon_user_id), '[]') from linked) as linked,
        (select json_build_object(
          'id', id, 'user_id', user_id, 'patron_status', patron_status,
          'last_charge_status', last_charge_status, 'last_charge_date', last_charge_date,
          'pledge_relationship_start', pledge_relationship_start, 'pledge_cadence', pledge_cadence,
          'is_gifted', is_gifted, 'is_free_trial', is_free_trial,
          'currently_entitled_amount_cents', currently_entitled_amount_cents,
          'will_pay_amount_cents', will_pay_amount_cents, 'currency', currency,
          'last_source', last_source,
          'as_of', greatest(seen_at, case when last_source is distinct from 'identity' then
            (select c.seen_at from campaigns c where c.id = q.campaign_id) end))
          from member) as member,
        (select coalesce(json_agg(e), '[]') from entitled e) as tiers,
        (select row_to_json(l) from last_paid l) as last_paid,
        (select coalesce(json_agg(g), '[]') from granted g) as benefits
    ) r
    order by q.position`;

const date = (value: string | null) => (value === null ? null : new Date(value));
const tierFacts = (tier: TierJson): TierFacts => ({
  id: tier.id,
  title: tier.title,
  amountCents: tier.amount_cents,
  deleted: tier.deleted,
});

/**
 * Reads what the policy needs with one statement per batch of requests (every step an index lookup): the
 * host user's verified Patreon ids (their connections, never an email), that user's membership of
 * this one campaign (the creator's synced list first, the patron's own connection otherwise;
 * active before declined before former, then the latest), its entitled tiers and their benefits,
 * and, only when no tier is entitled, the last paid charge (deleted-tier rule).
 */
export function createMembershipLookup(
  pool: Pool,
  options: { maxBatch: number; maxInFlight: number } = { maxBatch: 200, maxInFlight: 1 },
) {
  // Concurrent requests share a statement: the server's cost is per statement far more than per
  // lookup (one at a time, the statement's start-up and round trip cost more than its reads), so
  // under load this answers several times more lookups per second on the same cores. One
  // statement at a time, the next batch gathering meanwhile: bench:entitlements measured 1 in
  // flight ahead of 2 (6.3k against 5.2k req/s) and 4 (3.5k: smaller batches, more server CPU).
  // A named statement: Postgres plans it once per connection.
  const lookups = coalesce(async (asked: Asked[]) => {
    const result = await pool.query<Row>({
      name: 'entitlement-memberships',
      text: MEMBERSHIPS,
      values: [asked.map((a) => a.externalUserId), asked.map((a) => a.campaignId)],
    });
    return result.rows.map(found);
  }, options);
  return (externalUserId: string, campaignId: string): Promise<Found> =>
    lookups.call({ externalUserId, campaignId });
}

export type Asked = { externalUserId: string; campaignId: string };

const [BEFORE_ASKED, AFTER_ASKED] = MEMBERSHIPS.split(ASKED) as [string, string];

/**
 * The same lookup inside a transaction (what the member pipeline decides with, after its writes
 * and before they commit): one statement for all of `asked`, answers in the same order.
 */
export async function lookupMembershipsIn(db: DbOrTx, asked: Asked[]): Promise<Found[]> {
  if (asked.length === 0) return [];
  const result = await db.execute<Row>(
    sql.join([
      sql.raw(BEFORE_ASKED),
      sql`${sql.param(asked.map((a) => a.externalUserId))}::text[], ${sql.param(asked.map((a) => a.campaignId))}::text[]`,
      sql.raw(AFTER_ASKED),
    ]),
  );
  return result.rows.map(found);
}

function found(row: Row): Found {
  if (!row.campaign) return { kind: 'no_campaign' };
  if (row.linked.length === 0) return { kind: 'unlinked' };
  const member = row.member;
  if (!member) return { kind: 'linked', patreonUserIds: row.linked };
  const lastPaid = row.last_paid;
  return {
    kind: 'linked',
    patreonUserIds: row.linked,
    membership: {
      source: member.last_source === 'identity' ? 'patron_connection' : 'creator_sync',
      patreonUserId: member.user_id,
      asOf: date(member.as_of),
      benefits: row.benefits.map((b) => ({ id: b.id, title: b.title, tierIds: b.tier_ids })),
      facts: {
        memberId: member.id,
        patronStatus: member.patron_status,
        lastChargeStatus: member.last_charge_status,
        lastChargeDate: date(member.last_charge_date),
        pledgeRelationshipStart: date(member.pledge_relationship_start),
        pledgeCadence: member.pledge_cadence,
        isGifted: member.is_gifted,
        isFreeTrial: member.is_free_trial,
        currentlyEntitledAmountCents: member.currently_entitled_amount_cents,
        willPayAmountCents: member.will_pay_amount_cents,
        currency: member.currency ?? row.campaign.currency,
        tiers: row.tiers.map(tierFacts),
        lastPaidCharge: lastPaid
          ? {
              tierId: lastPaid.tier_id,
              date: new Date(lastPaid.date),
              tier: lastPaid.known ? tierFacts({ ...lastPaid, id: lastPaid.tier_id }) : undefined,
            }
          : undefined,
      },
    },
  };
}
