import t from 'tap';
import { chargeStatuses } from '../../src/db/schema/index.js';
import { forgeCursor as forge } from '../fixtures/cursors.js';
import { auth, build } from '../helper.js';
import {
  byKey,
  CAMPAIGN,
  GHOST_TIER,
  ids,
  isoAt,
  type SeededMember,
  seed,
  UPDATED_BASE,
  walk,
} from './fixture.js';

t.test('GET /v1/campaigns/{id}/members', async (t) => {
  const { app, database } = await build(t);
  const seeded = await seed(database.db);
  const path = `/v1/campaigns/${CAMPAIGN}/members`;
  const live = seeded.members.filter((m) => !m.deleted);
  const expectIds = (members: SeededMember[]) => members.map((m) => m.id).sort();

  t.test('every sort walks every member exactly once, in order', async (t) => {
    const sorts: Array<[string, (m: SeededMember) => number | string | null, 'asc' | 'desc']> = [
      ['updatedAt', (m) => m.updatedMicros, 'asc'],
      ['-updatedAt', (m) => m.updatedMicros, 'desc'],
      ['pledgeRelationshipStart', (m) => m.pledgeStartMicros, 'asc'],
      ['-pledgeRelationshipStart', (m) => m.pledgeStartMicros, 'desc'],
      ['fullName', (m) => m.fullName, 'asc'],
    ];
    for (const [sort, key, direction] of sorts) {
      const expected = ids([...live].sort(byKey(key, direction)));
      for (const limit of [1, 7, 200]) {
        const served = ids(await walk(t, app, path, { sort }, limit));
        t.same(served, expected, `sort=${sort} limit=${limit}`);
      }
    }
    const withDeleted = ids(await walk(t, app, path, { includeDeleted: 'true' }, 9));
    t.same(
      withDeleted,
      ids([...seeded.members].sort(byKey((m) => m.updatedMicros, 'desc'))),
      'includeDeleted adds the tombstoned members; the default sort is -updatedAt',
    );
  });

  t.test('each filter returns exactly its members', async (t) => {
    const cases: Array<[Record<string, string>, (m: SeededMember) => boolean]> = [
      [{ patronStatus: 'active_patron' }, (m) => m.patronStatus === 'active_patron'],
      [{ patronStatus: 'declined_patron' }, (m) => m.patronStatus === 'declined_patron'],
      [{ patronStatus: 'former_patron' }, (m) => m.patronStatus === 'former_patron'],
      [{ patronStatus: 'follower' }, (m) => m.patronStatus === null],
      [{ tierId: '701' }, (m) => m.tierIds.includes('701')],
      [{ tierId: '704' }, (m) => m.tierIds.includes('704')],
      [{ tierId: GHOST_TIER }, (m) => m.tierIds.includes(GHOST_TIER)],
      [{ tierId: '799' }, () => false],
      [{ email: 'shared@EXAMPLE.com' }, (m) => m.email?.toLowerCase() === 'shared@example.com'],
      [{ email: 'patron8@example.com' }, (m) => m.email?.toLowerCase() === 'patron8@example.com'],
      [{ email: 'nobody@example.com' }, () => false],
      [
        // Inputs are milliseconds; rows a few microseconds past the boundary are included.
        { updatedSince: isoAt(UPDATED_BASE, 6 * 86_400_000_000) },
        (m) => m.updatedMicros >= 6 * 86_400_000_000,
      ],
      [
        { patronStatus: 'active_patron', tierId: '702', sort: 'fullName' },
        (m) => m.patronStatus === 'active_patron' && m.tierIds.includes('702'),
      ],
      ...chargeStatuses.map((status): [Record<string, string>, (m: SeededMember) => boolean] => [
        { lastChargeStatus: status },
        (m) => m.lastChargeStatus === status,
      ]),
    ];
    for (const [params, matches] of cases) {
      const served = ids(await walk(t, app, path, params, 4));
      const expected = expectIds(live.filter(matches));
      const meantEmpty = params.tierId === '799' || params.email === 'nobody@example.com';
      t.equal(expected.length === 0, meantEmpty, `the fixture covers ${JSON.stringify(params)}`);
      t.same([...served].sort(), expected, JSON.stringify(params));
      t.equal(new Set(served).size, served.length, 'no member twice');
    }
    const deletedToo = ids(
      await walk(t, app, path, { patronStatus: 'follower', includeDeleted: 'true' }, 4),
    );
    t.same(
      [...deletedToo].sort(),
      expectIds(seeded.members.filter((m) => m.patronStatus === null)),
      'filters combine with includeDeleted',
    );
    t.ok(
      seeded.members.some((m) => m.deleted && m.patronStatus === null),
      'the fixture has a deleted follower',
    );
  });

  t.test('a member in the list', async (t) => {
    const all = await walk(t, app, path, { includeDeleted: 'true' }, 200);
    const byId = new Map(all.map((m) => [m.id, m]));
    for (const m of seeded.members) {
      t.same(byId.get(m.id)?.entitledTierIds, m.tierIds, `entitled tiers of ${m.id}`);
    }
    const one = seeded.members[1] as SeededMember;
    t.same(byId.get(one.id), {
      id: one.id,
      campaignId: CAMPAIGN,
      patreonUser: { id: 'u1', fullName: 'User 1', email: null },
      fullName: 'Name 1',
      email: 'Patron1@Example.com',
      patronStatus: 'declined_patron',
      lastChargeStatus: 'Declined',
      lastChargeDate: '2026-11-01T08:00:00.000Z',
      nextChargeDate: null,
      pledgeCadence: 12,
      pledgeRelationshipStart: isoAt('2024-01-01T00:00:00Z', 86_400_000_001).replace(
        /\.\d+Z$/,
        '.000Z',
      ),
      currentlyEntitledAmount: { cents: 250, currency: 'EUR' },
      willPayAmount: { cents: 250, currency: 'EUR' },
      campaignLifetimeSupport: { cents: 2500, currency: 'EUR' },
      isFreeTrial: false,
      isGifted: false,
      isFollower: false,
      entitledTierIds: [],
      address: {
        addressee: 'Pat Patron',
        line1: '1 Main St',
        line2: null,
        city: 'Springfield',
        state: null,
        postalCode: '12345',
        country: 'US',
        phoneNumber: null,
      },
      note: 'Sends fan art',
      updatedAt: isoAt(UPDATED_BASE, 86_400_000_001).replace(/\.\d+Z$/, '.000Z'),
      deletedAt: null,
    });
    const noCurrency = byId.get(seeded.members[6]?.id ?? '');
    t.same(
      noCurrency?.currentlyEntitledAmount,
      { cents: 500, currency: 'EUR' },
      'a member without a stored currency is in the campaign’s',
    );
    t.equal(byId.get(seeded.members[13]?.id ?? '')?.patreonUser, null, 'no user: null');
    t.equal(byId.get(seeded.members[0]?.id ?? '')?.email, null);
    t.ok(
      all.every((m) => m.campaignId === CAMPAIGN),
      'only this campaign’s members',
    );
  });

  t.test('bad input is a 400, an unknown campaign a 404', async (t) => {
    const get = (query: string, url = path) =>
      app.inject({ method: 'GET', url: `${url}?${query}`, headers: auth() });
    for (const query of [
      'patronStatus=patron',
      'lastChargeStatus=paid',
      'sort=email',
      'updatedSince=yesterday',
      'limit=0',
      'limit=201',
      'includeDeleted=yes',
      'tierId=a%20b',
    ]) {
      const response = await get(query);
      t.equal(response.statusCode, 400, query);
      t.equal(response.json().code, 'VALIDATION_FAILED', query);
    }

    const first = (await get('limit=2&sort=fullName')).json();
    const cursors = [
      'not-a-cursor',
      forge(['x']),
      first.nextCursor,
      forge(['-updatedAt', "2026-11-01'; drop table members; --", 'x']),
      forge(['-updatedAt', null, 'x']),
    ];
    for (const [n, cursor] of cursors.entries()) {
      const query = `cursor=${encodeURIComponent(cursor)}`;
      const response = await get(n === 2 ? `${query}&sort=updatedAt` : query);
      t.equal(response.statusCode, 400, `cursor ${n}`);
      t.equal(response.json().code, 'INVALID_CURSOR', `cursor ${n}`);
    }

    const missing = await get('', '/v1/campaigns/999999/members');
    t.equal(missing.statusCode, 404);
    t.equal(missing.json().code, 'CAMPAIGN_NOT_FOUND');

    const anonymous = await app.inject({ method: 'GET', url: path });
    t.equal(anonymous.statusCode, 401);
  });
});
