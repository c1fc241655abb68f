import { eq } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import pg from 'pg';
import t from 'tap';
import { openDatabase } from '../../src/db/database.js';
import { members } from '../../src/db/schema/index.js';
import { createInvalidatingCache } from '../../src/entitlements/cache.js';
import { announceCampaignChanges } from '../../src/entitlements/changes.js';
import { connectCreator, connectPatron, startGateway } from '../fixtures/gateway.js';
import { eventually } from '../fixtures/webhooks.js';
import { auth, createRealDatabase, realDatabaseUrl } from '../helper.js';

t.test('the cache: tags, tokens, expiry, size, off', async (t) => {
  let clock = 1_000;
  const cache = createInvalidatingCache<string>({ maxEntries: 3, ttlMs: 100, now: () => clock });
  t.equal(cache.set('k', 'v', ['c:1'], cache.begin()), false, 'off until enabled');
  t.equal(cache.get('k'), undefined);
  cache.enable();

  t.ok(cache.set('a', 'A', ['c:1', 'x:a'], cache.begin()));
  t.ok(cache.set('b', 'B', ['c:1', 'x:b'], cache.begin()));
  t.ok(cache.set('z', 'Z', ['c:2', 'x:a'], cache.begin()));
  t.equal(cache.get('a'), 'A', 'a hit');
  cache.invalidate(['x:b']);
  t.equal(cache.get('b'), undefined, 'dropped by one of its tags');
  t.equal(cache.get('a'), 'A', 'another entry keeps');
  cache.invalidate(['x:a']);
  t.same([cache.get('a'), cache.get('z')], [undefined, undefined], 'every entry with the tag');

  // A read that began before an invalidation of its tags may hold the old rows: not stored.
  const before = cache.begin();
  cache.invalidate(['c:1']);
  t.equal(cache.set('a', 'old', ['c:1'], before), false, 'invalidated while it was read');
  t.equal(cache.set('q', 'Q', ['c:3'], before), true, 'an unrelated invalidation does not matter');
  const beforeAll = cache.begin();
  cache.invalidate('all');
  t.equal(cache.get('q'), undefined, 'everything dropped');
  t.equal(cache.set('q', 'Q', ['c:3'], beforeAll), false, 'and nothing read before is stored');
  const longAgo = cache.begin();
  for (let i = 0; i < 1100; i++) cache.invalidate([`c:other-${i}`]);
  t.equal(cache.set('q', 'Q', ['c:3'], longAgo), false, 'too many invalidations since to check');

  t.ok(cache.set('q', 'Q', ['c:3'], cache.begin()));
  clock += 100;
  t.equal(cache.get('q'), undefined, 'expired after the TTL');

  for (const key of ['1', '2', '3', '4']) cache.set(key, key, [`c:${key}`], cache.begin());
  t.equal(cache.size, 3, 'never more than maxEntries');
  t.equal(cache.get('1'), undefined, 'the oldest went first');
  t.equal(cache.get('4'), '4');

  const during = cache.begin();
  cache.disable();
  t.equal(cache.get('4'), undefined, 'nothing served while off');
  cache.enable();
  t.equal(cache.get('4'), undefined, 'and it starts empty again');
  t.equal(cache.set('5', '5', ['c:5'], during), false, 'a read from before the outage is dropped');
  t.ok(cache.stats.hits >= 3 && cache.stats.refused >= 5, 'counted');
});

const cacheCounts = async (app: FastifyInstance) => {
  const text = (await app.inject({ url: '/metrics' })).body;
  const read = (pattern: RegExp) => Number(text.match(pattern)?.[1] ?? Number.NaN);
  return {
    hits: read(/entitlement_cache_lookups_total\{result="hit"\} (\d+)/),
    entries: read(/entitlement_cache_entries (\d+)/),
  };
};

t.test(
  'two instances on one database: a change committed anywhere reaches the other’s cache',
  { skip: !realDatabaseUrl && 'the cache needs real PostgreSQL (LISTEN/NOTIFY)' },
  async (t) => {
    const url = await createRealDatabase(t);
    const a = await startGateway(t, {
      members: 20,
      database: await openDatabase({ url, poolMax: 5 }),
    });
    const b = await startGateway(t, {
      sandbox: a.sandbox,
      database: await openDatabase({ url, poolMax: 5 }),
    });
    await connectCreator(a);
    await connectPatron(a, { externalUserId: 'user-0', userId: '5000000' });
    const ask = async () => {
      const response = await b.app.inject({
        url: '/v1/entitlements?externalUserId=user-0&campaignId=1234560',
        headers: auth(),
      });
      t.equal(response.statusCode, 200, response.body);
      return response.json() as { entitled: boolean; reason: string };
    };
    const psql = new pg.Client({ connectionString: url });
    await psql.connect();
    t.teardown(() => psql.end());
    const setStatus = (status: string) =>
      psql.query(`update members set patron_status = $1 where user_id = '5000000'`, [status]);

    // Once the feed listens, a repeated question is answered from memory.
    const first = await eventually('an answer from memory', async () => {
      const answer = await ask();
      const counts = await cacheCounts(b.app);
      return counts.hits >= 1 && counts.entries >= 1 ? answer : undefined;
    });
    t.same(first, { ...first, entitled: true, reason: 'paid' });

    // Committed by neither instance (a person with psql): instance b still hears of it at once.
    const changed = Date.now();
    await setStatus('former_patron');
    const after = await eventually('the cached answer to change', async () => {
      const answer = await ask();
      return answer.reason === 'former_patron' ? answer : undefined;
    });
    t.equal(after.entitled, false);
    t.ok(Date.now() - changed < 1_000, `changed within a second (${Date.now() - changed} ms)`);

    // A bulk writer (a sync page) announces its campaign once; its rows fire no trigger.
    await psql.query('begin');
    await psql.query(`select set_config('patreon_gateway.entitlement_changes', 'announced', true)`);
    await setStatus('active_patron');
    await psql.query('commit');
    await new Promise((resolve) => setTimeout(resolve, 200));
    t.equal((await ask()).reason, 'former_patron', 'unannounced and untriggered: still cached');
    await b.database.db.transaction(async (tx) => {
      await announceCampaignChanges(tx, ['1234560']);
      await tx
        .update(members)
        .set({ lastChargeStatus: 'Paid' })
        .where(eq(members.userId, '5000000'));
    });
    await eventually('the announced change', async () => (await ask()).reason === 'paid');
    await setStatus('former_patron');
    await eventually('back to former', async () => (await ask()).reason === 'former_patron');

    // The feed lost: nothing is served from memory, so a change made meanwhile is seen at once.
    await psql.query(
      `select pg_terminate_backend(pid) from pg_stat_activity
        where application_name = 'patreon-gateway-listen' and datname = current_database()`,
    );
    await eventually('the cache to turn off', async () => (await cacheCounts(b.app)).entries === 0);
    await setStatus('active_patron');
    t.equal((await ask()).reason, 'paid', 'read from the database while the feed is down');
    await setStatus('former_patron');
    t.equal((await ask()).reason, 'former_patron', 'and again: nothing stale kept');

    // Back (first retry after 1 s): cached again, and invalidated again.
    await eventually('the feed to come back', async () => {
      await ask();
      return (await cacheCounts(b.app)).entries >= 1;
    });
    const hits = (await cacheCounts(b.app)).hits;
    await ask();
    t.ok((await cacheCounts(b.app)).hits > hits, 'served from memory again');
    await setStatus('active_patron');
    await eventually('the change after reconnecting', async () => (await ask()).reason === 'paid');
  },
);
