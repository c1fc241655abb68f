import { and, eq } from 'drizzle-orm';
import t from 'tap';
import { createTokenCipher } from '../../src/crypto/token-cipher.js';
import { openDatabase } from '../../src/db/database.js';
import { runMigrations } from '../../src/db/migrations.js';
import { syncJobs } from '../../src/db/schema/index.js';
import { startGateway } from '../fixtures/gateway.js';
import { startSandbox } from '../fixtures/sandbox.js';
import { insertCreatorConnection } from '../fixtures/sync.js';
import { createRealDatabase, realDatabaseUrl, testConfig } from '../helper.js';

t.test(
  'the reconcile schedule fires once per slot across two instances',
  // Two instances share one server; the embedded database belongs to a single process.
  { skip: !realDatabaseUrl && 'needs TEST_DATABASE_URL (two instances on one real server)' },
  async (t) => {
    const url = await createRealDatabase(t);
    const sandbox = await startSandbox(t, { members: 20 });
    const database = await openDatabase({ url, poolMax: 2 });
    t.teardown(() => database.close());
    await runMigrations(database);
    // Two creators already connected, so the very first slot (pg-boss sends a `* * * * *`
    // schedule as soon as it starts) has work for each of them.
    const cipher = createTokenCipher(testConfig().tokenKeys);
    const token = (await sandbox.call('/_control/creator-token')).json;
    const connections = [
      await insertCreatorConnection(database.db, cipher, token, 'host-a'),
      await insertCreatorConnection(database.db, cipher, token, 'host-b'),
    ];

    const env = { SYNC_RECONCILE_CRON: '* * * * *' };
    for (let i = 0; i < 2; i++) {
      await startGateway(t, { env, sandbox, database: await openDatabase({ url, poolMax: 5 }) });
    }

    const fired = async () =>
      (
        await database.pool.query<{ slot: string; n: number }>(
          `select date_trunc('minute', created_on)::text as slot, count(*)::int as n
           from (select created_on from pgboss.job where name = 'sync-reconcile-all'
                 union all select created_on from pgboss.archive where name = 'sync-reconcile-all') j
           group by 1 order by 1`,
        )
      ).rows;
    const reconciles = async (connectionId: string) =>
      database.db
        .select({ id: syncJobs.id, status: syncJobs.status })
        .from(syncJobs)
        .where(and(eq(syncJobs.connectionId, connectionId), eq(syncJobs.kind, 'reconcile')));

    // Until every connection has a finished reconcile, then two more worker polls (5 s each) in
    // which a second firing would show up.
    const deadline = Date.now() + 65_000;
    for (;;) {
      const jobs = (await Promise.all(connections.map(reconciles))).flat();
      if (jobs.length >= connections.length && jobs.every((j) => j.status === 'succeeded')) break;
      if (Date.now() > deadline) t.fail(`no reconcile yet: ${JSON.stringify(jobs)}`);
      if (Date.now() > deadline) return;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    await new Promise((resolve) => setTimeout(resolve, 11_000));

    const slots = await fired();
    t.ok(slots.length >= 1, 'the schedule fired');
    for (const slot of slots) t.equal(slot.n, 1, `one firing in the slot of ${slot.slot}`);
    for (const connectionId of connections) {
      const jobs = await reconciles(connectionId);
      t.equal(jobs.length, slots.length, 'one reconcile per connection and firing');
      t.ok(
        jobs.every((j) => j.status === 'succeeded'),
        'each reconcile succeeded',
      );
    }
  },
);
