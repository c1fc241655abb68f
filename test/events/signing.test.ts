import { Webhook } from 'standardwebhooks';
import t from 'tap';
import { startReceiver } from '../fixtures/receiver.js';
import { eventually } from '../fixtures/webhooks.js';
import { auth, capturingLogger } from '../helper.js';
import { buildEvents, createEndpoint, memberEvent, record } from './fixture.js';

const MEMBER = 'a1b2c3d4-0000-4000-8000-0000000000e1';

const verify = (secret: string, delivery: { raw: string; headers: Record<string, unknown> }) =>
  new Webhook(secret).verify(delivery.raw, delivery.headers as Record<string, string>);

t.test('deliveries verify with the standardwebhooks library', async (t) => {
  const { logger, text } = capturingLogger('debug');
  const { app } = await buildEvents(t, { logger });
  const host = await startReceiver(t);
  const endpoint = await createEndpoint(app, { url: host.url, description: 'host' });
  t.match(endpoint.secret, /^whsec_[A-Za-z0-9+/]+=*$/);
  t.ok(Buffer.from(endpoint.secret.slice(6), 'base64').length >= 24);

  await record(app, [memberEvent(MEMBER, 'member.created')]);
  const delivery = await eventually('the delivery', async () => host.received[0]);
  const verified = verify(endpoint.secret, delivery) as {
    type: string;
    data: { member: { id: string } };
  };
  t.equal(verified.type, 'member.created');
  t.equal(verified.data.member.id, MEMBER);
  t.equal(delivery.headers['content-type'], 'application/json');
  t.match(delivery.headers['webhook-signature'], /^v1,[A-Za-z0-9+/]+=*$/);
  t.match(delivery.body, {
    type: 'member.created',
    timestamp: String,
    data: { member: { id: MEMBER } },
  });
  t.throws(
    () => verify(`whsec_${Buffer.alloc(32, 1).toString('base64')}`, delivery),
    'another secret fails',
  );
  t.throws(
    () => verify(endpoint.secret, { ...delivery, raw: delivery.raw.replace(MEMBER, 'x') }),
    'a changed body fails',
  );

  // The event's id is the webhook-id.
  const events = await app.inject({ url: '/v1/events', headers: auth() });
  t.equal(events.json().data[0].id, delivery.headers['webhook-id']);

  // The secret: in the create response only, never in GET nor in the logs.
  const list = await app.inject({ url: '/v1/event-endpoints', headers: auth() });
  const one = await app.inject({ url: `/v1/event-endpoints/${endpoint.id}`, headers: auth() });
  t.notOk(list.body.includes(endpoint.secret.slice(6)));
  t.notOk(one.body.includes(endpoint.secret.slice(6)));
  t.notOk('secret' in one.json());
  t.ok(text().length > 0, 'something was logged');
  t.notOk(text().includes(endpoint.secret.slice(6)), 'the secret is not logged');
});

t.test('after a rotation both secrets verify until the overlap ends', async (t) => {
  const { logger, text } = capturingLogger('debug');
  const { app } = await buildEvents(t, { logger });
  const host = await startReceiver(t);
  const endpoint = await createEndpoint(app, { url: host.url });

  const rotated = await app.inject({
    method: 'POST',
    url: `/v1/event-endpoints/${endpoint.id}/rotate-secret`,
    headers: auth(),
    payload: { overlapSeconds: 3600 },
  });
  t.equal(rotated.statusCode, 200);
  const { secret: newSecret, previousSecretsExpireAt } = rotated.json();
  t.not(newSecret, endpoint.secret);
  t.ok(previousSecretsExpireAt);

  await record(app, [memberEvent(MEMBER)]);
  const delivery = await eventually('the delivery', async () => host.received[0]);
  t.equal(String(delivery.headers['webhook-signature']).split(' ').length, 2, 'two signatures');
  t.ok(verify(endpoint.secret, delivery), 'the old secret verifies');
  t.ok(verify(newSecret, delivery), 'the new secret verifies');

  // No overlap: only the newest secret signs.
  const again = await app.inject({
    method: 'POST',
    url: `/v1/event-endpoints/${endpoint.id}/rotate-secret`,
    headers: auth(),
    payload: { overlapSeconds: 0 },
  });
  const newest = again.json().secret as string;
  await record(app, [memberEvent(MEMBER)]);
  const second = await eventually('the second delivery', async () => host.received[1]);
  t.equal(String(second.headers['webhook-signature']).split(' ').length, 1);
  t.ok(verify(newest, second));
  t.throws(() => verify(newSecret, second), 'the replaced secret no longer verifies');

  const view = await app.inject({ url: `/v1/event-endpoints/${endpoint.id}`, headers: auth() });
  for (const secret of [endpoint.secret, newSecret, newest]) {
    t.notOk(view.body.includes(secret.slice(6)));
    t.notOk(text().includes(secret.slice(6)), 'no secret in the logs');
  }
});

t.test('the endpoint from config signs with every configured secret', async (t) => {
  const host = await startReceiver(t);
  const secrets = [1, 2].map((n) => `whsec_${Buffer.alloc(24, n).toString('base64')}`);
  const { app } = await buildEvents(t, {
    env: {
      EVENTS_ENDPOINT_URL: host.url,
      EVENTS_ENDPOINT_SECRET: secrets.join(','),
      EVENTS_ENDPOINT_TYPES: 'member.deleted',
    },
  });
  const list = await app.inject({ url: '/v1/event-endpoints', headers: auth() });
  const [endpoint] = list.json().data;
  t.match(endpoint, {
    source: 'config',
    url: host.url,
    eventTypes: ['member.deleted'],
    enabled: true,
  });
  const patch = await app.inject({
    method: 'PATCH',
    url: `/v1/event-endpoints/${endpoint.id}`,
    headers: auth(),
    payload: { url: 'http://127.0.0.1:1/x' },
  });
  t.equal(patch.statusCode, 409);
  t.equal(patch.json().code, 'EVENT_ENDPOINT_FROM_CONFIG');

  await record(app, [memberEvent(MEMBER, 'member.updated'), memberEvent(MEMBER, 'member.deleted')]);
  const delivery = await eventually('the delivery', async () => host.received[0]);
  t.equal(delivery.body.type, 'member.deleted', 'the type filter applies');
  for (const secret of secrets) t.ok(verify(secret, delivery));
});
