import { sql } from 'drizzle-orm';
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import t, { type Test } from 'tap';
import type { Database } from '../../src/db/database.js';
import { deliver, insertWebhook } from '../fixtures/webhooks.js';
import { auth, build, freshDatabase } from '../helper.js';
import { documentedOperations, SAMPLE_UUID } from './operations.js';

const PROBLEM = 'application/problem+json; charset=utf-8';

/** What must never reach a client: stack frames, file paths, SQL and database wording. */
const INTERNALS: [string, RegExp][] = [
  ['a stack frame', /\bat (async )?[\w$.<>[\] ]*\(|\n\s+at |\bat (file|node):/],
  ['a file path', /\/(work|home|usr|tmp|src|dist|node_modules)\/|\.[cm]?[jt]s:\d+|[A-Z]:\\/],
  [
    'SQL',
    /\b(select|insert into|update|delete from|returning|where)\b[^"]*\b(from|values|set|=)\b/i,
  ],
  [
    'database wording',
    /relation|syntax error|SQLSTATE|duplicate key|violates|constraint|Failed query|pg_|postgres|pglite|drizzle|pool|ECONNREFUSED|params:/i,
  ],
];

function checkProblem(t: Test, response: LightMyRequestResponse, what: string) {
  t.equal(response.headers['content-type'], PROBLEM, `${what}: problem+json`);
  for (const [name, pattern] of INTERNALS) {
    const found = pattern.exec(response.body);
    t.notOk(found, `${what}: no ${name}${found ? ` (${found[0]})` : ''}`);
  }
}

async function callEveryOperation(app: FastifyInstance) {
  const answers: [string, LightMyRequestResponse][] = [];
  for (const op of documentedOperations()) {
    const response = await app.inject({
      method: op.method,
      url: op.url,
      headers: auth(),
      ...(op.body ? { payload: op.body } : {}),
    });
    answers.push([`${op.method} ${op.url}`, response]);
  }
  return answers;
}

t.test('4xx problems say what is wrong, never how we are built', async (t) => {
  const { app } = await build(t);
  const json = { ...auth(), 'content-type': 'application/json' };
  const cases: [string, InjectOptions][] = [
    ['no key', { url: '/v1/connections' }],
    ['unknown route', { url: '/v1/nothing-here/../../etc/passwd' }],
    ['wrong method', { method: 'PUT', url: '/v1/connections', headers: auth() }],
    ['bad query', { url: '/v1/connections?limit=-1', headers: auth() }],
    ['bad cursor', { url: "/v1/connections?cursor=' or 1=1 --", headers: auth() }],
    ['bad uuid', { url: "/v1/connections/1' union select 1--", headers: auth() }],
    ['unknown id', { url: `/v1/connections/${SAMPLE_UUID}`, headers: auth() }],
    ['unknown member', { url: `/v1/members/${SAMPLE_UUID}`, headers: auth() }],
    [
      'malformed JSON',
      { method: 'POST', url: '/v1/connections/authorize', headers: json, payload: '{"a":' },
    ],
    [
      'wrong content type',
      {
        method: 'POST',
        url: '/v1/connections/authorize',
        headers: { ...auth(), 'content-type': 'text/xml' },
        payload: '<a/>',
      },
    ],
    [
      'invalid body',
      {
        method: 'POST',
        url: '/v1/connections/authorize',
        headers: json,
        payload: { externalUserId: { $ne: null }, role: 'admin', returnTo: 'javascript:x' },
      },
    ],
    [
      'returnTo not allowed',
      {
        method: 'POST',
        url: '/v1/connections/authorize',
        headers: json,
        payload: { externalUserId: 'u', role: 'patron', returnTo: 'https://evil.com/' },
      },
    ],
    [
      'too large',
      {
        method: 'POST',
        url: '/v1/entitlements/check',
        headers: json,
        payload: JSON.stringify({ pad: 'x'.repeat(100_000) }),
      },
    ],
    [
      'deep JSON',
      {
        method: 'POST',
        url: '/v1/event-endpoints',
        headers: json,
        payload: `${'['.repeat(30_000)}${']'.repeat(30_000)}`,
      },
    ],
    [
      'webhook for nobody',
      { method: 'POST', url: `/webhooks/patreon/${SAMPLE_UUID}`, payload: '{}' },
    ],
  ];
  for (const [what, request] of cases) {
    const response = await app.inject(request);
    t.ok(
      response.statusCode >= 400 && response.statusCode < 500,
      `${what}: ${response.statusCode}`,
    );
    checkProblem(t, response, what);
  }
});

t.test('with its tables gone, every operation answers a generic problem', async (t) => {
  const { app } = await build(t);
  const secret = 'problem-secret-0123456789abcdef0123456789ab';
  const webhookId = await insertWebhook(app, { secret });
  const tables = await app.database.db.execute<{ name: string }>(
    sql`select format('%I.%I', schemaname, tablename) as name from pg_tables where schemaname = 'public'`,
  );
  for (const { name } of tables.rows) {
    await app.database.db.execute(sql.raw(`drop table if exists ${name} cascade`));
  }
  const answers = await callEveryOperation(app);
  t.ok(
    answers.filter(([, response]) => response.statusCode >= 500).length >= 20,
    'most operations failed on the missing tables',
  );
  for (const [what, response] of answers) {
    t.ok(response.statusCode >= 400, `${what}: ${response.statusCode}`);
    checkProblem(t, response, what);
    if (response.statusCode === 500) t.equal(response.json().code, 'INTERNAL', what);
  }
  const delivery = await deliver(app, webhookId, { secret, body: '{}' });
  t.ok(delivery.statusCode >= 500, `webhook ingest: ${delivery.statusCode}`);
  checkProblem(t, delivery, 'webhook ingest');
});

t.test('with the database closed, every operation answers a generic problem', async (t) => {
  const database = await freshDatabase(t);
  let closed: Promise<void> | undefined;
  // The app closes its database at teardown too: once is enough.
  const closeOnce: Database = { ...database, close: () => (closed ??= database.close()) };
  const { app } = await build(t, { database: closeOnce });
  await closeOnce.close();
  const answers = await callEveryOperation(app);
  t.ok(
    answers.filter(([, response]) => response.statusCode >= 500).length >= 20,
    'most operations failed on the closed database',
  );
  for (const [what, response] of answers) {
    // Some are refused before the database is asked (an id or body that does not validate).
    t.ok(response.statusCode >= 400, `${what}: ${response.statusCode}`);
    checkProblem(t, response, what);
  }
  const ready = await app.inject({ url: '/readyz' });
  t.equal(ready.statusCode, 503);
  t.notMatch(ready.body, INTERNALS[3]?.[1] as RegExp, 'readiness names no internals');
});
