import { randomUUID } from 'node:crypto';
import t from 'tap';
import { openDatabase } from '../../src/db/database.js';
import { FAMILIES, ID_LIKE, sampleSum, scrape } from '../fixtures/metrics-exposition.js';
import { tcpProxy } from '../fixtures/tcp-proxy.js';
import { deliver, eventually, insertWebhook, memberPayload } from '../fixtures/webhooks.js';
import { auth, build, freshDatabaseUrl, realDatabaseUrl, TEST_API_KEY } from '../helper.js';

const SECRET = 'whsec-metrics-0123456789abcdef0123456789abcdef';
const METRICS_TOKEN = 'metrics-token-0123456789abcdefghijklmnopqrstuvwxyz';

t.test('/metrics exposes every promised family, with its type', async (t) => {
  const { app } = await build(t);
  const { types, response } = await scrape(app);
  t.match(response.headers['content-type'], /^text\/plain; version=0\.0\.4/);
  for (const [type, names] of Object.entries(FAMILIES)) {
    for (const name of names) t.equal(types.get(name), type, name);
  }
});

t.test('HTTP requests are counted by route pattern; unmatched paths collapse to one', async (t) => {
  const { app } = await build(t);
  const memberId = randomUUID();
  const before = await scrape(app);
  const member = await app.inject({ url: `/v1/members/${memberId}`, headers: auth() });
  t.equal(member.statusCode, 404);
  for (const path of [`/no/such/${randomUUID()}`, `/v2/${randomUUID()}`]) {
    t.equal((await app.inject({ url: path })).statusCode, 404);
  }
  const after = await scrape(app);

  const memberRoute = { method: 'GET', route: '/v1/members/:id', status_code: '404' };
  const grew = (name: string, labels: Record<string, string>) =>
    sampleSum(after.samples, name, labels) - sampleSum(before.samples, name, labels);
  t.equal(grew('patreon_gateway_http_requests_total', memberRoute), 1);
  t.equal(grew('patreon_gateway_http_request_duration_seconds_count', memberRoute), 1);
  const unmatched = { method: 'GET', route: 'unmatched', status_code: '404' };
  t.equal(grew('patreon_gateway_http_requests_total', unmatched), 2);
  t.notOk(after.text.includes(memberId), 'the member id is no label');
  const routes = new Set(
    after.samples.flatMap((s) =>
      s.name.startsWith('patreon_gateway_http_') ? [s.labels.route] : [],
    ),
  );
  for (const route of routes) {
    t.ok(route === 'unmatched' || route?.startsWith('/'), `${route} is a pattern`);
    t.notOk(ID_LIKE.test(route ?? ''), `${route} holds no id`);
  }
});

t.test('webhook deliveries are counted by result, and applied ones give their lag', async (t) => {
  const { app } = await build(t);
  const webhookId = await insertWebhook(app, { secret: SECRET });
  const body = JSON.stringify(memberPayload({ memberId: randomUUID() }));
  const before = await scrape(app);

  const statuses = [
    (await deliver(app, webhookId, { secret: SECRET, body })).statusCode,
    (await deliver(app, webhookId, { secret: SECRET, body })).statusCode,
    (await deliver(app, webhookId, { secret: 'wrong-secret', body })).statusCode,
    (await deliver(app, randomUUID(), { secret: SECRET, body })).statusCode,
    (await deliver(app, 'not-a-uuid', { secret: SECRET, body })).statusCode,
    (await deliver(app, webhookId, { secret: SECRET, body, event: 'members:frobnicate' }))
      .statusCode,
  ];
  t.same(statuses, [200, 200, 401, 404, 404, 400]);

  const after = await eventually('the delivery applied', async () => {
    const scraped = await scrape(app);
    return (
      sampleSum(scraped.samples, 'patreon_gateway_webhook_apply_lag_seconds_count') > 0 && scraped
    );
  });
  const grew = (result: string) =>
    sampleSum(after.samples, 'patreon_gateway_webhook_deliveries_total', { result }) -
    sampleSum(before.samples, 'patreon_gateway_webhook_deliveries_total', { result });
  t.equal(grew('stored'), 1);
  t.equal(grew('duplicate'), 1);
  t.equal(grew('bad_signature'), 1);
  t.equal(grew('unknown_webhook'), 2);
  t.equal(grew('unknown_event'), 1);
  t.equal(grew('unavailable'), 0);
  t.equal(sampleSum(after.samples, 'patreon_gateway_webhook_apply_lag_seconds_count'), 1);
  const lag = sampleSum(after.samples, 'patreon_gateway_webhook_apply_lag_seconds_sum');
  t.ok(lag >= 0 && lag < 30, `lag ${lag} s`);
  t.equal(sampleSum(after.samples, 'patreon_gateway_webhook_events_unapplied'), 0);
  t.notOk(after.text.includes(webhookId), 'the webhook id is no label');
});

t.test('METRICS_TOKEN: a 401 problem without it or with another token', async (t) => {
  const { app } = await build(t, { env: { METRICS_TOKEN } });
  const cases: [string, Record<string, string>][] = [
    ['no authorization', {}],
    ['a wrong token', { authorization: 'Bearer metrics-token-wrong-0123456789abcdefghijklmnop' }],
    ['an API key', { authorization: `Bearer ${TEST_API_KEY}` }],
    ['the token without Bearer', { authorization: METRICS_TOKEN }],
  ];
  for (const [name, headers] of cases) {
    const response = await app.inject({ url: '/metrics', headers });
    t.equal(response.statusCode, 401, name);
    t.match(response.headers['content-type'], /^application\/problem\+json/, name);
    t.equal(response.json().code, 'UNAUTHORIZED', name);
    t.match(response.headers['www-authenticate'], /^Bearer /, name);
    t.notOk(response.body.includes(METRICS_TOKEN), `${name}: the token is not echoed`);
    t.notOk(response.body.includes('patreon_gateway_'), `${name}: no metrics`);
  }
  const ok = await scrape(app, { authorization: `Bearer ${METRICS_TOKEN}` });
  t.ok(ok.types.has('patreon_gateway_http_requests_total'));
  const open = await build(t);
  t.equal((await open.app.inject({ url: '/metrics' })).statusCode, 200, 'no token: open');
});

t.test('METRICS_TOKEN shorter than 32 characters is refused at start', async (t) => {
  await t.rejects(build(t, { env: { METRICS_TOKEN: 'short' } }), {
    code: 'CONFIG_INVALID',
    problems: ['METRICS_TOKEN: must be at least 32 characters'],
  });
});

t.test(
  'the database not answering: the scrape still answers, its gauges are left out',
  async (t) => {
    let cut: () => Promise<void>;
    let app: Awaited<ReturnType<typeof build>>['app'];
    if (realDatabaseUrl) {
      // A real server going away: its connections drop and new ones are refused.
      const target = new URL(await freshDatabaseUrl(t));
      const proxy = tcpProxy(Number(target.port));
      const viaProxy = new URL(target);
      viaProxy.port = String(await proxy.listen(0));
      ({ app } = await build(t, {
        database: await openDatabase({ url: viaProxy.toString(), poolMax: 2 }),
      }));
      t.teardown(() => proxy.close());
      cut = () => proxy.close();
    } else {
      // The embedded database cannot go away; its one connection held by a long statement is the
      // same to a scrape: no answer in time.
      ({ app } = await build(t));
      cut = async () => {
        const held = app.database.pool.query('select pg_sleep(4)');
        t.teardown(() =>
          held.then(
            () => {},
            () => {},
          ),
        );
      };
    }
    const up = await scrape(app);
    t.equal(sampleSum(up.samples, 'patreon_gateway_metrics_source_up', { source: 'database' }), 1);
    t.equal(sampleSum(up.samples, 'patreon_gateway_connections', { status: 'active' }), 0);

    await cut();
    const started = Date.now();
    const down = await scrape(app);
    t.ok(Date.now() - started < 5_000, `answered in ${Date.now() - started} ms`);
    t.equal(
      sampleSum(down.samples, 'patreon_gateway_metrics_source_up', { source: 'database' }),
      0,
    );
    t.notOk(
      down.samples.some((s) => s.name === 'patreon_gateway_connections'),
      'no stale connection counts',
    );
    t.ok(down.types.has('process_cpu_seconds_total'), 'the rest is there');
    t.ok(
      sampleSum(down.samples, 'patreon_gateway_http_requests_total', { route: '/metrics' }) >= 1,
      'HTTP counters are there',
    );
  },
);
