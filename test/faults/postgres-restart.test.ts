import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import pino from 'pino';
import t from 'tap';
import { openDatabase } from '../../src/db/database.js';
import { createPatreonClient } from '../../src/patreon/client.js';
import { createEndpoint, FAST_EVENTS } from '../events/fixture.js';
import { startGateway } from '../fixtures/gateway.js';
import { startReceiver } from '../fixtures/receiver.js';
import { databaseDigest, insertCreatorConnection, patreonDigest } from '../fixtures/sync.js';
import { tcpProxy } from '../fixtures/tcp-proxy.js';
import { deliver, eventually, insertWebhook, memberPayload } from '../fixtures/webhooks.js';
import { auth, freshDatabaseUrl, realDatabaseUrl } from '../helper.js';

const SECRET = 'whsec-restart-0123456789abcdef0123456789abcdef';
const MEMBERS = 3_000;
/** The webhook burst is about another campaign than the synced one, so neither muddles the other. */
const BURST_CAMPAIGN = '7654320';
/** How long the "restarting" server refuses connections. */
const DOWN_MS = 3_000;

// A real server can restart under the service; the embedded database lives in the service's own
// process, and cutting pglite-socket's loopback connection mid-statement wedges it.
t.test(
  'Postgres restarts during a sync and a webhook burst: nothing lost, the sync completes',
  { skip: realDatabaseUrl ? false : 'needs a real PostgreSQL server (TEST_DATABASE_URL)' },
  async (t) => {
    const target = new URL(await freshDatabaseUrl(t));
    const proxy = tcpProxy(Number(target.port));
    const port = await proxy.listen(0);
    t.teardown(() => proxy.close());
    const viaProxy = new URL(target);
    viaProxy.port = String(port);
    const direct = new pg.Client({ connectionString: target.toString() });
    await direct.connect();
    t.teardown(() => direct.end());

    const gateway = await startGateway(t, {
      members: MEMBERS,
      logger: pino({ level: 'silent' }),
      database: await openDatabase({ url: viaProxy.toString(), poolMax: 5 }),
      env: {
        ...FAST_EVENTS,
        EVENTS_RETRY_SCHEDULE: '100ms,200ms,400ms,800ms,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s',
        SYNC_SLICE_SECONDS: '2',
        SYNC_JOB_EXPIRE_SECONDS: '10',
      },
    });
    const { app, sandbox } = gateway;
    // Slow pages, so the restart lands while the sync is under way.
    await sandbox.call('/_control/quirks', { method: 'PUT', body: { delayMs: 250 } });
    const host = await startReceiver(t);
    const took = new Set<string>();
    host.answerWith((delivery) => {
      took.add(String(delivery.headers['webhook-id']));
      return { status: 204 };
    });
    await createEndpoint(app, { url: host.url });
    const token = (await sandbox.call('/_control/creator-token')).json;
    const connectionId = await insertCreatorConnection(app.database.db, app.cipher, token);
    const webhookId = await insertWebhook(app, { campaignId: BURST_CAMPAIGN, secret: SECRET });

    const started = await app.inject({
      method: 'POST',
      url: `/v1/connections/${connectionId}/sync`,
      headers: auth(),
      payload: { mode: 'full' },
    });
    t.equal(started.statusCode, 202, 'sync started');

    // Patreon's deliveries keep coming from four senders for the whole test.
    const results: { status: number; id?: string }[] = [];
    let n = 0;
    let sending = true;
    const sender = async () => {
      while (sending) {
        const i = n++;
        const memberId = `0000cafe-0000-4000-8000-${String(i % 200).padStart(12, '0')}`;
        const response = await deliver(app, webhookId, {
          secret: SECRET,
          event: 'members:pledge:update',
          body: JSON.stringify(
            memberPayload({
              memberId,
              userId: String(92_000 + (i % 200)),
              campaignId: BURST_CAMPAIGN,
              amountCents: 100 + i,
              fullName: `Patron ${i}`,
            }),
          ),
        });
        results.push({
          status: response.statusCode,
          id: response.statusCode === 200 ? response.json().id : undefined,
        });
        await sleep(5);
      }
    };
    const senders = Array.from({ length: 4 }, sender);

    const syncRow = async () =>
      (
        await direct.query<{ status: string; members: number }>(
          "select status, coalesce((counts->>'members')::int, 0) as members from sync_jobs",
        )
      ).rows[0];
    const atRestart = await eventually(
      'the sync to be under way',
      async () => {
        const row = await syncRow();
        return row && row.members > 0 ? row : undefined;
      },
      30_000,
      50,
    );
    // The restart: every connection dropped, new ones refused for a while, then accepted again.
    await proxy.close();
    await sleep(DOWN_MS);
    await proxy.listen(port);
    const backAt = Date.now();
    const since = () => `${Date.now() - backAt} ms after the server came back`;
    t.ok(
      atRestart.members < MEMBERS && atRestart.status !== 'succeeded',
      `restarted with ${atRestart.members} of ${MEMBERS} members synced`,
    );

    // Deliveries are accepted again once the pool has reconnected.
    const afterRestart = results.length;
    await eventually(
      'deliveries to be accepted again',
      async () => results.slice(afterRestart).some((r) => r.status === 200),
      20_000,
    );
    sending = false;
    await Promise.all(senders);

    const accepted = results.filter((r) => r.status === 200);
    const refused = results.filter((r) => r.status !== 200);
    t.ok(refused.length > 0, `${refused.length} deliveries refused while the server was away`);
    t.same(
      [...new Set(refused.map((r) => r.status))],
      [503],
      'every delivery not accepted got a 503 (Patreon retries those)',
    );
    t.comment(`${accepted.length} deliveries accepted`);

    const finished = await eventually(
      'the sync to finish',
      async () => {
        const row = await syncRow();
        return row && ['succeeded', 'failed', 'cancelled'].includes(row.status) ? row : undefined;
      },
      40_000,
      200,
    );
    t.comment(`sync finished ${since()}`);
    t.equal(finished.status, 'succeeded', 'the sync completed');
    t.equal(finished.members, MEMBERS, 'every member counted once');
    const client = createPatreonClient({ baseUrl: sandbox.base, clientId: 'x', clientSecret: 'y' });
    t.teardown(() => client.close());
    await sandbox.call('/_control/quirks', { method: 'PUT', body: { delayMs: 0 } });
    const [expected, actual] = await Promise.all([
      patreonDigest(client, token.access_token, '1234560'),
      databaseDigest(app.database.db, '1234560'),
    ]);
    t.equal(actual.count, MEMBERS);
    t.equal(actual.digest, expected.digest, 'the synced data equals the sandbox’s');

    // Every delivery answered 200 is stored and gets applied by the applier, which recovered.
    const ids = accepted.map((r) => r.id as string);
    const unapplied = await eventually(
      'every accepted delivery to be applied',
      async () => {
        const { rows } = await direct.query<{ id: string; status: string }>(
          'select id::text, status from webhook_events where id = any($1::bigint[])',
          [ids],
        );
        if (rows.length !== ids.length) return undefined;
        const left = rows.filter((row) => !['applied', 'ignored'].includes(row.status));
        return left.some((row) => row.status === 'received') ? undefined : left;
      },
      30_000,
      200,
    );
    t.comment(`deliveries applied ${since()}`);
    t.same(unapplied, [], 'every accepted delivery stored and applied (none failed)');

    // The host gets every event those deliveries made: event delivery recovered too.
    const missing = await eventually(
      'every event to reach the host',
      async () => {
        const { rows } = await direct.query<{ id: string }>('select id::text from outbound_events');
        const left = rows.filter((row) => !took.has(row.id));
        return left.length === 0 ? left : undefined;
      },
      30_000,
      200,
    );
    t.comment(`events delivered ${since()}`);
    t.same(missing, [], 'no outbound event missing at the host');

    // The pool is whole again: as many transactions at once as it has connections, none stuck.
    const parallel = await Promise.all(
      Array.from({ length: 10 }, () =>
        app.database.db.transaction(async (tx) => (await tx.execute('select 1 as one')).rows[0]),
      ),
    );
    t.equal(parallel.length, 10, 'ten transactions through a pool of five');
    t.ok(app.database.pool.totalCount <= 5, `${app.database.pool.totalCount} pooled connections`);
    const ready = await app.inject({ url: '/readyz' });
    t.equal(ready.statusCode, 200, 'ready');
  },
);
