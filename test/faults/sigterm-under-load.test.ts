import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import t from 'tap';
import { request } from 'undici';
import { createTokenCipher } from '../../src/crypto/token-cipher.js';
import { type Database, openDatabase } from '../../src/db/database.js';
import { startSandbox } from '../fixtures/sandbox.js';
import {
  postDelivery,
  seedWebhook,
  serviceDatabase,
  spawnService,
} from '../fixtures/service-process.js';
import { insertCreatorConnection } from '../fixtures/sync.js';
import { eventually, memberPayload } from '../fixtures/webhooks.js';
import { auth, testConfig } from '../helper.js';

const SECRET = 'whsec-sigterm-0123456789abcdef0123456789abcdef';
const CAMPAIGN = '7654320';
/** How long the sandbox takes to answer each API call: the slow requests are in flight this long. */
const PATREON_DELAY_MS = 2_000;

t.test('SIGTERM under load: requests in flight get their whole answer, exit 0', async (t) => {
  const sandbox = await startSandbox(t, { members: 50 });
  let connectionId = '';
  let webhookId = '';
  const database = await serviceDatabase(t, async (db) => {
    const token = (await sandbox.call('/_control/creator-token')).json;
    connectionId = await insertCreatorConnection(
      db.db,
      createTokenCipher(testConfig().tokenKeys),
      token,
    );
    webhookId = await seedWebhook(db, { campaignId: CAMPAIGN, secret: SECRET });
  });
  const service = await spawnService(t, {
    ...database.env,
    PATREON_CLIENT_ID: sandbox.state.config.clientId,
    PATREON_CLIENT_SECRET: sandbox.state.config.clientSecret,
    PATREON_BASE_URL: sandbox.base,
    RETURN_TO_ALLOWLIST: 'http://127.0.0.1/',
  });
  await service.ready();
  await sandbox.call('/_control/quirks', { method: 'PUT', body: { delayMs: PATREON_DELAY_MS } });

  // Fast requests on fresh connections the whole time: each gets a whole answer (200, or 503
  // once closing) or never reaches the server (refused, or reset in the accept queue).
  const outcomes = { ok: 0, closing: 0, refused: 0, reset: 0, broken: [] as string[] };
  const accepted: string[] = [];
  let stop = false;
  let n = 0;
  const loop = async (kind: 'read' | 'webhook') => {
    while (!stop) {
      try {
        if (kind === 'read') {
          const response = await request(`${service.base}/v1/connections?limit=5`, {
            headers: { ...auth(), connection: 'close' },
          });
          const body = await response.body.text();
          if (response.statusCode === 200 && body.startsWith('{"data"')) outcomes.ok++;
          else if (response.statusCode === 503) outcomes.closing++;
          else outcomes.broken.push(`read: ${response.statusCode}`);
        } else {
          const i = n++;
          const answer = await postDelivery(service.base, webhookId, {
            secret: SECRET,
            event: 'members:pledge:create',
            body: JSON.stringify(
              memberPayload({
                memberId: `0000face-0000-4000-8000-${String(i).padStart(12, '0')}`,
                userId: String(94_000 + i),
                campaignId: CAMPAIGN,
              }),
            ),
          });
          if (answer.status === 200 && answer.id) {
            accepted.push(answer.id);
            outcomes.ok++;
          } else if (answer.status === 503) outcomes.closing++;
          else outcomes.broken.push(`webhook: ${answer.status}`);
        }
      } catch (error) {
        const code = (error as { code?: string }).code ?? String(error);
        if (code === 'ECONNREFUSED') return void outcomes.refused++;
        if (code === 'ECONNRESET') outcomes.reset++;
        else outcomes.broken.push(code);
      }
    }
  };
  const loops = [
    ...Array.from({ length: 3 }, () => loop('read')),
    loop('webhook'),
    loop('webhook'),
  ];

  await eventually('the load to be under way', async () => outcomes.ok >= 20, 20_000);

  // Slow requests: each waits for Patreon (the sandbox) inside the service when the signal lands.
  const slow = Array.from({ length: 6 }, async () => {
    const response = await request(`${service.base}/v1/connections/${connectionId}/sync`, {
      method: 'POST',
      headers: { ...auth(), 'content-type': 'application/json' },
      body: JSON.stringify({ mode: 'full' }),
    });
    return { status: response.statusCode, body: await response.body.text(), at: Date.now() };
  });
  const sentAt = Date.now();
  // Their calls to Patreon are open: the service has accepted them and is working on them.
  await eventually(
    'the slow requests to be waiting on Patreon',
    async () =>
      new Promise<boolean>((resolve) =>
        sandbox.app.server.getConnections((_, count) => resolve(count > 0)),
      ),
  );
  await sleep(200);
  const okBefore = outcomes.ok;
  const signalledAt = Date.now();
  service.child.kill('SIGTERM');
  const code = await service.exit;
  stop = true;
  await Promise.all(loops);
  const answers = await Promise.all(slow);

  t.equal(code, 0, 'exit 0');
  t.ok(okBefore > 0, `served ${okBefore} fast requests before the signal`);
  t.ok(
    signalledAt - sentAt < PATREON_DELAY_MS,
    'the signal landed while the slow requests were in flight',
  );
  t.same(
    answers.map((a) => a.status),
    answers.map(() => 202),
    'every slow request in flight got its 202',
  );
  t.ok(
    answers.every((a) => JSON.parse(a.body).jobs?.length === 1 && a.at > signalledAt),
    'each with its whole body, after the signal',
  );
  t.same(outcomes.broken, [], 'no response cut off or failed');
  t.comment(`during shutdown: ${JSON.stringify({ ...outcomes, broken: outcomes.broken.length })}`);

  // Every delivery answered 200 is in the database the service left behind.
  let reopened: Database | undefined = database.shared;
  if (!reopened) {
    reopened = await openDatabase({
      embedded: { dataDir: path.join(database.env.DATA_DIR as string, 'pglite') },
    });
    t.teardown(() => reopened?.close());
  }
  const { rows } = await reopened.pool.query<{ id: string }>('select id::text from webhook_events');
  const stored = new Set(rows.map((row) => row.id));
  t.same(
    accepted.filter((id) => !stored.has(id)),
    [],
    `all ${accepted.length} accepted deliveries stored`,
  );
});
