import t from 'tap';
import { deliver, insertWebhook } from '../fixtures/webhooks.js';
import {
  auth,
  build,
  capturingLogger,
  SECOND_API_KEY,
  TEST_API_KEY,
  testConfig,
} from '../helper.js';

const PROBLEM = 'application/problem+json; charset=utf-8';

t.test(
  '/v1: each API key has its own budget; requests without a valid key share their IP’s',
  async (t) => {
    const { app } = await build(t, { env: { API_RATE_LIMIT: '3' } });
    const list = (headers: Record<string, string>, remoteAddress = '127.0.0.1') =>
      app.inject({ url: '/v1/connections', headers, remoteAddress });

    for (let i = 1; i <= 3; i++) {
      const ok = await list(auth(TEST_API_KEY));
      t.equal(ok.statusCode, 200);
      t.equal(ok.headers['ratelimit-limit'], '3');
      t.equal(ok.headers['ratelimit-remaining'], String(3 - i));
    }
    const limited = await list(auth(TEST_API_KEY));
    t.equal(limited.statusCode, 429, 'the fourth request of the minute is refused');
    t.equal(limited.headers['content-type'], PROBLEM);
    t.equal(limited.json().code, 'RATE_LIMITED');
    t.equal(limited.json().status, 429);
    t.ok(Number(limited.headers['retry-after']) > 0, 'Retry-After in seconds');
    t.ok(Number(limited.headers['retry-after']) <= 60);
    t.equal(limited.headers['ratelimit-remaining'], '0');
    t.ok(Number(limited.headers['ratelimit-reset']) > 0);
    t.notOk(limited.body.includes(TEST_API_KEY), 'the key is not echoed');

    const other = await list(auth(SECOND_API_KEY));
    t.equal(other.statusCode, 200, 'the second key has a budget of its own');
    const elsewhere = await list(auth(TEST_API_KEY), '192.0.2.7');
    t.equal(elsewhere.statusCode, 429, 'a key’s budget follows the key, not the address');

    // Guessing keys: every wrong key from one address draws on that address's budget.
    const guesses = [];
    for (let i = 0; i < 4; i++) {
      guesses.push(
        (await list(auth(`guess-${i}-0123456789abcdefghijklmnopqrstuvwxyz`), '198.51.100.9'))
          .statusCode,
      );
    }
    t.same(guesses, [401, 401, 401, 429], 'the fourth guess from one IP is refused');
    const missing = await list({}, '198.51.100.9');
    t.equal(missing.statusCode, 429, 'no key at all: same address, same budget');
    const fresh = await list({}, '198.51.100.10');
    t.equal(fresh.statusCode, 401, 'another address still gets its 401');
    t.equal(
      (await list(auth(SECOND_API_KEY), '198.51.100.9')).statusCode,
      200,
      'a valid key from that address is counted under the key',
    );
  },
);

t.test('/v1 without API_RATE_LIMIT: no limiter, no RateLimit headers', async (t) => {
  const { app } = await build(t);
  for (let i = 0; i < 5; i++) {
    const response = await app.inject({ url: '/v1/connections', headers: auth() });
    t.equal(response.statusCode, 200);
    t.notOk(response.headers['ratelimit-limit']);
  }
});

t.test('browser OAuth routes: a budget per client IP', async (t) => {
  const { app } = await build(t, { env: { OAUTH_RATE_LIMIT: '2' } });
  const start = (remoteAddress: string) =>
    app.inject({ url: '/oauth/patreon/start?ticket=nope', remoteAddress });
  t.equal((await start('203.0.113.1')).statusCode, 400, 'an unknown ticket: the HTML page');
  t.equal(
    (await app.inject({ url: '/oauth/patreon/callback?state=x', remoteAddress: '203.0.113.1' }))
      .statusCode,
    400,
    'the callback shares the budget',
  );
  const limited = await start('203.0.113.1');
  t.equal(limited.statusCode, 429);
  t.equal(limited.headers['content-type'], PROBLEM);
  t.equal(limited.json().code, 'RATE_LIMITED');
  t.ok(Number(limited.headers['retry-after']) > 0);
  t.equal((await start('203.0.113.2')).statusCode, 400, 'another address has its own budget');
  t.equal(
    (await app.inject({ url: '/v1/connections', headers: auth(), remoteAddress: '203.0.113.1' }))
      .statusCode,
    200,
    'the API is not limited by the browser budget',
  );
});

t.test('webhook deliveries are never rate limited', async (t) => {
  const { app } = await build(t, { env: { API_RATE_LIMIT: '1', OAUTH_RATE_LIMIT: '1' } });
  const secret = 'burst-secret-0123456789abcdef0123456789abcd';
  const webhookId = await insertWebhook(app, { secret });
  for (let i = 0; i < 30; i++) {
    const response = await deliver(app, webhookId, {
      secret,
      body: JSON.stringify({ data: { type: 'member', id: `m-${i}` } }),
    });
    t.equal(response.statusCode, 200, `delivery ${i}`);
    t.notOk(response.headers['ratelimit-limit'], 'no limiter on the route');
    t.notOk(response.headers['retry-after']);
  }
});

t.test('X-Forwarded-For counts only from proxies TRUST_PROXY names', async (t) => {
  const forwarded = (app: Awaited<ReturnType<typeof build>>['app'], from: string, client: string) =>
    app.inject({
      url: '/oauth/patreon/start',
      remoteAddress: from,
      headers: { 'x-forwarded-for': client },
    });

  await t.test('off (the default): the peer address is the client', async (t) => {
    const { app } = await build(t, { env: { OAUTH_RATE_LIMIT: '2' } });
    const codes = [];
    for (const client of ['198.51.100.1', '198.51.100.2', '198.51.100.3']) {
      codes.push((await forwarded(app, '10.0.0.5', client)).statusCode);
    }
    t.same(codes, [400, 400, 429], 'a forged header does not buy a new budget');
  });

  await t.test('a trusted proxy: its X-Forwarded-For names the client', async (t) => {
    const logs = capturingLogger('info');
    const { app } = await build(t, {
      logger: logs.logger,
      env: { OAUTH_RATE_LIMIT: '2', TRUST_PROXY: '10.0.0.0/8' },
    });
    const codes = [];
    for (const client of ['198.51.100.1', '198.51.100.2', '198.51.100.1', '198.51.100.1']) {
      codes.push((await forwarded(app, '10.0.0.5', client)).statusCode);
    }
    t.same(codes, [400, 400, 400, 429], 'one budget per forwarded client');
    const logged = logs.lines
      .map((line) => JSON.parse(line))
      .filter((line) => line.msg === 'request completed')
      .map((line) => line.req.remoteAddress);
    t.same(logged.slice(0, 2), ['198.51.100.1', '198.51.100.2'], 'logs name the client');

    const untrusted = [];
    for (const client of ['203.0.113.1', '203.0.113.2', '203.0.113.3']) {
      untrusted.push((await forwarded(app, '192.0.2.50', client)).statusCode);
    }
    t.same(untrusted, [400, 400, 429], 'the header from a peer outside the list is ignored');
  });

  await t.test('a hop count trusts that many proxies', async (t) => {
    const { app } = await build(t, { env: { OAUTH_RATE_LIMIT: '1', TRUST_PROXY: '1' } });
    t.equal((await forwarded(app, '10.0.0.5', '1.1.1.1, 198.51.100.1')).statusCode, 400);
    t.equal(
      (await forwarded(app, '10.0.0.6', '1.1.1.1, 198.51.100.2')).statusCode,
      400,
      'the address the nearest proxy saw is the client, not the first (forgeable) entry',
    );
    t.equal((await forwarded(app, '10.0.0.7', '2.2.2.2, 198.51.100.1')).statusCode, 429);
  });
});

t.test('TRUST_PROXY and the limits are checked at start', async (t) => {
  for (const [value, expected] of [
    ['true', true],
    ['false', false],
    ['2', 2],
    [
      '10.0.0.0/8, 192.168.1.1, ::1, fd00::/8, loopback',
      ['10.0.0.0/8', '192.168.1.1', '::1', 'fd00::/8', 'loopback'],
    ],
  ] as const) {
    t.same(testConfig({ TRUST_PROXY: value }).server.trustProxy, expected, value);
  }
  t.equal(testConfig().server.trustProxy, false, 'off by default');
  for (const env of <Record<string, string>[]>[
    { TRUST_PROXY: '10.0.0.0/33' },
    { TRUST_PROXY: 'proxy.internal' },
    { TRUST_PROXY: '10.0.0.1/8/8' },
    { API_RATE_LIMIT: '-1' },
    { OAUTH_RATE_LIMIT: 'lots' },
  ]) {
    t.throws(() => testConfig(env), { code: 'CONFIG_INVALID' }, JSON.stringify(env));
  }
});
