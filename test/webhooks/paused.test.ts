import { eq } from 'drizzle-orm';
import t from 'tap';
import { openDatabase } from '../../src/db/database.js';
import { members } from '../../src/db/schema/index.js';
import { connectCreator, startGateway } from '../fixtures/gateway.js';
import { freePort } from '../fixtures/listen.js';
import { startSandbox } from '../fixtures/sandbox.js';
import {
  eventually,
  listWebhookEvents,
  listWebhooks,
  registeredWebhook,
} from '../fixtures/webhooks.js';
import { auth, freshDatabaseUrl, realDatabaseUrl } from '../helper.js';

t.test(
  'deliveries Patreon queued while we were down arrive once reconcile un-pauses the webhook',
  async (t) => {
    const port = await freePort();
    const sandbox = await startSandbox(t, {
      members: 20,
      redirectUris: [`http://127.0.0.1:${port}/oauth/patreon/callback`],
      webhookDelivery: { timeoutMs: 1000, backoffMs: [10], pauseAfterFailures: 2 },
    });
    const url = await freshDatabaseUrl(t);
    const open = () => openDatabase({ url, poolMax: realDatabaseUrl ? 5 : 1 });

    const first = await startGateway(t, { port, sandbox, database: await open() });
    const { connectionId } = await connectCreator(first);
    await registeredWebhook(first.app);
    await first.app.close();

    // We are down: Patreon's deliveries fail, it pauses the webhook and queues what follows.
    const early = await sandbox.call('/_control/members', {
      method: 'POST',
      body: { fullName: 'While Down', tierId: '54321' },
    });
    await eventually('Patreon to pause the webhook', async () => {
      const [hook] = (await sandbox.call('/_control/webhooks')).json;
      return hook?.paused === true;
    });
    const late = await sandbox.call('/_control/members', {
      method: 'POST',
      body: { fullName: 'Still Down', tierId: '54322' },
    });
    const [pausedHook] = (await sandbox.call('/_control/webhooks')).json;
    t.ok(pausedHook.queued.length >= 2, `Patreon queued ${pausedHook.queued.length} deliveries`);

    const second = await startGateway(t, { port, sandbox, database: await open() });
    const reconcile = await second.app.inject({
      method: 'POST',
      url: `/v1/connections/${connectionId}/sync`,
      headers: auth(),
      payload: { mode: 'reconcile' },
    });
    t.equal(reconcile.statusCode, 202);
    const db = second.database.db;
    const resumed = await eventually(
      'the reconcile to un-pause the webhook and Patreon to resend',
      async () => {
        const [hook] = (await sandbox.call('/_control/webhooks')).json;
        return hook && !hook.paused && hook.queued.length === 0 ? hook : undefined;
      },
      20_000,
    );
    t.equal(resumed.paused, false, 'un-paused at Patreon');
    for (const added of [early, late]) {
      const id = added.json.record.id as string;
      const delivered = await eventually(
        `the queued deliveries for ${id} to be applied`,
        async () => {
          const events = (await listWebhookEvents(second.app)).filter((e) => e.resource.id === id);
          return events.length >= 2 && events.every((e) => e.status !== 'received')
            ? events
            : undefined;
        },
        20_000,
      );
      t.same(
        delivered.map((e) => e.event).sort(),
        ['members:create', 'members:pledge:create'],
        'what Patreon had queued',
      );
      const [row] = await db.select().from(members).where(eq(members.id, id));
      t.equal(row?.patronStatus, 'active_patron');
    }
    const [ours] = await listWebhooks(second.app);
    t.equal(ours?.paused, false);

    // On demand too: nothing to repair now.
    const again = await second.app.inject({
      method: 'POST',
      url: '/v1/campaigns/1234560/webhooks/reconcile',
      headers: auth(),
    });
    t.equal(again.statusCode, 200);
    t.match(again.json().webhooks, [
      { campaignId: '1234560', action: 'unchanged', orphansDeleted: 0 },
    ]);
  },
);
