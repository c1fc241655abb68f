import t, { type Test } from 'tap';
import { createPatreonClient } from '../../src/patreon/client.js';
import { isPatreonError } from '../../src/patreon/errors.js';
import type { Member } from '../../src/patreon/resources.js';
import { REDIRECT_URI, startSandbox } from '../fixtures/sandbox.js';

const ALL_SCOPES =
  'identity identity[email] identity.memberships campaigns campaigns.members campaigns.members[email] campaigns.members.address campaigns.posts w:campaigns.webhook';

async function setup(t: Test, members = 120) {
  const sandbox = await startSandbox(t, { members });
  const client = createPatreonClient({
    baseUrl: sandbox.base,
    clientId: sandbox.state.config.clientId,
    clientSecret: sandbox.state.config.clientSecret,
  });
  t.teardown(() => client.close());
  const creator = { accessToken: sandbox.creatorToken() };
  return { sandbox, client, creator };
}

t.test('identity, campaigns and a campaign decode into typed objects', async (t) => {
  const { client, creator } = await setup(t);

  const me = await client.identity(creator);
  t.equal(me.id, '4410001');
  t.equal(me.fullName, 'Mira Castellano');
  t.type(me.created, Date, 'dates are Date objects');
  t.equal(me.memberships, undefined, 'relationships only when included');

  const campaigns = await client.campaigns(creator);
  t.same(
    campaigns.map((c) => c.id),
    ['1234560'],
    'only the token user’s campaigns',
  );
  t.equal(campaigns[0]?.currency, 'USD');
  t.equal(campaigns[0]?.creator?.id, '4410001');

  const campaign = await client.campaign(creator, '1234560');
  t.equal(campaign.name, 'Mira Makes Comics');
  const tiers = campaign.tiers ?? [];
  t.ok(tiers.length >= 3);
  t.notOk(
    tiers.some((tier) => tier.id === '54324'),
    'the deleted tier is gone from the campaign',
  );
  const supporter = tiers.find((tier) => tier.id === '54321');
  t.equal(supporter?.amountCents, 300, 'cents as integers');
  t.ok((supporter?.benefits ?? []).length > 0, 'tier → benefits resolved through included');
  t.ok((campaign.benefits ?? []).every((b) => typeof b.title === 'string'));
  t.same(campaign.goals, [], 'goals are deprecated and empty');
});

t.test('members page through at the largest page size with history and address', async (t) => {
  const { client, creator, sandbox } = await setup(t, 1_200);
  const pages: number[] = [];
  const ids = new Set<string>();
  let withHistory = 0;
  for await (const page of client.members(creator, '1234560', {
    pledgeHistory: true,
    address: true,
  })) {
    pages.push(page.items.length);
    t.equal(page.total, 1_200);
    for (const member of page.items) {
      ids.add(member.id);
      if ((member.pledgeHistory ?? []).length > 0) withHistory++;
    }
  }
  t.same(pages, [500, 500, 200], '500 per page with pledge_history');
  t.equal(ids.size, 1_200, 'every member exactly once');
  t.ok(withHistory > 0);

  const sample = await collectMembers(client, creator, { pledgeHistory: true, address: true }, 32);
  const statuses = new Set(sample.map((m) => m.patronStatus ?? null));
  t.same([...statuses].sort(), ['active_patron', 'declined_patron', 'former_patron', null].sort());
  const annual = sample.find((m) => m.pledgeCadence === 12);
  t.ok(annual, 'an annual pledge is decoded');
  const withTier = sample.find((m) => (m.currentlyEntitledTiers ?? []).length > 0);
  t.type(withTier?.currentlyEntitledTiers?.[0]?.amountCents, 'number');
  t.match(withTier?.user, { id: /^\d+$/ });
  const event = sample.flatMap((m) => m.pledgeHistory ?? [])[0];
  t.type(event?.date, Date);
  t.match(event?.currencyCode, /^[A-Z]{3}$/);
  t.ok(
    sample.some((m) => m.address?.country),
    'addresses with the address scope',
  );

  const counters = (await sandbox.call('/_control/counters')).json;
  const memberCalls = Object.entries(counters.apiCalls as Record<string, number>)
    .filter(([key]) => key.includes('/members'))
    .reduce((sum, [, n]) => sum + n, 0);
  t.equal(memberCalls, 3 + 1, 'three pages plus one sample page: no wasted calls');
});

t.test('member, posts, post', async (t) => {
  const { client, creator } = await setup(t);
  const [first] = await collectMembers(client, creator, {}, 1);
  const member = await client.member(creator, first?.id as string);
  t.equal(member.id, first?.id);
  t.equal(member.campaign?.id, '1234560');
  t.equal(member.campaign?.currency, 'USD');

  const posts = [];
  for await (const page of client.posts(creator, '1234560')) posts.push(...page.items);
  t.equal(posts.length, 24);
  const paid = posts.find((p) => p.isPaid);
  t.ok(
    paid?.tiers?.every((tier) => typeof tier === 'string'),
    'post tier ids are strings',
  );
  const post = await client.post(creator, posts[0]?.id as string);
  t.equal(post.title, posts[0]?.title);
  t.equal(post.campaign?.id, '1234560');
});

t.test('webhooks: create with secret, list, pause/unpause, delete twice', async (t) => {
  const { client, creator } = await setup(t);
  const created = await client.createWebhook(creator, '1234560', {
    uri: 'https://gateway.example.com/webhooks/patreon/abc',
    triggers: ['members:create', 'members:update'],
  });
  t.match(created, { id: /^\d+$/, paused: false, numConsecutiveTimesFailed: 0 });
  t.ok(created.secret.length >= 16);

  const listed = await client.webhooks(creator);
  t.same(
    listed.map((w) => w.id),
    [created.id],
  );
  t.equal(listed[0]?.campaign?.id, '1234560');

  const paused = await client.updateWebhook(creator, created.id, { paused: true });
  t.equal(paused.paused, true);
  const resumed = await client.updateWebhook(creator, created.id, {
    paused: false,
    triggers: ['members:create', 'members:update', 'members:delete'],
  });
  t.same(resumed.triggers, ['members:create', 'members:update', 'members:delete']);

  await client.deleteWebhook(creator, created.id);
  await client.deleteWebhook(creator, created.id); // already gone: still fine
  t.same(await client.webhooks(creator), []);
});

t.test('scopes: a patron token cannot read members; email needs its scope', async (t) => {
  const { client, sandbox } = await setup(t);
  const tokens = await sandbox.connect('5000001', 'identity campaigns');
  const patron = { accessToken: tokens.access_token };
  const error = await client
    .members(patron, '1234560')
    .next()
    .catch((e: unknown) => e);
  t.ok(isPatreonError(error, 'PATREON_UNAUTHORIZED'), 'missing scope → PATREON_UNAUTHORIZED');
  t.match((error as Error).message, /Unauthorized/);
  t.notMatch((error as Error).message, tokens.access_token, 'the token is never in a message');

  const me = await client.identity(patron);
  t.equal(me.email, undefined, 'no email without identity[email]');
  const withEmail = await sandbox.connect('5000001', 'identity identity[email]');
  t.match((await client.identity({ accessToken: withEmail.access_token })).email, /@/);
});

t.test(
  'identity with memberships shows other campaigns only with identity.memberships',
  async (t) => {
    const { client, sandbox } = await setup(t);
    // Patron 2 (i % 5 === 2) is also a member of the second campaign.
    const narrow = await sandbox.connect('5000002', 'identity');
    const wide = await sandbox.connect('5000002', ALL_SCOPES);
    const campaignsOf = async (accessToken: string) =>
      (await client.identity({ accessToken }, { memberships: true })).memberships
        ?.map((m) => m.campaign?.id)
        .sort();
    t.same(await campaignsOf(narrow.access_token), ['1234560']);
    t.same(await campaignsOf(wide.access_token), ['1234560', '2345670']);
  },
);

t.test('authorization code and refresh grants; a rotated refresh token is dead', async (t) => {
  const { client, sandbox } = await setup(t);
  const url = new URL(
    client.authorizeUrl({
      redirectUri: REDIRECT_URI,
      scopes: ['identity', 'campaigns'],
      state: 's1',
    }),
  );
  t.equal(url.pathname, '/sandbox/oauth2/authorize');
  t.equal(url.searchParams.get('scope'), 'identity campaigns');

  const first = await sandbox.connect('5000003', 'identity');
  const refreshed = await client.refreshTokens(first.refresh_token);
  t.not(refreshed.accessToken, first.access_token);
  t.not(refreshed.refreshToken, first.refresh_token, 'the refresh token rotates');
  t.ok(refreshed.expiresAt.getTime() > Date.now() + 30 * 86_400_000);
  t.same(refreshed.scopes, ['identity']);
  const reuse = await client.refreshTokens(first.refresh_token).catch((e: unknown) => e);
  t.ok(isPatreonError(reuse, 'PATREON_INVALID_GRANT'));
  t.equal((await client.identity({ accessToken: refreshed.accessToken })).id, '5000003');

  const badCode = await client.exchangeCode('not-a-code', REDIRECT_URI).catch((e: unknown) => e);
  t.ok(isPatreonError(badCode, 'PATREON_INVALID_GRANT'));
});

async function collectMembers(
  client: ReturnType<typeof createPatreonClient>,
  credentials: { accessToken: string },
  options: { pledgeHistory?: boolean; address?: boolean },
  count: number,
): Promise<Member[]> {
  const pages = client.members(credentials, '1234560', options);
  const first = await pages.next();
  await pages.return(undefined);
  return first.done ? [] : first.value.items.slice(0, count);
}
