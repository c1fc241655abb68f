import t from 'tap';
import { auth, build } from '../helper.js';
import {
  byKey,
  CAMPAIGN,
  EVENT_BASE,
  GHOST_TIER,
  ids,
  isoAt,
  LONG_HISTORY,
  memberId,
  type SeededEvent,
  seed,
  walk,
} from './fixture.js';

const DAY_MICROS = 86_400_000_000;

t.test('member detail and pledge events', async (t) => {
  const { app, database } = await build(t);
  const seeded = await seed(database.db);
  const get = (url: string) => app.inject({ method: 'GET', url, headers: auth() });
  const newestFirst = (events: SeededEvent[]) =>
    ids([...events].sort(byKey((e) => e.dateMicros, 'desc')));

  t.test('GET /v1/members/{id}', async (t) => {
    const response = await get(`/v1/members/${memberId(0)}`);
    t.equal(response.statusCode, 200);
    const member = response.json();
    t.notOk('entitledTierIds' in member, 'the detail lists the tiers themselves');
    t.same(member.entitledTiers, [
      { id: '704', title: 'Retired', amount: { cents: 300, currency: 'USD' } },
      { id: '701', title: 'Supporter', amount: { cents: 500, currency: 'USD' } },
      { id: '702', title: 'Fan', amount: { cents: 1000, currency: 'EUR' } },
    ]);
    const history = seeded.events.filter((e) => e.memberId === memberId(0));
    t.equal(history.length, LONG_HISTORY);
    t.equal(member.pledgeHistory.length, 100);
    t.equal(member.pledgeHistoryTruncated, true);
    t.same(ids(member.pledgeHistory), newestFirst(history).slice(0, 100), 'newest first');
    t.match(member.pledgeHistory[0], {
      campaignId: CAMPAIGN,
      memberId: memberId(0),
      date: isoAt(EVENT_BASE, (LONG_HISTORY - 1) * DAY_MICROS),
      amount: { cents: Number, currency: String },
      paymentStatus: 'Paid',
      pledgePaymentStatus: 'valid',
    });

    const ghost = (await get(`/v1/members/${memberId(7)}`)).json();
    t.same(
      ghost.entitledTiers,
      [{ id: GHOST_TIER, title: null, amount: null }],
      'a tier not synced yet is listed by id',
    );
    t.equal(ghost.pledgeHistoryTruncated, false);
    t.same(
      ids(ghost.pledgeHistory),
      newestFirst(seeded.events.filter((e) => e.memberId === memberId(7))),
    );
    t.match(ghost, { id: memberId(7), campaignId: CAMPAIGN, patreonUser: { id: 'u7' } });

    const deleted = await get(`/v1/members/${memberId(3)}`);
    t.equal(deleted.statusCode, 200, 'a deleted member is still readable by id');
    t.ok(deleted.json().deletedAt);

    const missing = await get('/v1/members/00000000-0000-4000-8000-999999999999');
    t.equal(missing.statusCode, 404);
    t.equal(missing.json().code, 'MEMBER_NOT_FOUND');
    t.equal((await get('/v1/members/bad%20id')).statusCode, 400);
  });

  t.test('GET /v1/campaigns/{id}/pledge-events', async (t) => {
    const path = `/v1/campaigns/${CAMPAIGN}/pledge-events`;
    const all = await walk(t, app, path, {}, 17);
    t.same(ids(all), newestFirst(seeded.events), 'every event once, newest first');
    t.same(
      new Set(all.map((e) => (e.amount as { currency: string }).currency)),
      new Set(['USD', 'EUR', 'GBP', 'JPY']),
      'amounts keep the currency the patron paid in',
    );
    t.ok(
      all.every((e) => Number.isInteger((e.amount as { cents: number }).cents)),
      'integer cents',
    );

    const from = 10 * DAY_MICROS;
    // Inputs are milliseconds: `to` takes in the events a microsecond past 20 days too.
    const to = 20 * DAY_MICROS + 1000;
    const cases: Array<[Record<string, string>, (e: SeededEvent) => boolean]> = [
      [{ type: 'pledge_upgrade' }, (e) => e.type === 'pledge_upgrade'],
      [{ type: 'subscription' }, (e) => e.type === 'subscription'],
      [{ tierId: '704' }, (e) => e.tierId === '704'],
      [{ memberId: memberId(5) }, (e) => e.memberId === memberId(5)],
      [{ from: isoAt(EVENT_BASE, from) }, (e) => e.dateMicros >= from],
      [{ to: isoAt(EVENT_BASE, to) }, (e) => e.dateMicros < to],
      [
        { from: isoAt(EVENT_BASE, from), to: isoAt(EVENT_BASE, to), type: 'pledge_start' },
        (e) => e.dateMicros >= from && e.dateMicros < to && e.type === 'pledge_start',
      ],
      [
        { tierId: '701', memberId: memberId(0) },
        (e) => e.tierId === '701' && e.memberId === memberId(0),
      ],
    ];
    for (const [params, matches] of cases) {
      const expected = newestFirst(seeded.events.filter(matches));
      t.ok(expected.length > 0, `the fixture covers ${JSON.stringify(params)}`);
      t.same(ids(await walk(t, app, path, params, 5)), expected, JSON.stringify(params));
    }

    for (const query of ['type=refund', 'from=2025-01-01', 'to=soon', 'memberId=a%2Fb']) {
      const response = await get(`${path}?${query}`);
      t.equal(response.statusCode, 400, query);
      t.equal(response.json().code, 'VALIDATION_FAILED', query);
    }
  });
});
