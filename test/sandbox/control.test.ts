import t from 'tap';
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
