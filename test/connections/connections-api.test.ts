import { and, eq, isNull } from 'drizzle-orm';
import t from 'tap';
import { request } from 'undici';
import {
  campaigns,
  connections,
  members,
  memberTiers,
  patreonWebhooks,
  syncJobs,
} from '../../src/db/schema/index.js';
import { connectCreator, connectPatron, startGateway } from '../fixtures/gateway.js';
import { auth } from '../helper.js';

t.test('authorize: validation, default scopes, and the ticket cookie', async (t) => {
  const gateway = await startGateway(t, { env: { PUBLIC_URL: 'https://gateway.example.com' } });
  const post = (payload: Record<string, unknown>) =>
    gateway.app.inject({
      method: 'POST',
      url: '/v1/connections/authorize',
      headers: auth(),
      payload,
    });

  const offList = await post({
    externalUserId: 'u',
    role: 'patron',
    returnTo: 'https://evil.example.com/x',
  });
  t.equal(offList.statusCode, 422);
  t.equal(offList.json().code, 'RETURN_TO_NOT_ALLOWED');
  const sibling = await post({
    externalUserId: 'u',
    role: 'patron',
    returnTo: `${gateway.host.url}.evil.com/`,
  });
  t.equal(sibling.statusCode, 422, 'a look-alike origin is not the allowed one');

  const badScope = await post({
    externalUserId: 'u',
    role: 'patron',
    returnTo: `${gateway.host.url}/ok`,
    scopes: ['campaigns', 'everything'],
  });
  t.equal(badScope.statusCode, 400);
  t.match(badScope.json().errors, [{ in: 'body', path: 'scopes.1' }]);

  const creator = await post({
    externalUserId: 'u',
    role: 'creator',
    returnTo: `${gateway.host.url}/ok`,
  });
  t.equal(creator.statusCode, 201);
  t.same(creator.json().scopes, [
    'identity',
    'identity[email]',
    'campaigns',
    'campaigns.members',
    'campaigns.members[email]',
    'campaigns.posts',
    'w:campaigns.webhook',
  ]);
  const patron = await post({
    externalUserId: 'u',
    role: 'patron',
    returnTo: `${gateway.host.url}/ok`,
    scopes: ['campaigns.members.address'],
  });
  t.same(patron.json().scopes, [
    'identity',
    'identity[email]',
    'identity.memberships',
    'campaigns.members.address',
  ]);
  const authorizeUrl = new URL(patron.json().authorizeUrl);
  t.equal(authorizeUrl.origin, 'https://gateway.example.com', 'links point at PUBLIC_URL');

  // Redeem the ticket on the listening port (the public URL is only a name here).
  const start = await request(`${gateway.publicUrl}${authorizeUrl.pathname}${authorizeUrl.search}`);
  await start.body.dump();
  t.equal(start.statusCode, 302);
  const cookie = String(start.headers['set-cookie']);
  t.match(cookie, /^pgw_oauth_state=[^;]+\.[^;]+;/, 'signed');
  t.match(cookie, /HttpOnly/);
  t.match(cookie, /SameSite=Lax/);
  t.match(cookie, /Secure/, 'Secure because the public URL is https');
  t.match(cookie, /Path=\/oauth\/patreon/);
  const patreon = new URL(String(start.headers.location));
  t.equal(patreon.pathname, '/sandbox/oauth2/authorize');
  t.equal(
    patreon.searchParams.get('scope'),
    'identity identity[email] identity.memberships campaigns.members.address',
  );
  t.equal(
    patreon.searchParams.get('redirect_uri'),
    'https://gateway.example.com/oauth/patreon/callback',
  );

  const again = await request(`${gateway.publicUrl}${authorizeUrl.pathname}${authorizeUrl.search}`);
  await again.body.dump();
  t.equal(
    new URL(String(again.headers.location)).searchParams.get('error'),
    'ticket_invalid',
    'a ticket works once',
  );
});

t.test('a patron’s memberships are stored, including other campaigns', async (t) => {
  const gateway = await startGateway(t);
  const { connectionId } = await connectPatron(gateway, {
    externalUserId: 'fan',
    userId: '5000002',
  });
  t.ok(connectionId);
  const rows = await gateway.database.db
    .select()
    .from(members)
    .where(and(eq(members.userId, '5000002'), isNull(members.deletedAt)));
  t.same(rows.map((m) => m.campaignId).sort(), ['1234560', '2345670']);
  t.ok(rows.every((m) => m.lastSource === 'identity'));
  const mine = rows.find((m) => m.campaignId === '1234560');
  t.match(mine, { patronStatus: /_patron$/, currency: 'USD' });
  const tiers = await gateway.database.db
    .select()
    .from(memberTiers)
    .where(eq(memberTiers.memberId, mine?.id as string));
  const sandboxMember = (await gateway.sandbox.call(`/_control/members/${mine?.id}`)).json;
  t.same(
    tiers.map((tier) => tier.tierId).sort(),
    [...(sandboxMember.tierIds ?? [])].sort(),
    'entitled tiers as Patreon reports them',
  );
  const campaign = await gateway.database.db
    .select()
    .from(campaigns)
    .where(eq(campaigns.id, '2345670'));
  t.equal(
    campaign[0]?.connectionId,
    null,
    'a campaign known only through a patron is not synced by anyone',
  );
});

t.test(
  'refresh now, then disconnect: webhooks deleted at Patreon, jobs cancelled, tokens forgotten, purge',
  async (t) => {
    const gateway = await startGateway(t);
    const { connectionId: id } = await connectCreator(gateway, {
      externalUserId: 'maker',
      waitForSync: false,
    });
    const db = gateway.database.db;

    const refreshed = await gateway.app.inject({
      method: 'POST',
      url: `/v1/connections/${id}/refresh`,
      headers: auth(),
    });
    t.equal(refreshed.statusCode, 200);
    t.ok(refreshed.json().lastRefreshedAt);

    // Connecting started a sync, which stored the campaign under this connection; the webhook
    // and the job below stand for what the sync and webhook issues create.
    const [stored] = await db.select().from(campaigns).where(eq(campaigns.id, '1234560'));
    t.equal(stored?.connectionId, id);
    const registered = await gateway.app.connections.vault.withAccessToken(id, (credentials) =>
      gateway.app.patreon.createWebhook(credentials, '1234560', {
        uri: `${gateway.publicUrl}/webhooks/patreon/x`,
        triggers: ['members:update'],
      }),
    );
    await db.insert(patreonWebhooks).values({
      patreonWebhookId: registered.id,
      connectionId: id,
      campaignId: '1234560',
      uri: registered.uri ?? '',
      triggers: ['members:update'],
    });
    const [job] = await db
      .insert(syncJobs)
      .values({ connectionId: id, campaignId: '1234560', kind: 'full', trigger: 'connect' })
      .returning();

    const gone = await gateway.app.inject({
      method: 'DELETE',
      url: `/v1/connections/${id}`,
      headers: auth(),
    });
    t.equal(gone.statusCode, 204);
    const creatorToken = gateway.sandbox.creatorToken();
    t.same(
      (await gateway.sandbox.call('/api/oauth2/v2/webhooks', { token: creatorToken })).json.data,
      [],
      'our webhook is deleted at Patreon',
    );
    const [row] = await db.select().from(connections).where(eq(connections.id, id));
    t.match(row, {
      status: 'disconnected',
      accessTokenCiphertext: null,
      refreshTokenCiphertext: null,
    });
    const [cancelled] = await db
      .select()
      .from(syncJobs)
      .where(eq(syncJobs.id, job?.id as string));
    t.equal(cancelled?.status, 'cancelled');
    t.equal(
      (await db.select().from(campaigns).where(eq(campaigns.id, '1234560'))).length,
      1,
      'kept without purge',
    );
    const purge = await gateway.app.inject({
      method: 'DELETE',
      url: `/v1/connections/${id}?purge=true`,
      headers: auth(),
    });
    t.equal(purge.statusCode, 204);
    t.same(await db.select().from(campaigns).where(eq(campaigns.id, '1234560')), [], 'purged');

    const view = await gateway.app.inject({
      method: 'GET',
      url: `/v1/connections/${id}`,
      headers: auth(),
    });
    t.equal(view.json().status, 'disconnected');
    const twice = await gateway.app.inject({
      method: 'DELETE',
      url: `/v1/connections/${id}`,
      headers: auth(),
    });
    t.equal(twice.statusCode, 204, 'idempotent');
    const revoked = await gateway.app.inject({
      url: '/v1/events?type=connection.revoked',
      headers: auth(),
    });
    t.match(
      revoked.json().data,
      [{ type: 'connection.revoked', connectionId: id, externalUserId: 'maker' }],
      'one connection.revoked event for the host, however often it disconnects',
    );
    const event = await gateway.app.inject({
      url: `/v1/events/${revoked.json().data[0]?.id}`,
      headers: auth(),
    });
    t.match(event.json(), { data: { connectionId: id, role: 'creator', reason: 'disconnected' } });
    const use = await gateway.app.connections.vault
      .withAccessToken(id, (c) => gateway.app.patreon.identity(c))
      .catch((e: unknown) => e);
    t.match(use, { code: 'CONNECTION_DISCONNECTED' });

    const reconnect = await connectCreator(gateway, {
      externalUserId: 'maker',
      waitForSync: false,
    });
    t.equal(reconnect.connectionId, id, 'connecting again revives the same connection');
    const revived = await gateway.app.inject({
      method: 'GET',
      url: `/v1/connections/${id}`,
      headers: auth(),
    });
    t.equal(revived.json().status, 'active');
  },
);
