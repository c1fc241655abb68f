import t from 'tap';
import { campaigns } from '../../src/db/schema/index.js';
import { auth, build } from '../helper.js';
import { CAMPAIGN, DELETED_CAMPAIGN, ids, OTHER_CAMPAIGN, seed, walk } from './fixture.js';

t.test('campaigns, tiers and posts', async (t) => {
  const { app, database } = await build(t);
  const seeded = await seed(database.db);
  const get = (url: string) => app.inject({ method: 'GET', url, headers: auth() });

  t.test('GET /v1/campaigns pages by id; deleted only on request', async (t) => {
    const extra = Array.from({ length: 5 }, (_, i) => `66600${i}`);
    await database.db.insert(campaigns).values(extra.map((id) => ({ id, name: `C ${id}` })));
    const live = [CAMPAIGN, OTHER_CAMPAIGN, ...extra].sort();
    t.same(ids(await walk(t, app, '/v1/campaigns', {}, 2)), live);
    t.same(
      ids(await walk(t, app, '/v1/campaigns', { includeDeleted: 'true' }, 3)),
      [...live, DELETED_CAMPAIGN].sort(),
    );
    const byConnection = await get(
      '/v1/campaigns?connectionId=7b0e3f50-51c4-4c0b-9e0e-0d6a0f1b2c3d',
    );
    t.same(byConnection.json(), { data: [], nextCursor: null });
    t.equal((await get('/v1/campaigns?cursor=%25%25')).json().code, 'INVALID_CURSOR');
  });

  t.test('GET /v1/campaigns/{id}: tiers, benefits with their tiers, goals', async (t) => {
    const response = await get(`/v1/campaigns/${CAMPAIGN}`);
    t.equal(response.statusCode, 200);
    const campaign = response.json();
    t.match(campaign, {
      id: CAMPAIGN,
      creatorUserId: '900',
      name: 'Ada makes things',
      currency: 'EUR',
      connectionId: null,
      deletedAt: null,
    });
    t.same(
      campaign.tiers.map((tier: { id: string }) => tier.id),
      ['701', '702', '703', '705'],
      'current tiers, cheapest first, no amount last',
    );
    t.same(campaign.tiers[0].amount, { cents: 500, currency: 'USD' });
    t.same(campaign.tiers[1].amount, { cents: 1000, currency: 'EUR' });
    t.equal(campaign.tiers[3].amount, null);
    t.same(
      campaign.benefits.map((b: { id: string; tierIds: string[] }) => [b.id, b.tierIds]),
      [
        ['801', ['701', '702']],
        ['802', ['702']],
      ],
      'deleted benefits and deleted tiers are left out',
    );
    t.same(
      campaign.goals.map((g: { id: string; amount: unknown }) => [g.id, g.amount]),
      [['601', { cents: 100_000, currency: 'USD' }]],
    );

    const deleted = await get(`/v1/campaigns/${DELETED_CAMPAIGN}`);
    t.equal(deleted.statusCode, 200, 'a deleted campaign is still readable by id');
    t.ok(deleted.json().deletedAt);

    for (const url of [
      '/v1/campaigns/424242',
      '/v1/campaigns/424242/tiers',
      '/v1/campaigns/424242/posts',
      '/v1/campaigns/424242/pledge-events',
    ]) {
      const missing = await get(url);
      t.equal(missing.statusCode, 404, url);
      t.equal(missing.json().code, 'CAMPAIGN_NOT_FOUND', url);
    }
    const bad = await get('/v1/campaigns/not%20an%20id');
    t.equal(bad.statusCode, 400);
    t.equal(bad.json().code, 'VALIDATION_FAILED');
  });

  t.test('GET /v1/campaigns/{id}/tiers', async (t) => {
    for (const limit of [1, 2, 50]) {
      t.same(ids(await walk(t, app, `/v1/campaigns/${CAMPAIGN}/tiers`, {}, limit)), [
        '701',
        '702',
        '703',
        '705',
      ]);
      t.same(
        ids(
          await walk(t, app, `/v1/campaigns/${CAMPAIGN}/tiers`, { includeDeleted: 'true' }, limit),
        ),
        ['704', '701', '702', '703', '705'],
        'the deleted tier too, in price order',
      );
    }
    const [retired] = await walk(
      t,
      app,
      `/v1/campaigns/${CAMPAIGN}/tiers`,
      { includeDeleted: 'true' },
      1,
    );
    t.match(retired, { id: '704', title: 'Retired', amount: { cents: 300, currency: 'USD' } });
    t.ok(retired?.deletedAt);
    t.same(ids(await walk(t, app, `/v1/campaigns/${OTHER_CAMPAIGN}/tiers`, {}, 5)), ['799']);
  });

  t.test('GET /v1/campaigns/{id}/posts: newest first, unpublished last', async (t) => {
    const expected = ['401', '403', '402', '407', '406', '405'];
    for (const limit of [1, 2, 4, 50]) {
      t.same(ids(await walk(t, app, `/v1/campaigns/${CAMPAIGN}/posts`, {}, limit)), expected);
    }
    const withDeleted = await walk(
      t,
      app,
      `/v1/campaigns/${CAMPAIGN}/posts`,
      { includeDeleted: 'true' },
      3,
    );
    t.same(ids(withDeleted), ['401', '403', '402', '404', '407', '406', '405']);
    t.equal(withDeleted.length, seeded.posts.length);
    t.match(withDeleted[0], {
      campaignId: CAMPAIGN,
      title: 'Post 401',
      content: '<p>Hello</p>',
      isPublic: true,
      tierIds: ['701'],
      publishedAt: '2026-01-03T00:00:00.000Z',
      deletedAt: null,
    });
    const tiersCursor = (await get(`/v1/campaigns/${CAMPAIGN}/tiers?limit=1`)).json().nextCursor;
    const wrongList = await get(`/v1/campaigns/${CAMPAIGN}/posts?cursor=${tiersCursor}`);
    t.equal(wrongList.statusCode, 400);
    t.equal(wrongList.json().code, 'INVALID_CURSOR', 'a cursor of another list is refused');
  });
});
