import { createHmac } from 'node:crypto';
import t from 'tap';
import type { Delivery } from '../fixtures/receiver.js';
import { startReceiver } from '../fixtures/receiver.js';
import { startSandbox } from '../fixtures/sandbox.js';

const ALL_TRIGGERS = [
  'members:create',
  'members:update',
  'members:delete',
  'members:pledge:create',
  'members:pledge:update',
  'members:pledge:delete',
  'posts:publish',
  'posts:update',
  'posts:delete',
];
const MEMBER_ATTRIBUTES = [
  'campaign_lifetime_support_cents',
  'currently_entitled_amount_cents',
  'email',
  'full_name',
  'is_follower',
  'is_free_trial',
  'is_gifted',
  'last_charge_date',
  'last_charge_status',
  'lifetime_support_cents',
  'next_charge_date',
  'note',
  'patron_status',
  'pledge_cadence',
  'pledge_relationship_start',
  'will_pay_amount_cents',
];

function webhookBody(uri: string, triggers: string[], campaignId = '1234560') {
  return {
    data: {
      type: 'webhook',
      attributes: { triggers, uri },
      relationships: { campaign: { data: { type: 'campaign', id: campaignId } } },
    },
  };
}

const md5 = (secret: string, raw: Buffer) => createHmac('md5', secret).update(raw).digest('hex');
const events = (received: Delivery[]) => received.map((r) => r.headers['x-patreon-event']);

t.test(
  'a JSON content type with an empty body is no body (DELETE, GET), as at Patreon',
  async (t) => {
    const sandbox = await startSandbox(t, { members: 5 });
    const token = sandbox.creatorToken();
    const created = await sandbox.call('/api/oauth2/v2/webhooks', {
      method: 'POST',
      token,
      body: webhookBody('https://example.com/hook', ['members:create']),
    });
    const path = `/api/oauth2/v2/webhooks/${created.json.data.id}`;
    for (const type of ['application/json', 'application/vnd.api+json; charset=utf-8']) {
      const listed = await sandbox.call('/api/oauth2/v2/webhooks', {
        token,
        headers: { 'content-type': type, 'content-length': '0' },
      });
      t.equal(listed.status, 200, `GET with ${type}`);
    }
    const malformed = await sandbox.call(path, {
      method: 'DELETE',
      token,
      body: '{"data":',
      headers: { 'content-type': 'application/json' },
    });
    t.equal(malformed.status, 400, 'a body that is there must still be JSON');
    t.equal(malformed.json.errors[0].code_name, 'ParameterInvalid');

    const deleted = await sandbox.call(path, {
      method: 'DELETE',
      token,
      body: '',
      headers: { 'content-type': 'application/json' },
    });
    t.equal(deleted.status, 204);
    t.equal(deleted.text, '');
    const again = await sandbox.call(path, {
      method: 'DELETE',
      token,
      headers: { 'content-type': 'application/vnd.api+json', 'content-length': '0' },
    });
    t.equal(again.status, 404, 'gone');
  },
);

t.test('webhook API: create, list, update, delete', async (t) => {
  const sandbox = await startSandbox(t, { members: 5 });
  const token = sandbox.creatorToken();
  const created = await sandbox.call('/api/oauth2/v2/webhooks', {
    method: 'POST',
    token,
    body: webhookBody('https://example.com/hook', ['members:create', 'members:update']),
  });
  t.equal(created.status, 201);
  const { data } = created.json;
  t.equal(data.type, 'webhook');
  t.match(data.id, /^\d+$/);
  t.same(data.attributes.triggers, ['members:create', 'members:update']);
  t.equal(data.attributes.uri, 'https://example.com/hook');
  t.equal(data.attributes.paused, false);
  t.equal(data.attributes.num_consecutive_times_failed, 0);
  t.equal(data.attributes.last_attempted_at, null);
  t.match(data.attributes.secret, /^[\w-]{20,}$/);

  const invalid = [
    webhookBody('https://example.com/hook', ['pledges:create']),
    webhookBody('not a url', ['members:create']),
    {
      data: {
        type: 'webhook',
        attributes: { triggers: ['members:create'], uri: 'https://example.com' },
      },
    },
  ];
  for (const body of invalid) {
    const reply = await sandbox.call('/api/oauth2/v2/webhooks', { method: 'POST', token, body });
    t.equal(reply.status, 400);
    t.equal(reply.json.errors[0].status, '400');
  }
  const vnd = await sandbox.call('/api/oauth2/v2/webhooks', {
    method: 'POST',
    token,
    body: webhookBody('https://example.com/other', ['posts:publish']),
    headers: { 'content-type': 'application/vnd.api+json' },
  });
  t.equal(vnd.status, 201, 'application/vnd.api+json bodies are accepted');

  const list = await sandbox.call(
    '/api/oauth2/v2/webhooks?include=campaign,client&fields%5Bwebhook%5D=uri,paused',
    { token },
  );
  t.equal(list.json.data.length, 2);
  t.same(Object.keys(list.json.data[0].attributes).sort(), ['paused', 'uri']);
  t.same(list.json.data[0].relationships.campaign.data, { type: 'campaign', id: '1234560' });
  t.ok(list.json.included.some((r: { type: string }) => r.type === 'client'));

  const path = `/api/oauth2/v2/webhooks/${data.id}`;
  const paused = await sandbox.call(path, {
    method: 'PATCH',
    token,
    body: {
      data: {
        id: data.id,
        type: 'webhook',
        attributes: { paused: 'true', uri: 'https://example.com/moved' },
      },
    },
  });
  t.equal(paused.status, 200);
  t.equal(paused.json.data.attributes.paused, true, 'the string "true" is tolerated');
  t.equal(paused.json.data.attributes.uri, 'https://example.com/moved');
  const resumed = await sandbox.call(path, {
    method: 'PATCH',
    token,
    body: {
      data: { type: 'webhook', attributes: { paused: false, triggers: ['members:delete'] } },
    },
  });
  t.equal(resumed.json.data.attributes.paused, false);
  t.same(resumed.json.data.attributes.triggers, ['members:delete']);

  const deleted = await sandbox.call(path, { method: 'DELETE', token });
  t.equal(deleted.status, 204);
  t.equal(deleted.text, '');
  t.equal(
    (
      await sandbox.call(path, {
        method: 'PATCH',
        token,
        body: { data: { type: 'webhook', attributes: { paused: false } } },
      })
    ).status,
    404,
  );
});

t.test(
  'deliveries: triggers, HMAC-MD5 signature over the exact bytes, member payload',
  async (t) => {
    const sandbox = await startSandbox(t, { members: 20 });
    const receiver = await startReceiver(t, { path: '/hooks/patreon' });
    const token = sandbox.creatorToken();
    const created = await sandbox.call('/api/oauth2/v2/webhooks', {
      method: 'POST',
      token,
      body: webhookBody(receiver.url, ALL_TRIGGERS),
    });
    const secret: string = created.json.data.attributes.secret;

    const added = await sandbox.call('/_control/members', {
      method: 'POST',
      body: { fullName: 'Nia Adeyemi', tierId: '54322' },
    });
    t.equal(added.status, 201);
    t.same(added.json.triggers, ['members:create', 'members:pledge:create']);
    const newId: string = added.json.record.id;

    const page = await sandbox.call(
      '/api/oauth2/v2/campaigns/1234560/members?page%5Bcount%5D=20&fields%5Bmember%5D=patron_status',
      { token },
    );
    const active = page.json.data.find(
      (m: { attributes: { patron_status: string } }) =>
        m.attributes.patron_status === 'active_patron',
    ).id;
    const calls: [string, unknown?][] = [
      [`/_control/members/${active}/pledge`, { tierId: '54323' }],
      [`/_control/members/${active}/decline`],
      [`/_control/members/${active}/recover`],
      [`/_control/members/${active}/cancel`],
    ];
    for (const [path, body] of calls) {
      const reply = await sandbox.call(path, { method: 'POST', body: body ?? {} });
      t.equal(reply.status, 200, path);
    }
    const follower = await sandbox.call('/_control/members', {
      method: 'POST',
      body: { fullName: 'Just Following' },
    });
    t.same(follower.json.triggers, ['members:create']);
    const removed = await sandbox.call(`/_control/members/${follower.json.record.id}`, {
      method: 'DELETE',
    });
    t.same(
      removed.json,
      { ...removed.json, deleted: true, triggers: ['members:delete'] },
      'never paid: members:delete',
    );
    const paidRemoved = await sandbox.call(`/_control/members/${newId}`, { method: 'DELETE' });
    t.equal(paidRemoved.json.deleted, false, 'paid members are not deleted');
    t.same(paidRemoved.json.triggers, ['members:pledge:delete', 'members:update']);
    const post = await sandbox.call('/_control/posts', {
      method: 'POST',
      body: { title: 'Fresh pages', tierIds: ['54322'] },
    });
    await sandbox.call(`/_control/posts/${post.json.record.id}`, {
      method: 'PATCH',
      body: { title: 'Fresh pages (fixed)' },
    });
    await sandbox.call(`/_control/posts/${post.json.record.id}`, { method: 'DELETE' });

    await sandbox.call('/_control/webhooks/idle', { method: 'POST' });
    t.same(
      events(receiver.received),
      [
        'members:create',
        'members:pledge:create',
        'members:pledge:update',
        'members:update',
        'members:update',
        'members:update',
        'members:pledge:delete',
        'members:update',
        'members:create',
        'members:delete',
        'members:pledge:delete',
        'members:update',
        'posts:publish',
        'posts:update',
        'posts:delete',
      ],
      'every trigger, in order',
    );

    for (const delivery of receiver.received) {
      t.equal(
        delivery.headers['x-patreon-signature'],
        md5(secret, delivery.bytes),
        'signature is hex HMAC-MD5 of the received bytes',
      );
      t.equal(delivery.headers['content-type'], 'application/json');
      t.equal(delivery.headers['user-agent'], 'Patreon-Webhooks');
    }

    const first = JSON.parse(receiver.received[0]?.raw ?? '{}');
    t.equal(first.data.type, 'member');
    t.equal(first.data.id, newId);
    t.same(Object.keys(first.data.attributes).sort(), MEMBER_ATTRIBUTES, 'every member attribute');
    t.equal(first.data.attributes.full_name, 'Nia Adeyemi');
    t.equal(first.data.attributes.patron_status, 'active_patron');
    t.same(Object.keys(first.data.relationships).sort(), [
      'address',
      'campaign',
      'currently_entitled_tiers',
      'user',
    ]);
    t.same(first.data.relationships.address, { data: null });
    t.equal(
      first.data.relationships.campaign.links.related,
      `${sandbox.base}/api/oauth2/v2/campaigns/1234560`,
    );
    t.match(first.data.relationships.user.links.related, /\/api\/oauth2\/v2\/user\/\d+$/);
    t.same(first.data.relationships.currently_entitled_tiers.data, [{ type: 'tier', id: '54322' }]);
    t.same(first.included.map((r: { type: string }) => r.type).sort(), [
      'campaign',
      'tier',
      'user',
    ]);
    const campaign = first.included.find((r: { type: string }) => r.type === 'campaign');
    t.equal(campaign.attributes.currency, 'USD', 'included resources carry all attributes');
    t.ok(Object.keys(campaign.attributes).length > 20);
    t.equal(first.links.self, `${sandbox.base}/api/oauth2/v2/members/${newId}`);

    const postPayload = JSON.parse(receiver.received[12]?.raw ?? '{}');
    t.equal(postPayload.data.type, 'post');
    t.equal(postPayload.data.attributes.title, 'Fresh pages');
    t.same(postPayload.data.attributes.tiers, ['54322']);
    t.same(postPayload.data.relationships.campaign.data, { type: 'campaign', id: '1234560' });

    const counters = await sandbox.call('/_control/counters');
    t.equal(counters.json.deliveries.delivered, 15);
  },
);

t.test('payload privacy follows the webhook creator scopes; thin post payloads', async (t) => {
  const sandbox = await startSandbox(t, { members: 20 });
  const receiver = await startReceiver(t, { path: '/hooks/patreon' });
  const narrow = await sandbox.connect('4410001', 'w:campaigns.webhook campaigns.members');
  const created = await sandbox.call('/api/oauth2/v2/webhooks', {
    method: 'POST',
    token: narrow.access_token,
    body: webhookBody(receiver.url, ['members:create', 'posts:publish']),
  });
  t.equal(created.status, 201);
  await sandbox.call('/_control/members', {
    method: 'POST',
    body: { fullName: 'Quiet Person', email: 'quiet@example.com', amountCents: 300 },
  });
  await sandbox.call('/_control/quirks', { method: 'PUT', body: { thinPostPayload: true } });
  const post = await sandbox.call('/_control/posts', {
    method: 'POST',
    body: { title: 'Public note' },
  });
  await sandbox.call('/_control/webhooks/idle', { method: 'POST' });

  const member = JSON.parse(receiver.received[0]?.raw ?? '{}');
  t.notOk('email' in member.data.attributes, 'no email without campaigns.members[email]');
  const user = member.included.find((r: { type: string }) => r.type === 'user');
  t.notOk('email' in user.attributes);
  t.same(
    JSON.parse(receiver.received[1]?.raw ?? '{}'),
    { data: { id: post.json.record.id, type: 'post' } },
    'thin: only data.id',
  );
});

t.test(
  'a failing receiver: retries, pause, queued events resent in order on PATCH paused=false',
  async (t) => {
    const sandbox = await startSandbox(t, {
      members: 20,
      webhookDelivery: { timeoutMs: 300, backoffMs: [20, 40], pauseAfterFailures: 3 },
    });
    const receiver = await startReceiver(t, { path: '/hooks/patreon' });
    // First attempt hangs (timeout), the next two get 500s, then the receiver recovers.
    receiver.answerWith((_, attempt) => (attempt === 1 ? 'hang' : attempt <= 3 ? 500 : 200));
    const token = sandbox.creatorToken();
    const created = await sandbox.call('/api/oauth2/v2/webhooks', {
      method: 'POST',
      token,
      body: webhookBody(receiver.url, ['members:create', 'posts:publish']),
    });
    const id: string = created.json.data.id;
    const secret: string = created.json.data.attributes.secret;

    await sandbox.call('/_control/members', { method: 'POST', body: { fullName: 'First Event' } });
    await sandbox.call('/_control/webhooks/idle', { method: 'POST' });
    t.equal(receiver.received.length, 3, 'three attempts, then paused');

    const list = await sandbox.call(
      '/api/oauth2/v2/webhooks?fields%5Bwebhook%5D=paused,num_consecutive_times_failed,last_attempted_at',
      { token },
    );
    const state = list.json.data[0].attributes;
    t.equal(state.paused, true);
    t.equal(state.num_consecutive_times_failed, 3);
    t.match(state.last_attempted_at, /\+00:00$/);

    await sandbox.call('/_control/posts', { method: 'POST', body: { title: 'Second Event' } });
    await sandbox.call('/_control/members', { method: 'POST', body: { fullName: 'Third Event' } });
    await sandbox.call('/_control/webhooks/idle', { method: 'POST' });
    t.equal(receiver.received.length, 3, 'nothing is sent while paused');
    const queued = await sandbox.call('/_control/webhooks');
    t.same(queued.json[0].queued, ['members:create', 'posts:publish', 'members:create']);

    const resumed = await sandbox.call(`/api/oauth2/v2/webhooks/${id}`, {
      method: 'PATCH',
      token,
      body: { data: { id, type: 'webhook', attributes: { paused: 'false' } } },
    });
    t.equal(resumed.json.data.attributes.paused, false);
    await sandbox.call('/_control/webhooks/idle', { method: 'POST' });

    const resent = receiver.received.slice(3);
    t.same(
      events(resent),
      ['members:create', 'posts:publish', 'members:create'],
      'queued events resent in order',
    );
    const bodies = resent.map((r) => JSON.parse(r.raw));
    t.equal(bodies[0].data.attributes.full_name, 'First Event');
    t.equal(bodies[1].data.attributes.title, 'Second Event');
    t.equal(bodies[2].data.attributes.full_name, 'Third Event');
    for (const delivery of resent)
      t.equal(delivery.headers['x-patreon-signature'], md5(secret, delivery.bytes));
    t.same(receiver.received[0]?.bytes, resent[0]?.bytes, 'the retried event is the same bytes');

    const after = await sandbox.call(
      '/api/oauth2/v2/webhooks?fields%5Bwebhook%5D=num_consecutive_times_failed,paused',
      { token },
    );
    t.equal(after.json.data[0].attributes.num_consecutive_times_failed, 0);
    const counters = await sandbox.call('/_control/counters');
    t.same(counters.json.deliveries, { delivered: 3, http_error: 2, timeout: 1, network_error: 0 });
  },
);

t.test('an unreachable receiver counts as a network error and pauses too', async (t) => {
  const sandbox = await startSandbox(t, {
    members: 5,
    webhookDelivery: { backoffMs: [1], pauseAfterFailures: 2 },
  });
  const token = sandbox.creatorToken();
  await sandbox.call('/api/oauth2/v2/webhooks', {
    method: 'POST',
    token,
    body: webhookBody('http://127.0.0.1:9/closed', ['members:create']),
  });
  await sandbox.call('/_control/members', { method: 'POST', body: {} });
  await sandbox.call('/_control/webhooks/idle', { method: 'POST' });
  const counters = await sandbox.call('/_control/counters');
  t.equal(counters.json.deliveries.network_error, 2);
  t.equal((await sandbox.call('/_control/webhooks')).json[0].paused, true);
});
