import t from 'tap';
import { auth, build, capturingLogger } from '../helper.js';

const PROBLEM = 'application/problem+json; charset=utf-8';

t.test('unknown route → 404, wrong method → 405 with Allow', async (t) => {
  const { app } = await build(t);

  const missing = await app.inject({ method: 'GET', url: '/nope?x=1' });
  t.equal(missing.statusCode, 404);
  t.equal(missing.headers['content-type'], PROBLEM);
  t.match(missing.json(), {
    type: 'urn:patreon-gateway:problem:route-not-found',
    status: 404,
    code: 'ROUTE_NOT_FOUND',
    requestId: missing.headers['x-request-id'],
  });

  const wrongMethod = await app.inject({ method: 'POST', url: '/v1/connections', headers: auth() });
  t.equal(wrongMethod.statusCode, 405);
  t.equal(wrongMethod.headers.allow, 'GET, HEAD');
  t.equal(wrongMethod.json().code, 'METHOD_NOT_ALLOWED');

  const paramRoute = await app.inject({
    method: 'PUT',
    url: '/v1/connections/7b0e3f50-51c4-4c0b-9e0e-0d6a0f1b2c3d',
  });
  t.equal(paramRoute.statusCode, 405, 'parametric paths are matched too');
});

t.test('a path the router cannot read → 400 or 414 problem, with the request id', async (t) => {
  const { app } = await build(t);
  for (const [url, status, code] of [
    ['/v1/campaigns/%zz/members', 400, 'MALFORMED_URL'],
    ['/v1/members/%ED%A0%80', 400, 'MALFORMED_URL'],
    [`/v1/campaigns/${'9'.repeat(201)}`, 414, 'URI_TOO_LONG'],
  ] as const) {
    const response = await app.inject({ url, headers: { ...auth(), 'x-request-id': 'req-1' } });
    t.equal(response.statusCode, status, url);
    t.equal(response.headers['content-type'], PROBLEM);
    t.equal(response.headers['x-request-id'], 'req-1');
    t.match(response.json(), { status, code, requestId: 'req-1' });
  }
});

t.test('a time Postgres cannot hold → 400, not a 500', async (t) => {
  const { app } = await build(t);
  for (const since of ['2026-01-01T00:00:00+16:00', '0000-06-01T00:00:00Z']) {
    const response = await app.inject({
      url: `/v1/events?since=${encodeURIComponent(since)}`,
      headers: auth(),
    });
    t.equal(response.statusCode, 400, since);
    t.match(response.json(), {
      code: 'VALIDATION_FAILED',
      errors: [{ in: 'query', path: 'since' }],
    });
  }
  const edge = await app.inject({
    url: `/v1/events?since=${encodeURIComponent('0001-01-01T00:00:00-15:59')}`,
    headers: auth(),
  });
  t.equal(edge.statusCode, 200, 'the widest offset Postgres takes');
});

t.test('a NUL character anywhere in the input → 400 naming the field, not a 500', async (t) => {
  const { app } = await build(t);
  const query = await app.inject({ url: '/v1/connections?externalUserId=a%00b', headers: auth() });
  t.equal(query.statusCode, 400);
  t.match(query.json(), {
    code: 'VALIDATION_FAILED',
    errors: [{ in: 'query', path: 'externalUserId' }],
  });
  const body = await app.inject({
    method: 'POST',
    url: '/v1/event-endpoints',
    headers: auth(),
    payload: { url: 'https://example.com/hook', eventTypes: [], description: 'x\u0000' },
  });
  t.equal(body.statusCode, 400);
  t.equal(body.headers['content-type'], PROBLEM);
  t.match(body.json(), { errors: [{ in: 'body', path: 'description' }] });
});

t.test('validation errors list each field', async (t) => {
  const { app } = await build(t);
  const response = await app.inject({
    method: 'GET',
    url: '/v1/connections?limit=500&role=admin',
    headers: auth(),
  });
  t.equal(response.statusCode, 400);
  t.equal(response.headers['content-type'], PROBLEM);
  const problem = response.json();
  t.equal(problem.code, 'VALIDATION_FAILED');
  t.equal(problem.type, 'urn:patreon-gateway:problem:validation-failed');
  t.same(problem.errors.map((e: { in: string; path: string }) => `${e.in}:${e.path}`).sort(), [
    'query:limit',
    'query:role',
  ]);

  const badId = await app.inject({
    method: 'GET',
    url: '/v1/connections/not-a-uuid',
    headers: auth(),
  });
  t.equal(badId.statusCode, 400);
  t.match(badId.json().errors, [{ in: 'params', path: 'id' }]);

  const badCursor = await app.inject({
    method: 'GET',
    url: '/v1/connections?cursor=bm90LWEtY3Vyc29y',
    headers: auth(),
  });
  t.equal(badCursor.statusCode, 400);
  t.equal(badCursor.json().code, 'INVALID_CURSOR');
});

t.test('unexpected errors → generic 500; the cause is logged, not sent', async (t) => {
  const capture = capturingLogger();
  const { app } = await build(t, {
    logger: capture.logger,
    extend: (app) =>
      app.get('/explode', async () => {
        throw new Error('connection to 10.0.0.7 refused for user admin');
      }),
  });
  const response = await app.inject({ method: 'GET', url: '/explode' });
  t.equal(response.statusCode, 500);
  t.equal(response.headers['content-type'], PROBLEM);
  const problem = response.json();
  t.equal(problem.code, 'INTERNAL');
  t.notMatch(response.body, /10\.0\.0\.7|admin/);
  const logged = capture.lines.map((line) => JSON.parse(line)).find((l) => l.err);
  t.equal(logged?.reqId, problem.requestId, 'the log line carries the request id');
  t.match(logged?.err?.message, /10\.0\.0\.7/);
});

t.test('body too large → 413, wrong content type → 415, malformed JSON → 400', async (t) => {
  const { app } = await build(t, {
    env: { BODY_LIMIT_BYTES: '64' },
    extend: (app) => app.post('/echo', async (request) => ({ got: request.body })),
  });
  const tooLarge = await app.inject({
    method: 'POST',
    url: '/echo',
    headers: { 'content-type': 'application/json' },
    payload: JSON.stringify({ text: 'x'.repeat(100) }),
  });
  t.equal(tooLarge.statusCode, 413);
  t.equal(tooLarge.headers['content-type'], PROBLEM);
  t.equal(tooLarge.json().code, 'PAYLOAD_TOO_LARGE');

  const wrongType = await app.inject({
    method: 'POST',
    url: '/echo',
    headers: { 'content-type': 'application/xml' },
    payload: '<a/>',
  });
  t.equal(wrongType.statusCode, 415);
  t.equal(wrongType.json().code, 'UNSUPPORTED_MEDIA_TYPE');

  const malformed = await app.inject({
    method: 'POST',
    url: '/echo',
    headers: { 'content-type': 'application/json' },
    payload: '{"a":',
  });
  t.equal(malformed.statusCode, 400);
  t.equal(malformed.json().code, 'MALFORMED_BODY');

  const fine = await app.inject({ method: 'POST', url: '/echo', payload: { a: 1 } });
  t.same(fine.json(), { got: { a: 1 } }, 'a small JSON body still passes');
});

t.test('request ids: generated, or reused from a well-formed x-request-id', async (t) => {
  const { app } = await build(t);
  const generated = await app.inject({ method: 'GET', url: '/healthz' });
  t.match(generated.headers['x-request-id'], /^[0-9a-f-]{36}$/);
  const reused = await app.inject({
    method: 'GET',
    url: '/healthz',
    headers: { 'x-request-id': 'lb-1234.abc' },
  });
  t.equal(reused.headers['x-request-id'], 'lb-1234.abc');
  const rejected = await app.inject({
    method: 'GET',
    url: '/healthz',
    headers: { 'x-request-id': 'bad id with spaces' },
  });
  t.not(rejected.headers['x-request-id'], 'bad id with spaces');
});
