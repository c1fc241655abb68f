import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import t, { type Test } from 'tap';
import { createPatreonClient, type PatreonClientOptions } from '../../src/patreon/client.js';
import { isPatreonError, type PatreonError } from '../../src/patreon/errors.js';
import { listenOnFreePort } from '../fixtures/listen.js';
import { startSandbox } from '../fixtures/sandbox.js';

type Sandbox = Awaited<ReturnType<typeof startSandbox>>;

async function sandboxClient(t: Test, options: Partial<PatreonClientOptions> = {}) {
  const sandbox = await startSandbox(t, { members: 100 });
  const client = createPatreonClient({
    baseUrl: sandbox.base,
    clientId: sandbox.state.config.clientId,
    clientSecret: sandbox.state.config.clientSecret,
    retry: { baseDelayMs: 20 },
    ...options,
  });
  t.teardown(() => client.close());
  return { sandbox, client, creator: { accessToken: sandbox.creatorToken() } };
}

const put = (sandbox: Sandbox, path: string, body: unknown) =>
  sandbox.call(path, { method: 'PUT', body });

async function allMembers(client: ReturnType<typeof createPatreonClient>, accessToken: string) {
  const ids: string[] = [];
  let pages = 0;
  for await (const page of client.members({ accessToken }, '1234560')) {
    pages++;
    ids.push(...page.items.map((m) => m.id));
  }
  return { ids, pages };
}

t.test('a last page that keeps its cursor, and a server that ignores page[count]', async (t) => {
  const { sandbox, client, creator } = await sandboxClient(t);
  await put(sandbox, '/_control/quirks', { lastPageKeepsCursor: true });
  const sticky = await allMembers(client, creator.accessToken);
  t.equal(sticky.ids.length, 100);
  t.equal(new Set(sticky.ids).size, 100, 'no member twice');
  t.equal(sticky.pages, 1);

  await put(sandbox, '/_control/quirks', { lastPageKeepsCursor: false, ignorePageCount: true });
  const small = await allMembers(client, creator.accessToken);
  t.equal(small.pages, 5, 'pages of 20');
  t.equal(new Set(small.ids).size, 100);
});

t.test('429s: waits the stated time and succeeds, with or without header and body', async (t) => {
  const { sandbox, client, creator } = await sandboxClient(t);
  // The sandbox allows far less than the client believes, so it must answer 429.
  await put(sandbox, '/_control/limits', { token: { max: 3, windowMs: 1_000 } });
  for (const quirks of [
    { retryAfterHeader: true, rateLimitBody: true },
    { retryAfterHeader: false, rateLimitBody: true },
    { retryAfterHeader: false, rateLimitBody: false },
  ]) {
    await put(sandbox, '/_control/quirks', quirks);
    const before = (await sandbox.call('/_control/counters')).json.throttled.token;
    const results = await Promise.all(Array.from({ length: 6 }, () => client.identity(creator)));
    t.ok(
      results.every((user) => user.id === '4410001'),
      `all succeed (${JSON.stringify(quirks)})`,
    );
    const after = (await sandbox.call('/_control/counters')).json.throttled.token;
    t.ok(after > before, 'the sandbox did throttle');
  }
});

t.test('the governor keeps the request rate within the budget: no 429 at all', async (t) => {
  const { sandbox, client, creator } = await sandboxClient(t, {
    limits: { token: { requests: 10, windowMs: 1_000 }, headroom: 1 },
  });
  await put(sandbox, '/_control/limits', { token: { max: 10, windowMs: 1_000 } });
  const started = Date.now();
  await Promise.all(Array.from({ length: 25 }, () => client.identity(creator)));
  const elapsed = Date.now() - started;
  const counters = (await sandbox.call('/_control/counters')).json;
  t.equal(counters.throttled.total, 0, 'never throttled');
  t.ok(elapsed >= 2_000, `25 calls at 10/s took ${elapsed} ms (waited, did not burst)`);
});

t.test('chaos: idempotent reads survive random 5xx and 429', async (t) => {
  const { sandbox, client, creator } = await sandboxClient(t, {
    retry: { attempts: 6, baseDelayMs: 10 },
  });
  await put(sandbox, '/_control/quirks', { chaos: { rate: 0.3, seed: 7 } });
  const users = await Promise.all(Array.from({ length: 30 }, () => client.identity(creator)));
  t.equal(users.length, 30);
  const counters = (await sandbox.call('/_control/counters')).json;
  t.ok(counters.chaosServerErrors > 0, `${counters.chaosServerErrors} 5xx were retried`);
});

/** A stand-in Patreon that misbehaves in one precise way per path, counting hits. */
async function faultyPatreon(
  t: Test,
  handler: (req: IncomingMessage, res: ServerResponse) => void,
) {
  const hits: string[] = [];
  const server = createServer((req, res) => {
    hits.push(`${req.method} ${req.url?.split('?')[0]}`);
    handler(req, res);
  });
  const { url } = await listenOnFreePort(t, server);
  const client = createPatreonClient({
    baseUrl: url,
    clientId: 'id',
    clientSecret: 'secret',
    retry: { attempts: 3, baseDelayMs: 10 },
    timeouts: { headersMs: 300 },
  });
  t.teardown(() => client.close());
  return { client, hits };
}

const json = (res: ServerResponse, status: number, body: unknown) => {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
};

t.test('5xx: reads are retried with backoff, writes are not', async (t) => {
  const { client, hits } = await faultyPatreon(t, (_req, res) => json(res, 503, { errors: [] }));
  const read = await client.identity({ accessToken: 'a' }).catch((e: unknown) => e);
  t.ok(isPatreonError(read, 'PATREON_UNAVAILABLE'));
  t.equal(hits.filter((h) => h.startsWith('GET')).length, 3, 'three attempts');

  const write = await client
    .createWebhook({ accessToken: 'a' }, '1', {
      uri: 'https://x.test/h',
      triggers: ['members:create'],
    })
    .catch((e: unknown) => e);
  t.ok(isPatreonError(write, 'PATREON_UNAVAILABLE'));
  t.equal(hits.filter((h) => h.startsWith('POST')).length, 1, 'a write is sent once');

  const refresh = await client.refreshTokens('rt').catch((e: unknown) => e);
  t.ok(isPatreonError(refresh, 'PATREON_UNAVAILABLE'));
  t.equal(
    hits.filter((h) => h === 'POST /api/oauth2/token').length,
    1,
    'a refresh is never repeated',
  );
});

t.test('timeouts: reads are retried, writes are not', async (t) => {
  const { client, hits } = await faultyPatreon(t, () => {
    // never answers
  });
  const read = await client.identity({ accessToken: 'a' }).catch((e: unknown) => e);
  t.ok(isPatreonError(read, 'PATREON_UNAVAILABLE'));
  t.match((read as PatreonError).message, /UND_ERR_HEADERS_TIMEOUT/);
  t.equal(hits.length, 3);
  const write = await client
    .updateWebhook({ accessToken: 'a' }, '9', { paused: false })
    .catch((e: unknown) => e);
  t.ok(isPatreonError(write, 'PATREON_UNAVAILABLE'));
  t.equal(hits.length, 4, 'the PATCH went out once');
});

t.test('malformed responses → PATREON_BAD_RESPONSE naming the path', async (t) => {
  const bodies: Record<string, unknown> = {
    '/api/oauth2/v2/identity': { data: [{ type: 'user', id: '1' }] },
    '/api/oauth2/v2/campaigns/1/members': {
      data: [
        {
          type: 'member',
          id: '8c1f0e2a-0000-4000-8000-000000000001',
          attributes: { full_name: 'A' },
        },
        {
          type: 'member',
          id: '8c1f0e2a-0000-4000-8000-000000000002',
          attributes: { pledge_cadence: 'twelve' },
        },
      ],
    },
    '/api/oauth2/v2/members/8c1f0e2a-0000-4000-8000-000000000003': {
      data: {
        type: 'member',
        id: '8c1f0e2a-0000-4000-8000-000000000003',
        relationships: { pledge_history: { data: [{ type: 'pledge-event', id: 'e1' }] } },
      },
      included: [{ type: 'pledge-event', id: 'e1', attributes: { amount_cents: 500 } }],
    },
    '/api/oauth2/v2/posts/p1': { data: { type: 'campaign', id: 'p1' } },
    '/api/oauth2/v2/campaigns/2': 'not json at all',
  };
  const { client } = await faultyPatreon(t, (req, res) => {
    const body = bodies[req.url?.split('?')[0] ?? ''];
    if (typeof body === 'string') {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end(body);
    } else json(res, 200, body);
  });
  const credentials = { accessToken: 'a' };
  const cases: [Promise<unknown>, string][] = [
    [client.identity(credentials), 'data'],
    [client.members(credentials, '1').next(), 'data[1].attributes.pledge_cadence'],
    [
      client.member(credentials, '8c1f0e2a-0000-4000-8000-000000000003'),
      'included[0].attributes.date',
    ],
    [client.post(credentials, 'p1'), 'data.type'],
    [client.campaign(credentials, '2'), ''],
  ];
  for (const [promise, path] of cases) {
    const error = await promise.catch((e: unknown) => e);
    t.ok(isPatreonError(error, 'PATREON_BAD_RESPONSE'), `${path || 'non-JSON'} → bad response`);
    t.equal((error as PatreonError).details.path, path);
  }
});

t.test(
  'unknown extra attributes and nulls where numbers are documented are tolerated',
  async (t) => {
    const { client } = await faultyPatreon(t, (_req, res) =>
      json(res, 200, {
        data: {
          type: 'member',
          id: '8c1f0e2a-0000-4000-8000-000000000001',
          attributes: {
            currently_entitled_amount_cents: null,
            is_follower: true,
            brand_new: { x: 1 },
          },
        },
      }),
    );
    const member = await client.member(
      { accessToken: 'a' },
      '8c1f0e2a-0000-4000-8000-000000000001',
    );
    t.same(member, {
      id: '8c1f0e2a-0000-4000-8000-000000000001',
      currentlyEntitledAmountCents: null,
      isFollower: true,
    });
  },
);
