import t from 'tap';
import { openDatabase } from '../../src/db/database.js';
import { startGateway } from '../fixtures/gateway.js';
import { createRealDatabase, realDatabaseUrl } from '../helper.js';

t.test(
  'two instances on one Postgres share Patreon’s budget: the sandbox never throttles',
  { skip: !realDatabaseUrl && 'needs TEST_DATABASE_URL (the embedded database has one instance)' },
  async (t) => {
    const url = await createRealDatabase(t);
    // 10 requests per 2 s for the client, as the sandbox enforces; we use 90 %: 9.
    const env = { PATREON_CLIENT_RATE: '10' };
    const a = await startGateway(t, { env, database: await openDatabase({ url, poolMax: 5 }) });
    const b = await startGateway(t, {
      env,
      sandbox: a.sandbox,
      database: await openDatabase({ url, poolMax: 5 }),
    });
    await a.sandbox.call('/_control/limits', {
      method: 'PUT',
      body: { client: { max: 10, windowMs: 2_000 } },
    });
    const creator = { accessToken: a.sandbox.creatorToken() };
    const started = Date.now();
    const results = await Promise.all(
      Array.from({ length: 36 }, (_, i) => (i % 2 ? a : b).app.patreon.identity(creator)),
    );
    const elapsed = Date.now() - started;
    t.equal(results.length, 36);
    const counters = (await a.sandbox.call('/_control/counters')).json;
    t.equal(counters.throttled.total, 0, 'no 429: together the instances kept to 9 per 2 s');
    t.ok(elapsed >= 6_000, `36 calls at 9 per 2 s took ${elapsed} ms (two instances, one budget)`);
  },
);
