import t from 'tap';
import { isInternalAddress } from '../../src/events/url-guard.js';
import { startReceiver } from '../fixtures/receiver.js';
import { eventually } from '../fixtures/webhooks.js';
import { auth } from '../helper.js';
import { buildEvents, createEndpoint, listEvents, memberEvent, record } from './fixture.js';

const MEMBER = 'a1b2c3d4-0000-4000-8000-0000000002a1';

t.test('internal addresses', async (t) => {
  for (const address of [
    '127.0.0.1',
    '10.0.0.1',
    '172.16.5.4',
    '192.168.1.1',
    '169.254.169.254',
    '100.64.0.1',
    '0.0.0.0',
    '::1',
    '::',
    'fe80::1',
    'fd00::1',
    '::ffff:127.0.0.1',
    '::ffff:10.1.2.3',
  ]) {
    t.ok(isInternalAddress(address), address);
  }
  for (const address of ['93.184.216.34', '1.1.1.1', '2606:4700:4700::1111']) {
    t.notOk(isInternalAddress(address), address);
  }
});

t.test('the SSRF guard refuses internal and non-http URLs', async (t) => {
  const { app } = await buildEvents(t, { env: { EVENTS_ALLOW_PRIVATE_URLS: 'false' } });
  for (const url of [
    'http://127.0.0.1/hook',
    'http://10.0.0.1/hook',
    'http://[::1]/hook',
    'file:///etc/passwd',
    'http://localhost:8080/hook',
    'http://169.254.169.254/latest/meta-data',
    'http://2130706433/',
    'http://[::ffff:7f00:1]/',
    'ftp://example.com/x',
    'http://user:pass@93.184.216.34/',
  ]) {
    const response = await app.inject({
      method: 'POST',
      url: '/v1/event-endpoints',
      headers: auth(),
      payload: { url },
    });
    t.equal(response.statusCode, 400, url);
    t.match(response.headers['content-type'], /^application\/problem\+json/);
    t.equal(response.json().code, 'EVENT_ENDPOINT_URL_REJECTED', url);
  }
  const ok = await createEndpoint(app, { url: 'https://93.184.216.34/hook' });
  t.equal(ok.url, 'https://93.184.216.34/hook', 'a public address is accepted');
  const patch = await app.inject({
    method: 'PATCH',
    url: `/v1/event-endpoints/${ok.id}`,
    headers: auth(),
    payload: { url: 'http://10.0.0.1/x' },
  });
  t.equal(patch.statusCode, 400);
  t.equal(patch.json().code, 'EVENT_ENDPOINT_URL_REJECTED');
});

t.test('create, list, get, update and delete endpoints', async (t) => {
  const { app } = await buildEvents(t);
  const created = await createEndpoint(app, {
    url: 'http://127.0.0.1:9/a',
    eventTypes: ['member.created'],
    description: 'first',
  });
  t.match(created, {
    url: 'http://127.0.0.1:9/a',
    eventTypes: ['member.created'],
    enabled: true,
    source: 'api',
    description: 'first',
  });
  const second = await createEndpoint(app, { url: 'http://127.0.0.1:9/b' });

  const page = await app.inject({ url: '/v1/event-endpoints?limit=1', headers: auth() });
  t.equal(page.json().data.length, 1);
  t.equal(page.json().data[0].id, second.id, 'newest first');
  const next = await app.inject({
    url: `/v1/event-endpoints?limit=1&cursor=${page.json().nextCursor}`,
    headers: auth(),
  });
  t.equal(next.json().data[0].id, created.id);
  t.equal(next.json().nextCursor, null);

  const patched = await app.inject({
    method: 'PATCH',
    url: `/v1/event-endpoints/${created.id}`,
    headers: auth(),
    payload: { eventTypes: [], description: null, enabled: false },
  });
  t.match(patched.json(), { eventTypes: [], description: null, enabled: false });
  const bad = await app.inject({
    method: 'PATCH',
    url: `/v1/event-endpoints/${created.id}`,
    headers: auth(),
    payload: { eventTypes: ['member.exploded'] },
  });
  t.equal(bad.statusCode, 400);

  const removed = await app.inject({
    method: 'DELETE',
    url: `/v1/event-endpoints/${created.id}`,
    headers: auth(),
  });
  t.equal(removed.statusCode, 204);
  const gone = await app.inject({ url: `/v1/event-endpoints/${created.id}`, headers: auth() });
  t.equal(gone.statusCode, 404);
  t.equal(gone.json().code, 'EVENT_ENDPOINT_NOT_FOUND');
});

t.test('type filters, and a disabled endpoint gets nothing', async (t) => {
  const { app } = await buildEvents(t);
  const [onlyDeleted, everything, disabled] = await Promise.all([
    startReceiver(t),
    startReceiver(t),
    startReceiver(t),
  ]);
  const a = await createEndpoint(app, { url: onlyDeleted.url, eventTypes: ['member.deleted'] });
  const b = await createEndpoint(app, { url: everything.url });
  const c = await createEndpoint(app, { url: disabled.url, enabled: false });

  await record(app, [
    memberEvent(MEMBER, 'member.created'),
    memberEvent(MEMBER, 'member.updated'),
    memberEvent(MEMBER, 'member.deleted'),
  ]);
  await eventually('the deliveries', async () =>
    everything.received.length === 3 && onlyDeleted.received.length === 1 ? true : undefined,
  );
  t.same(
    everything.received.map((d) => d.body.type),
    ['member.created', 'member.updated', 'member.deleted'],
  );
  t.same(
    onlyDeleted.received.map((d) => d.body.type),
    ['member.deleted'],
  );
  await new Promise((resolve) => setTimeout(resolve, 100));
  t.equal(disabled.received.length, 0, 'the disabled endpoint got nothing');

  const events = await listEvents(app);
  t.equal(events.length, 3);
  const endpointsOf = (type: string) =>
    events
      .find((e) => e.type === type)
      ?.deliveries.map((d) => d.endpointId)
      .sort();
  t.same(endpointsOf('member.deleted'), [a.id, b.id].sort());
  t.same(endpointsOf('member.created'), [b.id]);
  t.notOk(
    events.some((e) => e.deliveries.some((d) => d.endpointId === c.id)),
    'no delivery rows for the disabled endpoint',
  );
  const filtered = await listEvents(app, '&type=member.deleted');
  t.same(
    filtered.map((e) => e.type),
    ['member.deleted'],
  );
  const byEndpoint = await listEvents(app, `&endpointId=${a.id}&status=delivered`);
  t.equal(byEndpoint.length, 1);
  const future = await listEvents(app, `&since=${encodeURIComponent('2999-01-01T00:00:00Z')}`);
  t.equal(future.length, 0);

  const replay = await app.inject({
    method: 'POST',
    url: `/v1/events/${events[0]?.id}/replay`,
    headers: auth(),
    payload: { endpointId: c.id },
  });
  t.equal(replay.statusCode, 409);
  t.equal(replay.json().code, 'EVENT_ENDPOINT_DISABLED');
});

t.test('deliveries are refused at connect time to internal addresses too', async (t) => {
  const host = await startReceiver(t);
  const secret = `whsec_${Buffer.alloc(24, 4).toString('base64')}`;
  // The configured endpoint is not checked on save (it comes from the operator): the sender is.
  for (const url of [host.url, host.url.replace('127.0.0.1', 'localhost')]) {
    const { app } = await buildEvents(t, {
      env: {
        EVENTS_ALLOW_PRIVATE_URLS: 'false',
        EVENTS_ENDPOINT_URL: url,
        EVENTS_ENDPOINT_SECRET: secret,
        EVENTS_RETRY_SCHEDULE: '10ms',
      },
    });
    await record(app, [memberEvent(MEMBER)]);
    const [event] = await eventually('the delivery to die', async () => {
      const events = await listEvents(app, '&status=dead');
      return events.length > 0 ? events : undefined;
    });
    t.same(
      event?.deliveries[0]?.attempts.map((a) => a.error),
      ['EVENTS_ADDRESS_BLOCKED', 'EVENTS_ADDRESS_BLOCKED'],
      url,
    );
  }
  t.equal(host.received.length, 0, 'nothing reached the internal host');
});
