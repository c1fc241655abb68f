import { sql } from 'drizzle-orm';
import t from 'tap';
import { connections, patreonUsers } from '../../src/db/schema/index.js';
import { auth, build } from '../helper.js';

t.test('GET /v1/connections pages through real rows, newest first', async (t) => {
  const { app, database } = await build(t);
  const db = database.db;

  const empty = await app.inject({ method: 'GET', url: '/v1/connections', headers: auth() });
  t.equal(empty.statusCode, 200);
  t.same(empty.json(), { data: [], nextCursor: null });

  await db.insert(patreonUsers).values([
    { id: '1001', fullName: 'Ada Creator', email: 'ada@example.com' },
    { id: '1002', fullName: 'Pat Patron', email: null },
  ]);
  // All rows fall in one millisecond, 1 µs apart: a cursor that went through a JavaScript Date
  // would lose their order and skip or repeat rows.
  const specs = [
    ['host-user-a', 'creator', '1001'],
    ['host-user-a', 'patron', '1002'],
    ['host-user-a', 'patron', '1001'],
    ['host-user-b', 'creator', '1001'],
    ['host-user-b', 'creator', '1001'],
  ] as const;
  const rows = await db
    .insert(connections)
    .values(
      specs.map(([externalUserId, role, patreonUserId], i) => ({
        externalUserId,
        role,
        patreonUserId,
        scopes: ['identity'],
        accessTokenCiphertext: 'v1.k1.secret-ciphertext',
        refreshTokenCiphertext: 'v1.k1.secret-ciphertext',
        createdAt: sql`'2026-11-01T00:00:00.000100Z'::timestamptz + ${i} * interval '1 microsecond'`,
      })),
    )
    .onConflictDoNothing()
    .returning({ id: connections.id });
  t.equal(rows.length, 4, 'the unique (external user, Patreon user, role) key holds');

  const seen: string[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const query: string = cursor ? `?limit=2&cursor=${cursor}` : '?limit=2';
    const response = await app.inject({
      method: 'GET',
      url: `/v1/connections${query}`,
      headers: auth(),
    });
    t.equal(response.statusCode, 200);
    const page = response.json();
    t.ok(page.data.length <= 2);
    t.notMatch(response.body, /ciphertext|Ciphertext/, 'no token field leaks');
    seen.push(...page.data.map((c: { id: string }) => c.id));
    cursor = page.nextCursor;
    pages++;
  } while (cursor && pages < 10);
  t.equal(pages, 2);
  t.same([...seen].sort(), rows.map((r) => r.id).sort(), 'every row exactly once');

  const filtered = await app.inject({
    method: 'GET',
    url: '/v1/connections?externalUserId=host-user-a&role=patron',
    headers: auth(),
  });
  const only = filtered.json().data;
  t.equal(only.length, 2);
  t.ok(
    only.every(
      (c: { externalUserId: string; role: string }) =>
        c.externalUserId === 'host-user-a' && c.role === 'patron',
    ),
  );
  t.same(
    only.map((c: { patreonUser: { id: string } }) => c.patreonUser.id),
    ['1001', '1002'],
    'newest first',
  );
  t.match(only[0], {
    status: 'active',
    scopes: ['identity'],
    patreonUser: { id: '1001', fullName: 'Ada Creator', email: 'ada@example.com' },
    role: 'patron',
    tokenExpiresAt: null,
    lastError: null,
  });

  const one = await app.inject({
    method: 'GET',
    url: `/v1/connections/${only[0].id}`,
    headers: auth(),
  });
  t.equal(one.statusCode, 200);
  t.same(one.json(), only[0]);

  const missing = await app.inject({
    method: 'GET',
    url: '/v1/connections/7b0e3f50-51c4-4c0b-9e0e-0d6a0f1b2c3d',
    headers: auth(),
  });
  t.equal(missing.statusCode, 404);
  t.equal(missing.json().code, 'CONNECTION_NOT_FOUND');
});
