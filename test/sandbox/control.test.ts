import { createHmac } from 'node:crypto';
import t from 'tap';
import { startReceiver } from '../fixtures/receiver.js';
import { startSandbox } from '../fixtures/sandbox.js';

const MEMBERS = '/api/oauth2/v2/campaigns/1234560/members';

t.test('control mutations change what the API serves', async (t) => {
  const sandbox = await startSandbox(t, { members: 16 });
  const token = sandbox.creatorToken();
  const patronCount = async () =>
    (
      await sandbox.call('/api/oauth2/v2/campaigns/1234560?fields%5Bcampaign%5D=patron_count', {
        token,
      })
    ).json.data.attributes.patron_count;
  const view = async (id: string) =>
    (
      await sandbox.call(
        `/api/oauth2/v2/members/${id}?include=currently_entitled_tiers&fields%5Bmember%5D=patron_status,last_charge_status,currently_entitled_amount_cents`,
        { token },
      )
    ).json.data;

  const startCount = await patronCount();
  const follower = (
    await sandbox.call(`${MEMBERS}?page%5Bcount%5D=16&fields%5Bmember%5D=patron_status`, { token })
  ).json.data.find(
    (m: { attributes: { patron_status: string | null } }) => m.attributes.patron_status === null,
  );
  const pledged = await sandbox.call(`/_control/members/${follower.id}/pledge`, {
    method: 'POST',
    body: { amountCents: 900 },
  });
  t.same(
    pledged.json.triggers,
    ['members:pledge:create', 'members:update'],
    'a follower turning patron is a pledge create',
  );
  let member = await view(follower.id);
  t.equal(member.attributes.patron_status, 'active_patron');
  t.equal(member.attributes.currently_entitled_amount_cents, 900);
  t.same(
    member.relationships.currently_entitled_tiers.data,
    [{ type: 'tier', id: '54322' }],
    'the best tier the amount reaches',
  );
  t.equal(await patronCount(), startCount + 1);

  await sandbox.call(`/_control/members/${follower.id}/decline`, { method: 'POST' });
  member = await view(follower.id);
  t.equal(member.attributes.patron_status, 'declined_patron');
  t.equal(member.attributes.last_charge_status, 'Declined');
  t.same(member.relationships.currently_entitled_tiers.data, []);
  t.equal(await patronCount(), startCount);

  await sandbox.call(`/_control/members/${follower.id}/recover`, { method: 'POST' });
  member = await view(follower.id);
  t.equal(member.attributes.patron_status, 'active_patron');
  t.equal(member.attributes.last_charge_status, 'Paid');
  t.same(member.relationships.currently_entitled_tiers.data, [{ type: 'tier', id: '54322' }]);

  const history = await sandbox.call(
    `/api/oauth2/v2/members/${follower.id}?include=pledge_history&fields%5Bpledge-event%5D=type,payment_status`,
    { token },
  );
  t.same(
    history.json.included.map(
      (e: { attributes: { type: string; payment_status: string } }) =>
        `${e.attributes.type}/${e.attributes.payment_status}`,
    ),
    ['pledge_start/Paid', 'subscription/Declined', 'subscription/Paid'],
    'mutations append pledge history',
  );

  const added = await sandbox.call('/_control/members', {
    method: 'POST',
    body: { fullName: 'Late Comer', tierId: '54321' },
  });
  t.equal(added.status, 201);
  const all = await sandbox.call(`${MEMBERS}?page%5Bcount%5D=100`, { token });
  t.equal(all.json.meta.pagination.total, 17);
  t.equal(all.json.data.at(-1).id, added.json.record.id, 'added members come last');
  const neverPaid = await sandbox.call('/_control/members', { method: 'POST', body: {} });
  await sandbox.call(`/_control/members/${neverPaid.json.record.id}`, { method: 'DELETE' });
  t.equal(
    (await sandbox.call(`/api/oauth2/v2/members/${neverPaid.json.record.id}`, { token })).status,
    404,
    'deleted members are gone',
  );
  const after = await sandbox.call(`${MEMBERS}?page%5Bcount%5D=100`, { token });
  t.equal(after.json.meta.pagination.total, 17);
  t.equal(after.json.data.length, 17);

  const post = await sandbox.call('/_control/posts', {
    method: 'POST',
    body: { title: 'New chapter', tierIds: ['54323'] },
  });
  const served = await sandbox.call(
    `/api/oauth2/v2/posts/${post.json.record.id}?fields%5Bpost%5D=title,is_paid,tiers`,
    { token },
  );
  t.same(served.json.data.attributes, { title: 'New chapter', is_paid: true, tiers: ['54323'] });
  await sandbox.call(`/_control/posts/${post.json.record.id}`, { method: 'DELETE' });
  t.equal(
    (await sandbox.call(`/api/oauth2/v2/posts/${post.json.record.id}`, { token })).status,
    404,
  );
});

t.test('control API validates its input with JSON:API errors', async (t) => {
  const sandbox = await startSandbox(t, { members: 16 });
  const token = sandbox.creatorToken();
  const page = await sandbox.call(
    `${MEMBERS}?page%5Bcount%5D=16&fields%5Bmember%5D=patron_status`,
    { token },
  );
  const former = page.json.data.find(
    (m: { attributes: { patron_status: string | null } }) =>
      m.attributes.patron_status === 'former_patron',
  );
  const cases: [string, 'POST' | 'PUT' | 'DELETE', unknown, number][] = [
    ['/_control/members/not-a-member/decline', 'POST', {}, 404],
    [`/_control/members/${former.id}/decline`, 'POST', {}, 400],
    [`/_control/members/${former.id}/pledge`, 'POST', {}, 400],
    [`/_control/members/${former.id}/pledge`, 'POST', { tierId: '54324' }, 400],
    ['/_control/members', 'POST', { email: 'not-an-email' }, 400],
    ['/_control/quirks', 'PUT', { delayMs: -5 }, 400],
    ['/_control/quirks', 'PUT', { unknownQuirk: true }, 400],
    ['/_control/posts/1', 'DELETE', undefined, 404],
  ];
  for (const [path, method, body, status] of cases) {
    const reply = await sandbox.call(path, { method, body });
    t.equal(reply.status, status, `${method} ${path}`);
    t.equal(reply.json.errors[0].status, String(status));
  }
  const quirks = await sandbox.call('/_control/quirks', { method: 'PUT', body: { delayMs: 150 } });
  t.equal(quirks.json.delayMs, 150);
  t.equal(quirks.json.retryAfterHeader, true, 'other quirks keep their values');
  const started = performance.now();
  await sandbox.call('/api/oauth2/v2/campaigns', { token });
  t.ok(performance.now() - started >= 140, 'delayMs slows API responses');
});

t.test('PATCH /_control/members/:id sets the state, with or without a webhook', async (t) => {
  const sandbox = await startSandbox(t, { members: 16 });
  const token = sandbox.creatorToken();
  const receiver = await startReceiver(t, { path: '/hooks/patreon' });
  const hook = await sandbox.call('/api/oauth2/v2/webhooks', {
    method: 'POST',
    token,
    body: {
      data: {
        type: 'webhook',
        attributes: { triggers: ['members:update'], uri: receiver.url },
        relationships: { campaign: { data: { type: 'campaign', id: '1234560' } } },
      },
    },
  });
  const secret: string = hook.json.data.attributes.secret;
  const fields = [
    'patron_status',
    'last_charge_status',
    'last_charge_date',
    'next_charge_date',
    'pledge_cadence',
    'is_gifted',
    'is_free_trial',
    'currently_entitled_amount_cents',
    'will_pay_amount_cents',
    'campaign_lifetime_support_cents',
  ];
  const served = async (id: string) => {
    const reply = await sandbox.call(
      `/api/oauth2/v2/members/${id}?include=currently_entitled_tiers,pledge_history&fields%5Bmember%5D=${fields.join(',')}&fields%5Bpledge-event%5D=type,tier_id,payment_status,date`,
      { token },
    );
    const { data, included = [] } = reply.json;
    return {
      attributes: data.attributes,
      tierIds: data.relationships.currently_entitled_tiers.data.map((r: { id: string }) => r.id),
      history: included
        .filter((r: { type: string }) => r.type === 'pledge-event')
        .map((r: { attributes: unknown }) => r.attributes),
    };
  };
  // Sandbox member 0 is an active monthly patron (README: archetypes).
  const page = await sandbox.call(`${MEMBERS}?page%5Bcount%5D=1`, { token });
  const id: string = page.json.data[0].id;

  const patched = await sandbox.call(`/_control/members/${id}`, {
    method: 'PATCH',
    body: {
      patronStatus: 'declined_patron',
      lastChargeStatus: 'Declined',
      lastChargeDate: '2026-03-10T08:00:00Z',
      nextChargeDate: null,
      pledgeCadence: 12,
      isGifted: true,
      tierIds: ['54322', '54323'],
    },
  });
  t.equal(patched.status, 200, 'patched');
  t.same(patched.json.triggers, ['members:update']);
  t.equal(patched.json.record.id, id, 'answers the member record');
  const expected = {
    patron_status: 'declined_patron',
    last_charge_status: 'Declined',
    last_charge_date: '2026-03-10T08:00:00.000+00:00',
    next_charge_date: null,
    pledge_cadence: 12,
    is_gifted: true,
    is_free_trial: false,
    currently_entitled_amount_cents: 2500,
    will_pay_amount_cents: 30_000,
  };
  const after = await served(id);
  t.match(after.attributes, expected, 'the member API serves the patch');
  t.same(after.tierIds, ['54322', '54323']);

  await sandbox.state.deliveries.idle();
  t.equal(receiver.received.length, 1, 'one delivery');
  const [delivery] = receiver.received;
  t.equal(delivery?.headers['x-patreon-event'], 'members:update');
  t.equal(
    delivery?.headers['x-patreon-signature'],
    createHmac('md5', secret)
      .update(delivery?.bytes ?? '')
      .digest('hex'),
    'signed with the webhook secret',
  );
  const body = JSON.parse(delivery?.raw ?? '{}');
  t.equal(body.data.id, id);
  t.match(body.data.attributes, expected, 'the delivery carries the new attributes');
  t.same(
    body.data.relationships.currently_entitled_tiers.data.map((r: { id: string }) => r.id),
    ['54322', '54323'],
  );

  const silent = await sandbox.call(`/_control/members/${id}`, {
    method: 'PATCH',
    body: {
      patronStatus: 'active_patron',
      lastChargeStatus: 'Paid',
      lastChargeDate: '2026-03-14T08:00:00+00:00',
      pledgeCadence: 1,
      isGifted: false,
      isFreeTrial: true,
      tierIds: [],
      currentlyEntitledAmountCents: 700,
      campaignLifetimeSupportCents: 9100,
      chargeTierId: '54324',
      notify: false,
    },
  });
  t.equal(silent.status, 200, 'patched without notifying');
  t.same(silent.json.triggers, []);
  const quiet = await served(id);
  t.match(quiet.attributes, {
    patron_status: 'active_patron',
    last_charge_status: 'Paid',
    is_free_trial: true,
    currently_entitled_amount_cents: 700,
    will_pay_amount_cents: 0,
    campaign_lifetime_support_cents: 9100,
  });
  t.same(quiet.tierIds, []);
  t.same(
    quiet.history.at(-1),
    {
      type: 'subscription',
      tier_id: '54324',
      payment_status: 'Paid',
      date: '2026-03-14T08:00:00.000+00:00',
    },
    'chargeTierId records the charge, for a deleted tier too',
  );
  await sandbox.state.deliveries.idle();
  t.equal(receiver.received.length, 1, 'notify: false sends nothing');

  const invalid: [string, unknown, number][] = [
    [id, { tierIds: ['99999'] }, 400],
    [id, { tierIds: ['54324'] }, 400],
    [id, { tierIds: ['64321'] }, 400],
    [id, { lastChargeStatus: 'paid' }, 400],
    [id, { lastChargeDate: 'yesterday' }, 400],
    [id, { surprise: true }, 400],
    [id, { chargeTierId: '54324', lastChargeDate: null }, 400],
    ['not-a-member', { isGifted: true }, 404],
  ];
  for (const [target, patch, status] of invalid) {
    const reply = await sandbox.call(`/_control/members/${target}`, {
      method: 'PATCH',
      body: patch,
    });
    t.equal(reply.status, status, JSON.stringify(patch));
    t.equal(reply.json.errors[0].status, String(status));
  }
  t.match((await served(id)).attributes, { currently_entitled_amount_cents: 700 }, 'unchanged');
  await sandbox.state.deliveries.idle();
  t.equal(receiver.received.length, 1, 'a refused patch sends nothing');
});
