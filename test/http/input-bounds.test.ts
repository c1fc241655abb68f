import { sql } from 'drizzle-orm';
import type { LightMyRequestResponse } from 'fastify';
import t, { type Test } from 'tap';
import { auth, build } from '../helper.js';

const PROBLEM = 'application/problem+json; charset=utf-8';
const q = encodeURIComponent;

function refused(t: Test, response: LightMyRequestResponse, at: { in: string; path: string }) {
  const what = `${at.in}.${at.path}`;
  t.equal(response.statusCode, 400, what);
  t.equal(response.headers['content-type'], PROBLEM, `${what}: problem+json`);
  t.match(response.json(), { code: 'VALIDATION_FAILED', errors: [at] }, what);
}

t.test('times: millisecond precision at most, before any query', async (t) => {
  const { app } = await build(t);
  await app.database.db.execute(
    sql`insert into campaigns (id, name, currency) values ('900', 'Times', 'USD')`,
  );
  const long = `2026-01-01T00:00:00.${'1'.repeat(200)}Z`;
  const micro = '2026-01-01T00:00:00.1234Z';
  const inputs: [string, string][] = [
    ['/v1/campaigns/900/analytics?from=', 'from'],
    ['/v1/campaigns/900/analytics?from=2025-01-01T00:00:00Z&to=', 'to'],
    ['/v1/campaigns/900/members?updatedSince=', 'updatedSince'],
    ['/v1/campaigns/900/pledge-events?from=', 'from'],
    ['/v1/events?since=', 'since'],
  ];
  for (const [url, path] of inputs) {
    for (const time of [long, micro]) {
      const response = await app.inject({ url: `${url}${q(time)}`, headers: auth() });
      refused(t, response, { in: 'query', path });
    }
  }
  const fourDigits = await app.inject({
    url: `/v1/campaigns/900/analytics?from=${q(micro)}`,
    headers: auth(),
  });
  t.match(fourDigits.json().errors[0].message, /3 fraction digits/, 'says what is wrong');

  const endpoint = await app.inject({
    method: 'POST',
    url: '/v1/event-endpoints',
    headers: auth(),
    payload: { url: 'https://example.com/hook' },
  });
  t.equal(endpoint.statusCode, 201);
  const recover = (since: string) =>
    app.inject({
      method: 'POST',
      url: `/v1/event-endpoints/${endpoint.json().id}/recover`,
      headers: auth(),
      payload: { since },
    });
  refused(t, await recover(micro), { in: 'body', path: 'since' });
  refused(t, await recover(long), { in: 'body', path: 'since' });
  t.equal((await recover('2026-01-01T00:00:00.123Z')).statusCode, 202, 'milliseconds in a body');

  const analytics = await app.inject({
    url: `/v1/campaigns/900/analytics?from=${q('2026-01-01T00:00:00.123+15:59')}&to=${q('2026-03-01T00:00:00.999Z')}`,
    headers: auth(),
  });
  t.equal(analytics.statusCode, 200, 'three fraction digits and the widest offset');
  t.equal(analytics.json().periods[0].start, '2025-12-01T00:00:00Z', 'the offset is applied');
});

t.test('integers past their bounds are a 400, not a cast error in SQL', async (t) => {
  const { app } = await build(t);
  for (const limit of ['201', '2147483648', '9'.repeat(30), '1.5', '-1']) {
    const response = await app.inject({ url: `/v1/connections?limit=${limit}`, headers: auth() });
    refused(t, response, { in: 'query', path: 'limit' });
  }
  const check = (minAmountCents: number) =>
    app.inject({
      method: 'POST',
      url: '/v1/entitlements/check',
      headers: auth(),
      payload: { externalUserId: 'u', campaignId: '1234560', minAmountCents },
    });
  refused(t, await check(2_147_483_648), { in: 'body', path: 'minAmountCents' });
  const largest = await check(2_147_483_647);
  t.equal(largest.statusCode, 404, 'the int4 maximum is taken (and the campaign looked up)');
  t.equal(largest.json().code, 'CAMPAIGN_NOT_FOUND');
});

t.test('Patreon ids have the shapes Patreon issues', async (t) => {
  const { app } = await build(t);
  const get = (url: string) => app.inject({ url, headers: auth() });
  refused(t, await get('/v1/campaigns/c1'), { in: 'params', path: 'id' });
  refused(t, await get(`/v1/campaigns/${'1'.repeat(20)}`), { in: 'params', path: 'id' });
  refused(t, await get('/v1/members/1234567'), { in: 'params', path: 'id' });
  refused(t, await get('/v1/campaigns/1/pledge-events?memberId=m1'), {
    in: 'query',
    path: 'memberId',
  });
  refused(t, await get('/v1/campaigns/1/members?tierId=t1'), { in: 'query', path: 'tierId' });
  t.equal((await get(`/v1/campaigns/${'9'.repeat(19)}`)).statusCode, 404, '19 digits');
  t.equal(
    (await get('/v1/members/5E1F0C2A-6F7E-4E0F-9B51-0A4F7B1C2D3E')).statusCode,
    404,
    'a UUID in capitals',
  );
});
