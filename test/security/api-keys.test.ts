import type { FastifyInstance } from 'fastify';
import t, { type Test } from 'tap';
import { build } from '../helper.js';
import { documentedOperations, type Operation } from './operations.js';

const OLD_KEY = 'rotated-out-key-0123456789abcdefghijklmnopq';
const NEW_KEY = 'current-key-0123456789abcdefghijklmnopqrstuv';

const operations = documentedOperations();

function call(app: FastifyInstance, op: Operation, authorization?: string) {
  return app.inject({
    method: op.method,
    url: op.url,
    headers: authorization ? { authorization } : {},
    ...(op.body ? { payload: op.body } : {}),
  });
}

async function expectRejected(
  t: Test,
  app: FastifyInstance,
  authorization: string | undefined,
  secret?: string,
) {
  for (const op of operations) {
    const response = await call(app, op, authorization);
    const name = `${op.method} ${op.url}`;
    t.equal(response.statusCode, 401, name);
    t.equal(response.headers['content-type'], 'application/problem+json; charset=utf-8', name);
    t.equal(response.headers['www-authenticate'], 'Bearer realm="patreon-gateway"', name);
    t.equal(response.json().code, 'UNAUTHORIZED', name);
    if (secret) t.notOk(response.body.includes(secret), `${name}: the key is not echoed`);
  }
}

t.ok(operations.length >= 30, `${operations.length} /v1 operations in openapi.yaml`);

t.test('every /v1 operation rejects a missing or wrong key', async (t) => {
  const { app } = await build(t, { env: { API_KEYS: NEW_KEY } });
  await expectRejected(t, app, undefined);
  await expectRejected(t, app, 'Bearer ');
  await expectRejected(t, app, `Bearer ${NEW_KEY.slice(0, -1)}x`, NEW_KEY.slice(0, -1));
  await expectRejected(t, app, `Basic ${NEW_KEY}`, NEW_KEY);
  await expectRejected(t, app, `Bearer ${NEW_KEY} ${NEW_KEY}`, NEW_KEY);
});

t.test('a key rotated out of API_KEYS is refused on every /v1 operation', async (t) => {
  const before = await build(t, { env: { API_KEYS: `${NEW_KEY},${OLD_KEY}` } });
  for (const key of [OLD_KEY, NEW_KEY]) {
    const response = await before.app.inject({
      url: '/v1/connections',
      headers: { authorization: `Bearer ${key}` },
    });
    t.equal(response.statusCode, 200, 'both keys work while both are configured');
  }
  // Every operation gets past the key check with a configured key: whatever it answers, it
  // is not the 401 of the check.
  for (const op of operations) {
    const response = await call(before.app, op, `Bearer ${OLD_KEY}`);
    t.not(response.statusCode, 401, `${op.method} ${op.url} accepts the configured key`);
  }
  await before.app.close();

  const after = await build(t, { env: { API_KEYS: NEW_KEY } });
  await expectRejected(t, after.app, `Bearer ${OLD_KEY}`, OLD_KEY);
  const current = await after.app.inject({
    url: '/v1/connections',
    headers: { authorization: `Bearer ${NEW_KEY}` },
  });
  t.equal(current.statusCode, 200, 'the key kept still works');
});
