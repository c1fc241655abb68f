import type { Test } from 'tap';
import t from 'tap';
import { startSandbox } from '../fixtures/sandbox.js';

const CAMPAIGNS = '/api/oauth2/v2/campaigns';

function assertThrottleBody(t: Test, body: { errors: Record<string, unknown>[] }) {
  t.equal(body.errors.length, 1);
  const [error] = body.errors;
  t.equal(error?.status, '429');
  t.equal(error?.code_name, 'RequestThrottled');
  t.equal(error?.code, null);
  t.equal(error?.title, 'You have made too many attempts. Please try again later.');
  t.type(error?.retry_after_seconds, 'number');
}

t.test('per-client window: 429 with retry_after_seconds and Retry-After', async (t) => {
  const sandbox = await startSandbox(t, {
    members: 5,
    limits: { client: { max: 5, windowMs: 2000 } },
  });
  const creator = sandbox.creatorToken();
  const user = await sandbox.connect('4410001', 'campaigns');
  const statuses: number[] = [];
  for (const token of [creator, user.access_token, creator, user.access_token, creator]) {
    statuses.push((await sandbox.call(CAMPAIGNS, { token })).status);
  }
  t.same(statuses, [200, 200, 200, 200, 200]);
  const throttled = await sandbox.call(CAMPAIGNS, { token: user.access_token });
  t.equal(
    throttled.status,
    429,
    'the sixth request of the client in the window, whatever the token',
  );
  assertThrottleBody(t, throttled.json);
  t.equal(throttled.json.errors[0].retry_after_seconds, 2);
  t.equal(throttled.headers['retry-after'], '2');

  await sandbox.call('/_control/clock', { method: 'POST', body: { advanceSeconds: 2.1 } });
  t.equal((await sandbox.call(CAMPAIGNS, { token: creator })).status, 200, 'the window slides');

  const counters = await sandbox.call('/_control/counters');
  t.equal(counters.json.throttled.client, 1);
  t.equal(
    counters.json.apiCalls['GET /api/oauth2/v2/campaigns 429'],
    1,
    'API calls counted by route and status',
  );
  t.equal(counters.json.apiCalls['GET /api/oauth2/v2/campaigns 200'], 6);
});

t.test('per-token window, and the 429 quirks', async (t) => {
  const sandbox = await startSandbox(t, {
    members: 5,
    limits: { token: { max: 3, windowMs: 60_000 } },
  });
  const creator = sandbox.creatorToken();
  for (let i = 0; i < 3; i++)
    t.equal((await sandbox.call(CAMPAIGNS, { token: creator })).status, 200);
  const throttled = await sandbox.call(CAMPAIGNS, { token: creator });
  t.equal(throttled.status, 429);
  assertThrottleBody(t, throttled.json);
  t.equal(throttled.json.errors[0].retry_after_seconds, 60);
  const other = await sandbox.connect('4410001', 'campaigns');
  t.equal(
    (await sandbox.call(CAMPAIGNS, { token: other.access_token })).status,
    200,
    'another token of the same client is not throttled',
  );

  await sandbox.call('/_control/quirks', { method: 'PUT', body: { retryAfterHeader: false } });
  const noHeader = await sandbox.call(CAMPAIGNS, { token: creator });
  t.equal(noHeader.status, 429);
  t.notOk(noHeader.headers['retry-after'], 'no Retry-After header');
  t.equal(noHeader.json.errors[0].code_name, 'RequestThrottled');

  await sandbox.call('/_control/quirks', {
    method: 'PUT',
    body: { retryAfterHeader: true, rateLimitBody: false },
  });
  const noBody = await sandbox.call(CAMPAIGNS, { token: creator });
  t.equal(noBody.status, 429);
  t.equal(noBody.text, '', 'no body');
  t.ok(noBody.headers['retry-after']);

  const limits = await sandbox.call('/_control/limits', {
    method: 'PUT',
    body: { enabled: false },
  });
  t.equal(limits.json.enabled, false);
  t.equal(
    (await sandbox.call(CAMPAIGNS, { token: creator })).status,
    200,
    'limits can be switched off',
  );
  const bad = await sandbox.call('/_control/limits', {
    method: 'PUT',
    body: { token: { max: -1 } },
  });
  t.equal(bad.status, 400);
  t.equal(bad.json.errors[0].status, '400');
});

t.test('a refresh does not reset the per-token window (patreon-api.md §6)', async (t) => {
  const sandbox = await startSandbox(t, {
    members: 5,
    limits: { token: { max: 4, windowMs: 60_000 } },
  });
  const { clientId, clientSecret } = sandbox.state.config;
  const first = await sandbox.connect('4410001', 'campaigns');
  for (let i = 0; i < 3; i++)
    t.equal((await sandbox.call(CAMPAIGNS, { token: first.access_token })).status, 200);

  const refreshed = await sandbox.call('/api/oauth2/token', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'refresh_token',
      refresh_token: first.refresh_token,
      client_id: clientId,
      client_secret: clientSecret,
    }).toString(),
  });
  t.equal(refreshed.status, 200);
  const token = refreshed.json.access_token as string;
  t.not(token, first.access_token);

  t.equal((await sandbox.call(CAMPAIGNS, { token })).status, 200, 'the fourth of the window');
  const throttled = await sandbox.call(CAMPAIGNS, { token });
  t.equal(throttled.status, 429, 'the new token sees the three calls of the old one');
  assertThrottleBody(t, throttled.json);
  t.equal(
    (await sandbox.call(CAMPAIGNS, { token: first.access_token })).status,
    429,
    'one window for the connection, whichever of its tokens calls',
  );

  await sandbox.call('/_control/clock', { method: 'POST', body: { advanceSeconds: 60.1 } });
  t.equal((await sandbox.call(CAMPAIGNS, { token })).status, 200, 'the window slides');
});

t.test('chaos mode: seeded random 429s and 5xx', async (t) => {
  const sandbox = await startSandbox(t, { members: 5, limits: { enabled: false } });
  const token = sandbox.creatorToken();
  const run = async () => {
    await sandbox.call('/_control/quirks', {
      method: 'PUT',
      body: { chaos: { rate: 0.4, seed: 42 } },
    });
    const statuses: number[] = [];
    for (let i = 0; i < 40; i++) {
      const reply = await sandbox.call(CAMPAIGNS, { token });
      statuses.push(reply.status);
      if (reply.status === 429) assertThrottleBody(t, reply.json);
      if (reply.status >= 500) {
        t.equal(reply.json.errors[0].status, String(reply.status));
        t.type(reply.json.errors[0].code_name, 'string');
      }
    }
    return statuses;
  };
  const first = await run();
  const second = await run();
  t.same(second, first, 'the same seed replays the same faults');
  const failures = first.filter((s) => s !== 200).length;
  t.ok(failures >= 8 && failures <= 24, `about 40% faults (${failures}/40)`);
  t.ok(first.includes(429), 'some 429s');
  t.ok(
    first.some((s) => s >= 500),
    'some 5xx',
  );

  await sandbox.call('/_control/quirks', { method: 'PUT', body: { chaos: { rate: 0, seed: 1 } } });
  t.equal((await sandbox.call(CAMPAIGNS, { token })).status, 200, 'rate 0 turns chaos off');
  const counters = await sandbox.call('/_control/counters');
  t.equal(counters.json.throttled.chaos + counters.json.chaosServerErrors, failures * 2);
});
