import t from 'tap';
import { connectCreator, startGateway } from '../fixtures/gateway.js';
import { databaseDigest, patreonDigest } from '../fixtures/sync.js';
import { auth, realDatabaseUrl } from '../helper.js';

t.test(
  'a synced campaign matches Patreon exactly, with calls ≈ pages and no avoidable 429',
  async (t) => {
    const members = 3_000;
    const gateway = await startGateway(t, { members });
    const {
      jobs: [job],
    } = await connectCreator(gateway, { externalUserId: 'c' });
    t.equal(job?.status, 'succeeded', JSON.stringify(job?.error));

    const memberPages = Math.ceil(members / 500);
    t.equal(
      job?.counts.pages,
      memberPages + 1,
      'member pages at 500 (with pledge history), one post page',
    );
    t.equal(job?.counts.patreonCalls, 1 + memberPages + 1, 'campaign + pages: not a call more');
    t.equal(job?.counts.rateLimited, 0);
    const counters = (await gateway.sandbox.call('/_control/counters')).json;
    t.equal(counters.throttled.total, 0, 'the sandbox throttled nothing');

    const expected = await patreonDigest(
      gateway.app.patreon,
      gateway.sandbox.creatorToken(),
      '1234560',
    );
    const actual = await databaseDigest(gateway.database.db, '1234560');
    t.equal(actual.count, members);
    t.equal(
      actual.digest,
      expected.digest,
      'members, entitled tiers and pledge events are Patreon’s',
    );
  },
);

t.test('chaos: random 429s and 5xx, the sync still completes correctly', async (t) => {
  const gateway = await startGateway(t, { members: 1_500, env: { SYNC_SLICE_SECONDS: '2' } });
  await gateway.sandbox.call('/_control/quirks', {
    method: 'PUT',
    body: { chaos: { rate: 0.25, seed: 3 } },
  });
  const {
    jobs: [job],
  } = await connectCreator(gateway, { externalUserId: 'c', waitForSync: { timeoutMs: 180_000 } });
  t.equal(job?.status, 'succeeded', JSON.stringify(job?.error));
  const counters = (await gateway.sandbox.call('/_control/counters')).json;
  t.ok(counters.chaosServerErrors + counters.throttled.chaos > 0, 'chaos did strike');
  await gateway.sandbox.call('/_control/quirks', {
    method: 'PUT',
    body: { chaos: { rate: 0, seed: 1 } },
  });
  const expected = await patreonDigest(
    gateway.app.patreon,
    gateway.sandbox.creatorToken(),
    '1234560',
  );
  const actual = await databaseDigest(gateway.database.db, '1234560');
  t.equal(actual.digest, expected.digest);
});

t.test(
  'two instances on one database: each slice runs once',
  { skip: !realDatabaseUrl && 'needs a real server for two instances' },
  async (t) => {
    const { createRealDatabase } = await import('../helper.js');
    const { openDatabase } = await import('../../src/db/database.js');
    const url = await createRealDatabase(t);
    const env = { SYNC_SLICE_SECONDS: '1' };
    const a = await startGateway(t, {
      members: 2_000,
      env,
      database: await openDatabase({ url, poolMax: 5 }),
    });
    const b = await startGateway(t, {
      env,
      sandbox: a.sandbox,
      database: await openDatabase({ url, poolMax: 5 }),
    });
    // Connected through one instance, its sync watched through the other.
    const {
      jobs: [job],
    } = await connectCreator(a, { externalUserId: 'c', waitForSync: { via: b.app } });
    t.equal(job?.status, 'succeeded');
    t.equal(job?.counts.members, 2_000, 'no page counted twice');
    const counters = (await a.sandbox.call('/_control/counters')).json as {
      apiCalls: Record<string, number>;
    };
    const memberCalls = Object.entries(counters.apiCalls)
      .filter(([key]) => key.includes('/members') && key.endsWith(' 200'))
      .reduce((sum, [, n]) => sum + n, 0);
    t.equal(memberCalls, 4, 'each member page fetched once across both instances');
    const again = await b.app.inject({
      method: 'GET',
      url: `/v1/sync-jobs/${job?.id}`,
      headers: auth(),
    });
    t.equal(again.json().status, 'succeeded');
  },
);
