import { sql } from 'drizzle-orm';
import t from 'tap';
import { auth, build } from '../helper.js';

// A campaign whose history is small enough to work out by hand (all USD, monthly amounts):
// D pledged 100 in December 2025; A (500) and C (200) start in January; B starts an annual
// pledge of 300 a month in February and is charged 3600 for the year; A upgrades to 1000 in
// March; C deletes in April; D's charge is declined on 3 May and paid on 10 May; C pledges again
// in June.
const EVENTS: [string, string, string, string, number, string | null, string][] = [
  ['d1', 'D', 'pledge_start', '2025-12-15', 100, 'Paid', 't1'],
  ['a1', 'A', 'pledge_start', '2026-01-10', 500, 'Paid', 't1'],
  ['c1', 'C', 'pledge_start', '2026-01-20', 200, 'Paid', 't1'],
  ['b1', 'B', 'pledge_start', '2026-02-01', 300, 'Paid', 't1'],
  ['b2', 'B', 'subscription', '2026-02-01', 3600, 'Paid', 't1'],
  ['a2', 'A', 'pledge_upgrade', '2026-03-05', 1000, 'Paid', 't2'],
  ['c2', 'C', 'pledge_delete', '2026-04-02', 0, 'Deleted', 't1'],
  ['d2', 'D', 'subscription', '2026-05-03', 100, 'Declined', 't1'],
  ['d3', 'D', 'subscription', '2026-05-10', 100, 'Paid', 't1'],
  ['c3', 'C', 'pledge_start', '2026-06-07', 200, 'Paid', 't1'],
];

t.test('analytics per month, worked out by hand', async (t) => {
  const { app } = await build(t);
  const db = app.database.db;
  await db.execute(sql`insert into campaigns (id, name, currency) values ('900', 'Hand', 'USD')`);
  for (const member of ['A', 'B', 'C', 'D']) {
    await db.execute(sql`insert into members (id, campaign_id, patron_status, currency,
      campaign_lifetime_support_cents, pledge_cadence)
      values (${member}, '900', 'active_patron', 'USD', 1000, ${member === 'B' ? 12 : 1})`);
  }
  for (const [id, member, type, date, cents, status, tier] of EVENTS) {
    await db.execute(sql`insert into pledge_events (id, campaign_id, member_id, type, date,
      amount_cents, currency, payment_status, tier_id)
      values (${id}, '900', ${member}, ${type}, ${`${date}T12:00:00Z`}::timestamptz, ${cents},
        'USD', ${status}, ${tier})`);
  }
  const response = await app.inject({
    url: '/v1/campaigns/900/analytics?from=2026-01-01T00:00:00Z&to=2026-08-01T00:00:00Z&interval=month',
    headers: auth(),
  });
  t.equal(response.statusCode, 200, response.body);
  const body = response.json();
  const usd = (cents: number) => [{ currency: 'USD', cents }];
  const expected = [
    // start, active, mrr, new, reactivated, churned, upgrades, declined, recovered, charged
    ['2026-01-01T00:00:00Z', 3, 800, 2, 0, 0, 0, 0, 0, 0],
    ['2026-02-01T00:00:00Z', 4, 1100, 1, 0, 0, 0, 0, 0, 3600],
    ['2026-03-01T00:00:00Z', 4, 1600, 0, 0, 0, 1, 0, 0, 0],
    ['2026-04-01T00:00:00Z', 3, 1400, 0, 0, 1, 0, 0, 0, 0],
    ['2026-05-01T00:00:00Z', 3, 1400, 0, 0, 0, 0, 1, 1, 100],
    ['2026-06-01T00:00:00Z', 4, 1600, 0, 1, 0, 0, 0, 0, 0],
    ['2026-07-01T00:00:00Z', 4, 1600, 0, 0, 0, 0, 0, 0, 0],
  ] as const;
  t.equal(body.periods.length, expected.length);
  for (const [index, row] of expected.entries()) {
    const [
      start,
      active,
      mrr,
      fresh,
      reactivated,
      churned,
      upgrades,
      declined,
      recovered,
      charged,
    ] = row;
    const period = body.periods[index];
    t.match(
      period,
      {
        start,
        activePatrons: active,
        mrr: usd(mrr),
        new: fresh,
        reactivated,
        churned,
        upgrades,
        downgrades: 0,
        declinedCharges: declined,
        recoveredCharges: recovered,
        charged: charged ? usd(charged) : [],
      },
      start,
    );
  }
  t.same(body.periods.at(-1).tiers, [
    { tierId: 't1', activePatrons: 3, mrr: usd(600) },
    { tierId: 't2', activePatrons: 1, mrr: usd(1000) },
  ]);
  t.same(body.totals, { activePatrons: 4, lifetimeSupport: usd(4000) });

  const weekly = await app.inject({
    url: '/v1/campaigns/900/analytics?from=2026-05-01T00:00:00Z&to=2026-05-15T00:00:00Z&interval=week',
    headers: auth(),
  });
  t.same(
    weekly.json().periods.map((p: { start: string }) => p.start),
    ['2026-04-27T00:00:00Z', '2026-05-04T00:00:00Z', '2026-05-11T00:00:00Z'],
    'weeks start on Monday',
  );
  const bad = await app.inject({
    url: '/v1/campaigns/900/analytics?from=2026-05-01T00:00:00Z&to=2026-04-01T00:00:00Z',
    headers: auth(),
  });
  t.equal(bad.statusCode, 400);
  const tooMany = await app.inject({
    url: '/v1/campaigns/900/analytics?from=2000-01-01T00:00:00Z&to=2026-01-01T00:00:00Z&interval=day',
    headers: auth(),
  });
  t.equal(tooMany.statusCode, 400);
  t.equal(tooMany.json().code, 'ANALYTICS_TOO_MANY_PERIODS');
  const unknown = await app.inject({ url: '/v1/campaigns/901/analytics', headers: auth() });
  t.equal(unknown.statusCode, 404);
});
