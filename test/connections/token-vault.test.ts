import { randomBytes } from 'node:crypto';
import { eq, sql } from 'drizzle-orm';
import t, { type Test } from 'tap';
import { parseTokenKeys } from '../../src/config/config.js';
import { rotateTokenKeys } from '../../src/connections/key-rotation.js';
import { createTokenCipher } from '../../src/crypto/token-cipher.js';
import { type Database, openDatabase } from '../../src/db/database.js';
import { connections, outboundEvents } from '../../src/db/schema/index.js';
import { isPatreonError } from '../../src/patreon/errors.js';
import { connectCreator, startGateway } from '../fixtures/gateway.js';
import { auth, createRealDatabase, freshDatabase, realDatabaseUrl } from '../helper.js';

/** Two databases handles on one database: two pools on a real server, or one shared PGlite. */
async function sharedDatabase(t: Test): Promise<[Database, Database]> {
  if (realDatabaseUrl) {
    const url = await createRealDatabase(t);
    return [await openDatabase({ url, poolMax: 5 }), await openDatabase({ url, poolMax: 5 })];
  }
  const database = await freshDatabase(t);
  // The second app must not close the handle the first one still uses.
  return [database, { ...database, close: async () => {} }];
}

t.test(
  '100 concurrent calls from two instances on an expired token → exactly one refresh',
  async (t) => {
    const [databaseA, databaseB] = await sharedDatabase(t);
    // 100 calls on one token within a minute: more than Patreon's per-token budget allows.
    const env = { PATREON_TOKEN_RATE: '1000' };
    const a = await startGateway(t, { database: databaseA, env });
    const b = await startGateway(t, { database: databaseB, sandbox: a.sandbox, env });
    await a.sandbox.call('/_control/limits', { method: 'PUT', body: { enabled: false } });

    const { connectionId: id } = await connectCreator(a, {
      externalUserId: 'u1',
      waitForSync: false,
    });
    const cipher = createTokenCipher(a.config.tokenKeys);
    const [before] = await a.database.db.select().from(connections).where(eq(connections.id, id));
    const oldRefreshToken = cipher.open(before?.refreshTokenCiphertext as string, id);
    const oldAccessToken = cipher.open(before?.accessTokenCiphertext as string, id);

    // Expired at Patreon and in our records.
    await a.sandbox.call(`/_control/tokens/${oldAccessToken}/expire`, { method: 'POST' });
    await a.database.db
      .update(connections)
      .set({ tokenExpiresAt: new Date(Date.now() - 60_000) })
      .where(eq(connections.id, id));

    const call = (gateway: typeof a) =>
      gateway.app.connections.vault.withAccessToken(id, (credentials) =>
        gateway.app.patreon
          .identity(credentials)
          .then((user) => ({ user, token: credentials.accessToken })),
      );
    const results = await Promise.all(
      Array.from({ length: 100 }, (_, i) => call(i % 2 === 0 ? a : b)),
    );
    t.ok(
      results.every((r) => r.user.id === '4410001'),
      'every call succeeded',
    );
    const tokens = new Set(results.map((r) => r.token));
    t.equal(tokens.size, 1, 'all used the same, new token');
    t.notOk(tokens.has(oldAccessToken));

    const lineages = (await a.sandbox.call('/_control/tokens')).json as {
      userId: string;
      refreshes: number;
      kind: string;
    }[];
    const mine = lineages.filter((l) => l.kind === 'user' && l.userId === '4410001');
    t.same(
      mine.map((l) => l.refreshes),
      [1],
      'exactly one refresh reached Patreon',
    );

    const reuse = await a.app.patreon.refreshTokens(oldRefreshToken).catch((e: unknown) => e);
    t.ok(isPatreonError(reuse, 'PATREON_INVALID_GRANT'), 'the old refresh token is dead');

    const view = await a.app.inject({
      method: 'GET',
      url: `/v1/connections/${id}`,
      headers: auth(),
    });
    t.match(view.json(), { status: 'active', lastError: null });
    t.ok(Date.parse(view.json().lastRefreshedAt) > Date.now() - 60_000);
  },
);

t.test('revoked at Patreon → connection revoked, event recorded, then fail fast', async (t) => {
  const gateway = await startGateway(t);
  const { connectionId: id } = await connectCreator(gateway, {
    externalUserId: 'u2',
    waitForSync: false,
  });
  const lineages = (await gateway.sandbox.call('/_control/tokens')).json as {
    id: string;
    kind: string;
  }[];
  const lineage = lineages.find((l) => l.kind === 'user');
  await gateway.sandbox.call(`/_control/tokens/${lineage?.id}/revoke`, { method: 'POST' });

  const use = () =>
    gateway.app.connections.vault.withAccessToken(id, (credentials) =>
      gateway.app.patreon.identity(credentials),
    );
  const first = await use().catch((e: unknown) => e);
  t.match(first, { code: 'CONNECTION_REVOKED', status: 409 });

  const [row] = await gateway.database.db.select().from(connections).where(eq(connections.id, id));
  t.equal(row?.status, 'revoked');
  t.equal(row?.accessTokenCiphertext, null, 'dead tokens are forgotten');
  const events = await gateway.database.db.select().from(outboundEvents);
  t.match(events, [
    {
      type: 'connection.revoked',
      connectionId: id,
      externalUserId: 'u2',
      payload: { reason: 'invalid_grant' },
    },
  ]);

  const callsBefore = (await gateway.sandbox.call('/_control/counters')).json;
  const again = await use().catch((e: unknown) => e);
  t.match(again, { code: 'CONNECTION_REVOKED' });
  const callsAfter = (await gateway.sandbox.call('/_control/counters')).json;
  t.same(callsAfter.apiCalls, callsBefore.apiCalls, 'no call to Patreon');
  t.equal(callsAfter.tokenRequests, callsBefore.tokenRequests, 'no refresh attempt either');

  const refresh = await gateway.app.inject({
    method: 'POST',
    url: `/v1/connections/${id}/refresh`,
    headers: auth(),
  });
  t.equal(refresh.statusCode, 409);
  t.equal(refresh.json().code, 'CONNECTION_REVOKED');
});

t.test('a failing refresh keeps the stored tokens and backs off', async (t) => {
  const gateway = await startGateway(t);
  const { connectionId: id } = await connectCreator(gateway, {
    externalUserId: 'u3',
    waitForSync: false,
  });
  const [before] = await gateway.database.db
    .select()
    .from(connections)
    .where(eq(connections.id, id));
  // Patreon's token endpoint goes away (the sandbox stops listening).
  await gateway.sandbox.app.close();
  const first = await gateway.app.inject({
    method: 'POST',
    url: `/v1/connections/${id}/refresh`,
    headers: auth(),
  });
  t.equal(first.statusCode, 503);
  t.equal(first.json().code, 'CONNECTION_REFRESH_FAILED');
  const [after] = await gateway.database.db
    .select()
    .from(connections)
    .where(eq(connections.id, id));
  t.equal(after?.accessTokenCiphertext, before?.accessTokenCiphertext, 'tokens untouched');
  t.equal(after?.refreshTokenCiphertext, before?.refreshTokenCiphertext);
  t.equal(after?.failureCount, 1);
  t.equal(after?.status, 'active', 'still usable: the access token has not expired');
  const second = await gateway.app.inject({
    method: 'POST',
    url: `/v1/connections/${id}/refresh`,
    headers: auth(),
  });
  t.equal(second.json().code, 'CONNECTION_REFRESH_FAILED');
  const [backedOff] = await gateway.database.db
    .select()
    .from(connections)
    .where(eq(connections.id, id));
  t.equal(backedOff?.failureCount, 1, 'inside the back-off window Patreon is not called again');
});

t.test(
  'key rotation: readable with the old key added, re-sealed, then the old key removed',
  async (t) => {
    const keyA = `a:${randomBytes(32).toString('base64')}`;
    const keyB = `b:${randomBytes(32).toString('base64')}`;
    const [databaseA, databaseB] = await sharedDatabase(t);
    const first = await startGateway(t, { database: databaseA, env: { TOKEN_KEYS: keyA } });
    const { connectionId: id } = await connectCreator(first, {
      externalUserId: 'u4',
      waitForSync: false,
    });
    const under = async (keyId: string) =>
      (
        await first.database.db
          .select({ n: sql<number>`count(*)::int` })
          .from(connections)
          .where(sql`${connections.accessTokenCiphertext} like ${`v1.${keyId}.%`}`)
      )[0]?.n;
    t.equal(await under('a'), 1);

    const second = await startGateway(t, {
      database: databaseB,
      sandbox: first.sandbox,
      env: { TOKEN_KEYS: `${keyB},${keyA}` },
    });
    const me = await second.app.connections.vault.withAccessToken(id, (c) =>
      second.app.patreon.identity(c),
    );
    t.equal(me.id, '4410001', 'rows sealed under A open with B,A');

    const rotated = await rotateTokenKeys(
      second.database.db,
      createTokenCipher(second.config.tokenKeys),
    );
    t.equal(rotated.connections, 1);
    // The creator's webhook is registered in the background: re-sealed too if it is there yet.
    t.ok(rotated.webhooks <= 1, `${rotated.webhooks} webhook secret re-sealed`);
    t.equal(await under('a'), 0, 'nothing left under A');
    t.equal(await under('b'), 1);
    t.same(
      await rotateTokenKeys(second.database.db, createTokenCipher(second.config.tokenKeys)),
      { connections: 0, webhooks: 0 },
      'a rerun has nothing to do',
    );

    // Key A removed from the configuration: everything still opens with B alone.
    const onlyB = createTokenCipher(parseTokenKeys([keyB], []));
    const [row] = await first.database.db.select().from(connections).where(eq(connections.id, id));
    t.match(onlyB.open(row?.accessTokenCiphertext as string, id), /\S{10,}/);
    t.throws(
      () => onlyB.open(row?.accessTokenCiphertext as string, 'another-row'),
      'still bound to its row',
    );
  },
);
