import { sql } from 'drizzle-orm';
import type { Db } from '../db/database.js';
import type { AnalyticsQuery, AnalyticsView } from './schemas.js';

/**
 * The analytics SQL. A member's pledge at a moment is its last start, upgrade, downgrade or
 * delete before it; pledge events carry the monthly pledge, charges (`subscription`) what was paid.
 */

const STEP = { day: '1 day', week: '1 week', month: '1 month' } as const;

/** How many periods `query` spans up to `to`, and where the first starts. */
export async function countPeriods(db: Db, query: AnalyticsQuery, to: string) {
  const step = STEP[query.interval];
  const periods = await db.execute<{ n: number; from: string }>(sql`
    select count(*)::int as n, min(p)::text as from from generate_series(
      date_trunc(${query.interval}, coalesce(${query.from ?? null}::timestamptz,
        ${to}::timestamptz - 12 * ${step}::interval), 'UTC'),
      ${to}::timestamptz - interval '1 microsecond', ${step}::interval) p`);
  return { count: periods.rows[0]?.n ?? 0, from: periods.rows[0]?.from ?? to };
}

/** Every period from `from` to `to` and the campaign's totals now, in one statement. */
export async function readAnalytics(
  db: Db,
  campaignId: string,
  interval: AnalyticsQuery['interval'],
  { from, to }: { from: string; to: string },
) {
  const step = STEP[interval];
  const result = await db.execute<{
    periods: AnalyticsView['periods'] | null;
    totals: AnalyticsView['totals'];
  }>(sql`
    with periods as (
      select p as start, p + ${step}::interval as "end"
      from generate_series(${from}::timestamptz, ${to}::timestamptz - interval '1 microsecond',
        ${step}::interval) p
    ),
    events as (
      select e.*, lag(e.type) over (partition by e.member_id order by e.date, e.id) as previous_type,
        bool_or(e.type = 'pledge_delete') over (partition by e.member_id order by e.date, e.id
          rows between unbounded preceding and 1 preceding) as deleted_before
      from pledge_events e
      where e.campaign_id = ${campaignId} and e.type <> 'subscription'
    ),
    charges as (
      select e.*, lag(e.payment_status) over (partition by e.member_id order by e.date, e.id)
        as previous_status
      from pledge_events e
      where e.campaign_id = ${campaignId} and e.type = 'subscription'
    ),
    states as (
      select distinct on (p.start, e.member_id) p.start, e.member_id, e.type, e.tier_id,
        e.amount_cents, e.currency
      from periods p join events e on e.date < p."end"
      order by p.start, e.member_id, e.date desc, e.id desc
    ),
    active as (select * from states where type <> 'pledge_delete'),
    per_period as (
      select p.start, p."end",
        (select coalesce(json_agg(json_build_object('currency', currency, 'cents', cents)
            order by currency), '[]') from (
          select currency, sum(amount_cents)::int as cents from active a
          where a.start = p.start group by currency) m) as mrr,
        (select count(*)::int from active a where a.start = p.start) as "activePatrons",
        (select count(*)::int from events e where e.date >= p.start and e.date < p."end"
          and e.type = 'pledge_start' and not coalesce(e.deleted_before, false)) as new,
        (select count(*)::int from events e where e.date >= p.start and e.date < p."end"
          and e.type = 'pledge_start' and coalesce(e.deleted_before, false)) as reactivated,
        (select count(*)::int from events e where e.date >= p.start and e.date < p."end"
          and e.type = 'pledge_delete') as churned,
        (select count(*)::int from events e where e.date >= p.start and e.date < p."end"
          and e.type = 'pledge_upgrade') as upgrades,
        (select count(*)::int from events e where e.date >= p.start and e.date < p."end"
          and e.type = 'pledge_downgrade') as downgrades,
        (select count(*)::int from charges c where c.date >= p.start and c.date < p."end"
          and c.payment_status = 'Declined') as "declinedCharges",
        (select count(*)::int from charges c where c.date >= p.start and c.date < p."end"
          and c.payment_status = 'Paid' and c.previous_status = 'Declined') as "recoveredCharges",
        (select coalesce(json_agg(json_build_object('currency', currency, 'cents', cents)
            order by currency), '[]') from (
          select currency, sum(amount_cents)::int as cents from charges c
          where c.date >= p.start and c.date < p."end" and c.payment_status = 'Paid'
          group by currency) ch) as charged,
        (select coalesce(json_agg(json_build_object('tierId', tier_id,
            'activePatrons', patrons, 'mrr', mrr) order by tier_id), '[]') from (
          select tier_id, sum(patrons)::int as patrons, json_agg(json_build_object(
              'currency', currency, 'cents', cents) order by currency) as mrr
          from (select tier_id, currency, count(*) as patrons, sum(amount_cents)::int as cents
                from active a where a.start = p.start group by tier_id, currency) t
          group by tier_id) tiers) as tiers
      from periods p
    )
    select
      (select json_agg(json_build_object(
        'start', to_char(start at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
        'end', to_char("end" at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
        'mrr', mrr, 'activePatrons', "activePatrons", 'new', new, 'reactivated', reactivated,
        'churned', churned, 'upgrades', upgrades, 'downgrades', downgrades,
        'declinedCharges', "declinedCharges", 'recoveredCharges', "recoveredCharges",
        'charged', charged, 'tiers', tiers) order by start) from per_period) as periods,
      json_build_object(
        'activePatrons', (select count(*)::int from members where campaign_id = ${campaignId}
          and deleted_at is null and patron_status = 'active_patron'),
        'lifetimeSupport', (select coalesce(json_agg(json_build_object('currency', currency,
            'cents', cents) order by currency), '[]') from (
          select currency, sum(campaign_lifetime_support_cents)::bigint::int as cents
          from members where campaign_id = ${campaignId} and deleted_at is null
          group by currency) l)) as totals`);
  return result.rows[0];
}
