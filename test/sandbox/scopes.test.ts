import t from 'tap';
import { startSandbox } from '../fixtures/sandbox.js';

const MEMBERS = '/api/oauth2/v2/campaigns/1234560/members';

t.test('each endpoint needs its scope: 401 JSON:API error otherwise', async (t) => {
  const sandbox = await startSandbox(t, { members: 10 });
  const { access_token: token } = await sandbox.connect('4410001', 'identity');
  const endpoints = [
    ['/api/oauth2/v2/campaigns', 'campaigns'],
    ['/api/oauth2/v2/campaigns/1234560', 'campaigns'],
    [MEMBERS, 'campaigns.members'],
    ['/api/oauth2/v2/campaigns/1234560/posts', 'campaigns.posts'],
    ['/api/oauth2/v2/webhooks', 'w:campaigns.webhook'],
  ];
  for (const [path, scope] of endpoints) {
    const reply = await sandbox.call(path as string, { token });
    t.equal(reply.status, 401, `${path} without ${scope}`);
    t.equal(reply.json.errors[0].status, '401');
    t.equal(reply.json.errors[0].code_name, 'Unauthorized');
    t.match(reply.json.errors[0].detail, scope as string);
  }
  const identity = await sandbox.call('/api/oauth2/v2/identity', { token });
  t.equal(identity.status, 200, 'the identity scope is enough for /identity');
  const noIdentity = await sandbox.connect('4410001', 'campaigns');
  t.equal(
    (await sandbox.call('/api/oauth2/v2/identity', { token: noIdentity.access_token })).status,
    401,
  );
});

t.test('email and address only with their scopes', async (t) => {
  const sandbox = await startSandbox(t, { members: 40 });
  const query = `${MEMBERS}?page%5Bcount%5D=40&include=user,address&fields%5Bmember%5D=full_name,email&fields%5Buser%5D=full_name,email&fields%5Baddress%5D=city,country`;

  const narrow = await sandbox.connect('4410001', 'campaigns.members');
  const hidden = await sandbox.call(query, { token: narrow.access_token });
  t.equal(hidden.status, 200);
  for (const member of hidden.json.data) {
    t.notOk('email' in member.attributes, 'member email hidden');
    t.same(member.relationships.address, { data: null }, 'address hidden');
  }
  for (const resource of hidden.json.included) {
    t.equal(resource.type, 'user', 'no address resources included');
    t.notOk('email' in resource.attributes, 'included user email hidden');
  }

  const wide = await sandbox.connect(
    '4410001',
    'campaigns.members campaigns.members[email] campaigns.members.address',
  );
  const shown = await sandbox.call(query, { token: wide.access_token });
  const emails = shown.json.data.map(
    (m: { attributes: { email: string | null } }) => m.attributes.email,
  );
  t.ok(emails.every((e: unknown) => e === null || typeof e === 'string'));
  t.ok(
    emails.some((e: unknown) => typeof e === 'string'),
    'emails shown with campaigns.members[email]',
  );
  t.ok(
    emails.some((e: unknown) => e === null),
    'some members have no email at all',
  );
  const addresses = shown.json.included.filter((r: { type: string }) => r.type === 'address');
  t.ok(addresses.length > 0, 'addresses included with campaigns.members.address');
  t.same(Object.keys(addresses[0].attributes).sort(), ['city', 'country']);
  const withAddress = shown.json.data.filter(
    (m: { relationships: { address: { data: unknown } } }) => m.relationships.address.data !== null,
  );
  t.ok(
    withAddress.length > 0 && withAddress.length < 40,
    'some members have an address, some do not',
  );
  const users = shown.json.included.filter((r: { type: string }) => r.type === 'user');
  t.ok(
    users.some((u: { attributes: { email?: string } }) => typeof u.attributes.email === 'string'),
    'included users show email too',
  );

  const me = await sandbox.connect('5000000', 'identity');
  const own = await sandbox.call('/api/oauth2/v2/identity?fields%5Buser%5D=full_name,email', {
    token: me.access_token,
  });
  t.notOk('email' in own.json.data.attributes, 'identity email needs identity[email]');
  const meWithEmail = await sandbox.connect('5000000', 'identity identity[email]');
  const ownEmail = await sandbox.call('/api/oauth2/v2/identity?fields%5Buser%5D=full_name,email', {
    token: meWithEmail.access_token,
  });
  t.match(ownEmail.json.data.attributes.email, /^[a-z]+\.[a-z]+\.0@example\.com$/);
  t.equal(ownEmail.json.links.self, `${sandbox.base}/api/oauth2/v2/user/5000000`);
});

t.test('identity memberships: the client campaign only, unless identity.memberships', async (t) => {
  const sandbox = await startSandbox(t, { members: 10 });
  // Patron 5000002 belongs to both the client's campaign and another creator's (every i % 5 === 2).
  const path =
    '/api/oauth2/v2/identity?include=memberships.campaign&fields%5Bmember%5D=patron_status';
  const narrow = await sandbox.connect('5000002', 'identity');
  const limited = await sandbox.call(path, { token: narrow.access_token });
  const campaignsOf = (doc: {
    data: { relationships: { memberships: { data: { id: string }[] } } };
    included: {
      type: string;
      id: string;
      relationships?: { campaign: { data: { id: string } } };
    }[];
  }) =>
    doc.data.relationships.memberships.data.map(
      (ref) =>
        doc.included.find((r) => r.type === 'member' && r.id === ref.id)?.relationships?.campaign
          .data.id,
    );
  t.same(campaignsOf(limited.json), ['1234560'], 'only the membership to the client campaign');

  const wide = await sandbox.connect('5000002', 'identity identity.memberships');
  const all = await sandbox.call(path, { token: wide.access_token });
  t.same(
    campaignsOf(all.json).sort(),
    ['1234560', '2345670'],
    'all memberships with identity.memberships',
  );

  const creator = await sandbox.connect('4410001', 'identity campaigns');
  const withCampaign = await sandbox.call('/api/oauth2/v2/identity?include=campaign', {
    token: creator.access_token,
  });
  t.same(withCampaign.json.data.relationships.campaign.data, { type: 'campaign', id: '1234560' });
  const patronCampaign = await sandbox.call('/api/oauth2/v2/identity?include=campaign', {
    token: wide.access_token,
  });
  t.same(
    patronCampaign.json.data.relationships.campaign,
    { data: null },
    'a patron has no campaign of their own',
  );
});

t.test('campaigns and webhooks are scoped to their owner and client', async (t) => {
  const sandbox = await startSandbox(t, { members: 10 });
  const other = await sandbox.connect('4410002', 'campaigns w:campaigns.webhook');
  const list = await sandbox.call('/api/oauth2/v2/campaigns', { token: other.access_token });
  t.same(
    list.json.data.map((c: { id: string }) => c.id),
    ['2345670'],
    "only the token user's own campaigns",
  );
  t.equal(list.json.meta.pagination.total, 1);
  const patron = await sandbox.connect('5000001', 'campaigns');
  const none = await sandbox.call('/api/oauth2/v2/campaigns', { token: patron.access_token });
  t.same(none.json.data, [], 'a list even when empty');
  t.equal(
    (await sandbox.call('/api/oauth2/v2/campaigns/1234560', { token: patron.access_token })).status,
    403,
  );

  sandbox.state.world.webhooks.create({
    clientId: 'another-client',
    campaignId: '1234560',
    uri: 'https://elsewhere.example/hook',
    triggers: ['members:create'],
    scopes: [],
  });
  const creator = sandbox.creatorToken();
  const created = await sandbox.call('/api/oauth2/v2/webhooks', {
    method: 'POST',
    token: creator,
    body: {
      data: {
        type: 'webhook',
        attributes: { triggers: ['members:create'], uri: 'https://mine.example/hook' },
        relationships: { campaign: { data: { type: 'campaign', id: '1234560' } } },
      },
    },
  });
  t.equal(created.status, 201);
  const mine = await sandbox.call('/api/oauth2/v2/webhooks?fields%5Bwebhook%5D=uri', {
    token: creator,
  });
  t.same(
    mine.json.data.map((w: { attributes: { uri: string } }) => w.attributes.uri),
    ['https://mine.example/hook'],
    "another client's webhook is invisible",
  );
  const foreignId = sandbox.state.world.webhooks
    .list()
    .find((w) => w.clientId === 'another-client')?.id;
  t.equal(
    (
      await sandbox.call(`/api/oauth2/v2/webhooks/${foreignId}`, {
        method: 'DELETE',
        token: creator,
      })
    ).status,
    404,
  );
  const elsewhere = await sandbox.call('/api/oauth2/v2/webhooks', {
    method: 'POST',
    token: other.access_token,
    body: {
      data: {
        type: 'webhook',
        attributes: { triggers: ['members:create'], uri: 'https://x.example/' },
        relationships: { campaign: { data: { type: 'campaign', id: '1234560' } } },
      },
    },
  });
  t.equal(elsewhere.status, 403, "no webhooks on someone else's campaign");
});
