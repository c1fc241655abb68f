import { Webhook } from 'standardwebhooks';
import t from 'tap';
import { connectCreator, connectPatron, startGateway } from '../fixtures/gateway.js';
import { startReceiver } from '../fixtures/receiver.js';
import { eventually, registeredWebhook } from '../fixtures/webhooks.js';

const SECRET = `whsec_${Buffer.alloc(32, 9).toString('base64')}`;

t.test('a sandbox pledge change reaches the host as entitlement.changed within 2 s', async (t) => {
  const host = await startReceiver(t);
  const gateway = await startGateway(t, {
    members: 10,
    // Default delivery settings (live mode, so internal URLs must be allowed for the local host).
    env: {
      EVENTS_ALLOW_PRIVATE_URLS: 'true',
      EVENTS_ENDPOINT_URL: host.url,
      EVENTS_ENDPOINT_SECRET: SECRET,
    },
  });
  await connectCreator(gateway);
  await registeredWebhook(gateway.app);

  const added = await gateway.sandbox.call('/_control/members', {
    method: 'POST',
    body: { fullName: 'Host User', tierId: '54321' },
  });
  const member = added.json.record as { id: string; userId: string };
  const aboutUser = (type: string) =>
    host.received.find((d) => d.body.type === type && d.body.data.externalUserId === 'host-user-7');
  await eventually('the new member to be synced', async () => {
    const response = await gateway.app.inject({
      url: `/v1/members/${member.id}`,
      headers: { authorization: `Bearer ${gateway.config.apiKeys[0]}` },
    });
    return response.statusCode === 200 ? true : undefined;
  });
  // The patron connects their Patreon account to the host's user: that user's answer turns
  // entitled, and the host is told so, naming the user.
  await connectPatron(gateway, { externalUserId: 'host-user-7', userId: member.userId });
  await eventually('entitlement.granted at the host', async () => aboutUser('entitlement.granted'));

  const changedAt = Date.now();
  await gateway.sandbox.call(`/_control/members/${member.id}/pledge`, {
    method: 'POST',
    body: { tierId: '54322' },
  });
  const delivery = await eventually('entitlement.changed at the host', async () =>
    aboutUser('entitlement.changed'),
  );
  const took = delivery.at - changedAt;
  t.ok(took <= 2000, `delivered ${took} ms after the pledge change`);
  const verified = new Webhook(SECRET).verify(
    delivery.raw,
    delivery.headers as Record<string, string>,
  ) as {
    type: string;
    data: { externalUserId?: string; entitlement: { tiers: { id: string }[] } };
  };
  t.equal(verified.type, 'entitlement.changed');
  t.equal(verified.data.externalUserId, 'host-user-7');
  t.same(
    verified.data.entitlement.tiers.map((tier) => tier.id),
    ['54322'],
  );
});
