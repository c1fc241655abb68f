import path from 'node:path';
import { sql } from 'drizzle-orm';
import fc from 'fast-check';
import type { LightMyRequestResponse } from 'fastify';
import t from 'tap';
import type { Db } from '../../src/db/database.js';
import { startHost } from '../fixtures/event-receiver.js';
import { startGateway } from '../fixtures/gateway.js';
import { waitForJobs } from '../fixtures/sync.js';
import { eventually, listWebhookEvents, registeredWebhook } from '../fixtures/webhooks.js';
import { auth, capturingLogger, TEST_API_KEY } from '../helper.js';
import { badRequests, type FuzzContext, type FuzzRequest } from './bad-requests.js';
import { type Operation, readOperations } from './operations.js';

/** Fixed by default so CI is reproducible; FUZZ_SEED / FUZZ_RUNS (per operation) explore further. */
const SEED = Number(process.env.FUZZ_SEED ?? 20_251_110);
const RUNS = Number(process.env.FUZZ_RUNS ?? 75);

const operations = readOperations(path.join(import.meta.dirname, '../../openapi.yaml'));

/**
 * What "unchanged" means: every row of every table the service owns hashes the same before and
 * after. Left out, because they move on their own while the service idles: pg-boss's schema (its
 * maintenance and schedules), `leases` (held and released by background work) and
 * `patreon_rate_slots` (pruned every minute). A fuzzed request that wrote anything and committed
 * shows up here; one that rolled back leaves no trace, which is what unchanged means to a caller.
 */
const MOVING_TABLES = new Set(['leases', 'patreon_rate_slots']);

async function tableDigests(db: Db): Promise<Record<string, string>> {
  const tables = await db.execute<{ schema: string; name: string }>(sql`
    select table_schema as schema, table_name as name from information_schema.tables
    where table_type = 'BASE TABLE' and table_schema not in ('pg_catalog', 'information_schema', 'pgboss')
    order by 1, 2`);
  const digests: Record<string, string> = {};
  for (const { schema, name } of tables.rows) {
    if (MOVING_TABLES.has(name)) continue;
    const table = sql.raw(`"${schema}"."${name}"`);
    const result = await db.execute<{ rows: string; digest: string }>(sql`
      select count(*)::text as rows, md5(coalesce(string_agg(r::text, E'\n' order by r::text), '')) as digest
      from ${table} r`);
    const row = result.rows[0];
    digests[`${schema}.${name}`] = `${row?.rows} rows ${row?.digest}`;
  }
  return digests;
}

async function knownIds(db: Db): Promise<Set<string>> {
  const tables = await db.execute<{ name: string }>(sql`
    select table_name as name from information_schema.columns
    where column_name = 'id' and table_schema = 'public'`);
  const ids = new Set<string>();
  for (const { name } of tables.rows) {
    const rows = await db.execute<{ id: string }>(
      sql`select id::text as id from ${sql.raw(`"${name}"`)}`,
    );
    for (const { id } of rows.rows) ids.add(id.toLowerCase());
  }
  return ids;
}

const isProblem = (contentType: unknown) =>
  String(contentType ?? '').startsWith('application/problem+json');

/** The rules every answer to a bad request follows; throws with the reason when one is broken. */
function check(
  op: Operation,
  request: FuzzRequest,
  response: LightMyRequestResponse,
  logged: string[],
) {
  const status = response.statusCode;
  const fail = (why: string) => {
    const id = String(response.headers['x-request-id']);
    const cause = logged.filter((line) => line.includes(id)).join('');
    throw new Error(
      `${why}: ${status} ${response.headers['content-type']} ${response.body.slice(0, 300)}\n${cause.slice(0, 2000)}`,
    );
  };
  if (status >= 500) fail('a 5xx');
  if (request.mustFail && (status < 400 || status >= 500)) fail('an invalid request was not a 4xx');
  if (status < 400) return;
  const documented = op.responses[String(status)] ?? [];
  if (!isProblem(response.headers['content-type'])) {
    // The browser OAuth routes answer some 400s with an HTML page, as their document says.
    const html = documented.includes('text/html');
    if (!(html && String(response.headers['content-type']).startsWith('text/html'))) {
      fail('a 4xx that is not problem+json');
    }
    return;
  }
  let problem: { type?: unknown; title?: unknown; status?: unknown };
  try {
    problem = JSON.parse(response.body);
  } catch {
    return fail('a problem body that is not JSON');
  }
  if (typeof problem.type !== 'string' || typeof problem.title !== 'string') {
    fail('a problem without type and title');
  }
  if (problem.status !== status) fail('a problem whose status differs from the response');
}

t.test('bad inputs to every route: a 4xx problem, never a 5xx, nothing written', async (t) => {
  const t0 = Date.now();
  const host = await startHost(t);
  // Error lines are kept so a 5xx can be reported with the cause logged under its request id.
  const errors = capturingLogger('error');
  const gateway = await startGateway(t, {
    members: 12,
    env: { EVENTS_ALLOW_PRIVATE_URLS: 'true', OAUTH_RATE_LIMIT: '0', API_RATE_LIMIT: '0' },
    logger: errors.logger,
  });
  const { app, config } = gateway;
  const db = gateway.database.db;

  // Real data behind every kind of id: a synced campaign, a webhook delivery applied, an event
  // delivered to an endpoint. Then wait until nothing is left to do in the background.
  const landed = await gateway.connectOverHttp({
    externalUserId: 'creator',
    role: 'creator',
    userId: '4410001',
  });
  const connectionId = landed.searchParams.get('connection') as string;
  const [job] = await waitForJobs(app, connectionId);
  const webhook = await registeredWebhook(app);
  const endpoint = await app.inject({
    method: 'POST',
    url: '/v1/event-endpoints',
    headers: auth(),
    payload: { url: host.url },
  });
  t.equal(endpoint.statusCode, 201);
  await gateway.sandbox.call('/_control/members', {
    method: 'POST',
    body: { fullName: 'Fuzz Target', tierId: '54321' },
  });
  await eventually('an event delivered to the host', async () => host.received.length > 0);
  const [webhookEvent] = await listWebhookEvents(app);
  const get = async (url: string) =>
    (await app.inject({ url, headers: auth() })).json().data[0] as { id: string };
  const ids: Record<string, string> = {
    connections: connectionId,
    campaigns: webhook.campaignId,
    members: (await get(`/v1/campaigns/${webhook.campaignId}/members?limit=1`)).id,
    'sync-jobs': job?.id as string,
    'webhook-events': webhookEvent?.id as string,
    'event-endpoints': endpoint.json().id,
    events: (await get('/v1/events?limit=1')).id,
    patreon: webhook.id,
  };
  t.ok(Object.values(ids).every(Boolean), `ids of every kind: ${JSON.stringify(ids)}`);
  await eventually(
    'a quiet background',
    async () => {
      const first = JSON.stringify(await tableDigests(db));
      await new Promise((resolve) => setTimeout(resolve, 300));
      return first === JSON.stringify(await tableDigests(db));
    },
    20_000,
  );

  t.comment(`seeded and quiet after ${Date.now() - t0} ms`);
  const known = await knownIds(db);
  const context: FuzzContext = {
    apiKey: TEST_API_KEY,
    bodyLimit: config.server.bodyLimitBytes,
    // The segment before a parameter names the collection: /v1/campaigns/{id}, /webhooks/patreon/{webhookId}.
    pathValue: (op, name) => {
      const segments = op.path.split('/');
      return ids[segments[segments.indexOf(`{${name}}`) - 1] ?? ''] ?? 'missing';
    },
    baseline: (name, schema) => {
      const byName: Record<string, unknown> = {
        externalUserId: 'creator',
        campaignId: webhook.campaignId,
        returnTo: `${gateway.host.url}/done`,
        url: host.url,
        since: '2026-01-01T00:00:00Z',
      };
      return byName[name] ?? schema.example ?? schema.enum?.[0] ?? 'fuzz';
    },
    isKnownId: (value) =>
      known.has(value.toLowerCase()) || known.has(value.replace(/^0+(?=\d)/, '')),
    methods: (p) => operations.filter((op) => op.path === p).map((op) => op.method),
  };

  const before = await tableDigests(db);
  const started = Date.now();
  let sent = 0;
  const statuses = new Map<number, number>();
  for (const op of operations) {
    await t.test(`${op.method} ${op.path} (${op.operationId})`, async (t) => {
      const property = fc.asyncProperty(badRequests(op, context), async (request) => {
        sent += 1;
        const response = await app.inject({
          method: request.method as 'GET',
          url: request.url,
          headers: request.headers,
          payload: request.payload,
        });
        statuses.set(response.statusCode, (statuses.get(response.statusCode) ?? 0) + 1);
        check(op, request, response, errors.lines);
      });
      const run = await fc.check(property, { seed: SEED, numRuns: RUNS });
      // fast-check's report names the seed and path that replay the failure.
      const report = run.failed ? (fc.defaultReportMessage(run) ?? 'failed') : 'no failure';
      t.notOk(run.failed, report, {
        cause: String(run.errorInstance),
      });
    });
  }
  const tally = [...statuses].sort(([a], [b]) => a - b).map(([s, n]) => `${s}×${n}`);
  t.comment(
    `${sent} requests, ${operations.length} operations, ${Date.now() - started} ms: ${tally.join(' ')}`,
  );
  t.same(await tableDigests(db), before, 'the database is unchanged');
});
