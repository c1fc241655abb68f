import t from 'tap';
import { createApiKeyCheck } from '../../src/http/api-key-auth.js';
import { auth, build, SECOND_API_KEY, TEST_API_KEY } from '../helper.js';

t.test('/v1 requires a configured API key', async (t) => {
  const { app } = await build(t);
  const url = '/v1/connections';

  const missing = await app.inject({ method: 'GET', url });
  t.equal(missing.statusCode, 401);
  t.equal(missing.headers['content-type'], 'application/problem+json; charset=utf-8');
  t.equal(missing.headers['www-authenticate'], 'Bearer realm="patreon-gateway"');
  t.equal(missing.json().code, 'UNAUTHORIZED');

  const wrong = await app.inject({ method: 'GET', url, headers: auth(`${TEST_API_KEY}x`) });
  t.equal(wrong.statusCode, 401);
  t.notMatch(wrong.body, TEST_API_KEY, 'the key is never echoed');

  const basic = await app.inject({
    method: 'GET',
    url,
    headers: { authorization: `Basic ${TEST_API_KEY}` },
  });
  t.equal(basic.statusCode, 401, 'only the Bearer scheme is accepted');

  for (const key of [TEST_API_KEY, SECOND_API_KEY]) {
    const ok = await app.inject({ method: 'GET', url, headers: auth(key) });
    t.equal(ok.statusCode, 200, 'every configured key works (rotation)');
  }

  const health = await app.inject({ method: 'GET', url: '/healthz' });
  t.equal(health.statusCode, 200, 'probes need no key');
});

t.test('the key check', async (t) => {
  const check = createApiKeyCheck(['a'.repeat(32), 'b'.repeat(32)]);
  t.ok(check(`Bearer ${'a'.repeat(32)}`));
  t.ok(check(`bearer ${'b'.repeat(32)}`), 'the scheme is case-insensitive');
  t.notOk(check(`Bearer ${'a'.repeat(31)}`));
  t.notOk(check('Bearer '));
  t.notOk(check(undefined));
  t.notOk(createApiKeyCheck([])('Bearer '), 'no keys: nothing passes, not even an empty key');
});
