import path from 'node:path';
import fc from 'fast-check';
import type { FastifyInstance } from 'fastify';
import t from 'tap';
import { connectCreator, connectPatron, startGateway } from '../fixtures/gateway.js';
import { startReceiver } from '../fixtures/receiver.js';
import { eventually, listWebhookEvents, registeredWebhook } from '../fixtures/webhooks.js';
import { auth, capturingLogger, TEST_API_KEY } from '../helper.js';
import { badRequests, hostileWrites } from './bad-requests.js';
import { brokenRules } from './checks.js';
import { describeRequest, type FuzzContext, type FuzzRequest, type RealCursor } from './draft.js';
import { familyEnabled, strict } from './known-failures.js';
import { type Operation, readOperations } from './operations.js';
import { compareDigests, knownIds, quietDigests, tableDigests } from './table-digests.js';
import { createTally, describeFindings, excerpt, saveReport, type Tally } from './tally.js';

/** Fixed by default so CI is reproducible; `npm run fuzz -- --runs N --seed S` explores further. */
const SEED = Number(process.env.FUZZ_SEED ?? 20_251_110);
const RUNS = Number(process.env.FUZZ_RUNS ?? 75);
/** FUZZ_ONLY=listWebhooks,getMember replays some operations only. */
const ONLY = process.env.FUZZ_ONLY?.split(',').filter(Boolean);

const operations = readOperations(path.join(import.meta.dirname, '../../openapi.yaml')).filter(
  (op) => !ONLY || ONLY.includes(op.operationId),
);

/** Sends one request, checks the answer and counts it; a 5xx finding quotes its logged cause. */
async function send(
  app: FastifyInstance,
  op: Operation,
  request: FuzzRequest,
  tally: Tally,
  logged: string[],
) {
  const response = await app.inject({
    method: request.method as 'GET',
    url: request.url,
    headers: request.headers,
    payload: request.payload,
  });
  tally.sent(op.operationId, response.statusCode);
  const answer = { status: response.statusCode, headers: response.headers, body: response.body };
  for (const rule of brokenRules(op, answer, request.mustFail)) {
    const id = String(response.headers['x-request-id']);
    const cause = logged
      .filter((line) => line.includes(id))
      .map((line) => /"message":"((?:[^"\\]|\\.)*)"/.exec(line)?.[1] ?? '')
      .join(' | ');
    tally.found({
      rule,
      operationId: op.operationId,
      request: describeRequest(request),
      status: response.statusCode,
      excerpt: `${excerpt(response.body)}${cause ? ` [logged: ${cause.slice(0, 300)}]` : ''}`,
    });
  }
}

/** Lists' first pages (one row each, every sort), whose `nextCursor`s the fuzzer tampers with. */
async function collectCursors(
  app: FastifyInstance,
  ctx: Omit<FuzzContext, 'realCursors' | 'enabled'>,
) {
  const cursors = new Map<string, RealCursor[]>();
  for (const op of operations) {
    if (op.method !== 'GET' || !op.parameters.some((p) => p.name === 'cursor')) continue;
    const sorts = op.parameters.find((p) => p.name === 'sort')?.schema.enum ?? [undefined];
    for (const sort of sorts) {
      const query: Array<[string, string]> = sort === undefined ? [] : [['sort', String(sort)]];
      const url = op.path.replace(/\{(\w+)\}/g, (_, name: string) => ctx.pathValue(op, name));
      const search = new URLSearchParams([['limit', '1'], ...query]);
      const response = await app.inject({ url: `${url}?${search}`, headers: auth() });
      const next = response.statusCode === 200 ? response.json().nextCursor : null;
      if (typeof next === 'string') {
        cursors.set(op.operationId, [
          ...(cursors.get(op.operationId) ?? []),
          { cursor: next, query },
        ]);
      }
    }
  }
  return cursors;
}

t.test('bad inputs to every route: a 4xx problem, never a 5xx, nothing written', async (t) => {
  const t0 = Date.now();
  const host = await startReceiver(t);
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
  // delivered to an endpoint; two of each listed kind, so every list has a second page to forge
  // cursors from. Then wait until nothing is left to do in the background.
  const {
    connectionId,
    jobs: [job],
  } = await connectCreator(gateway);
  const webhook = await registeredWebhook(app);
  const endpoint = await app.inject({
    method: 'POST',
    url: '/v1/event-endpoints',
    headers: auth(),
    payload: { url: host.url },
  });
  t.equal(endpoint.statusCode, 201);
  const second = await app.inject({
    method: 'POST',
    url: '/v1/event-endpoints',
    headers: auth(),
    payload: { url: `${host.url}/second`, enabled: false },
  });
  t.equal(second.statusCode, 201);
  await connectPatron(gateway, { externalUserId: 'patron', userId: '4410002' });
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
  await quietDigests(db);

  t.comment(`seeded and quiet after ${Date.now() - t0} ms`);
  const known = await knownIds(db);
  const base = {
    apiKey: TEST_API_KEY,
    bodyLimit: config.server.bodyLimitBytes,
    // The segment before a parameter names the collection: /v1/campaigns/{id}, /webhooks/patreon/{webhookId}.
    pathValue: (op: Operation, name: string) => {
      const segments = op.path.split('/');
      return ids[segments[segments.indexOf(`{${name}}`) - 1] ?? ''] ?? 'missing';
    },
    baseline: (name: string, schema: { example?: unknown; enum?: unknown[] }) => {
      const byName: Record<string, unknown> = {
        externalUserId: 'creator',
        campaignId: webhook.campaignId,
        returnTo: `${gateway.host.url}/done`,
        url: host.url,
        since: '2026-01-01T00:00:00Z',
      };
      return byName[name] ?? schema.example ?? schema.enum?.[0] ?? 'fuzz';
    },
    isKnownId: (value: string) =>
      known.has(value.toLowerCase()) || known.has(value.replace(/^0+(?=\d)/, '')),
    methods: (p: string) => operations.filter((op) => op.path === p).map((op) => op.method),
  };
  const cursors = await collectCursors(app, base);
  t.comment(`real cursors from ${[...cursors.keys()].join(', ')}`);
  const context: FuzzContext = {
    ...base,
    realCursors: (op) => cursors.get(op.operationId) ?? [],
    enabled: familyEnabled,
  };

  const tally = createTally('routes', SEED, RUNS);
  const before = await tableDigests(db);
  const started = Date.now();
  for (const op of operations) {
    for (const request of fc.sample(badRequests(op, context), { seed: SEED, numRuns: RUNS })) {
      await send(app, op, request, tally, errors.lines);
    }
  }
  for (const [table, how] of compareDigests(before, await tableDigests(db))) {
    tally.rowsChanged(table, how);
  }
  t.same(tally.report().rowsChanged, {}, 'the refused requests changed no row');

  // Then writes that may succeed: a hostile value in an otherwise valid body or query.
  const writeRuns = Math.max(3, Math.ceil(RUNS / 5));
  for (const op of operations) {
    const arbitrary = hostileWrites(op, context);
    if (!arbitrary) continue;
    for (const request of fc.sample(arbitrary, { seed: SEED, numRuns: writeRuns })) {
      await send(app, op, request, tally, errors.lines);
    }
  }

  const report = tally.report();
  saveReport(report);
  const sent = Object.values(report.sent).reduce((a, b) => a + b, 0);
  const histogram = Object.entries(report.statuses).map(([s, n]) => `${s}×${n}`);
  t.comment(
    `${sent} requests, ${operations.length} operations, ${Date.now() - started} ms${strict ? ' (strict)' : ''}: ${histogram.join(' ')}`,
  );
  t.equal(tally.findings, 0, 'every answer keeps the rules', {
    findings: `\n${describeFindings(report)}`,
    replay: `FUZZ_SEED=${SEED} FUZZ_RUNS=${RUNS}${strict ? ' FUZZ_STRICT=1' : ''} FUZZ_ONLY=<operationId> npx tap test/fuzz/routes.test.ts (or npm run fuzz -- --seed ${SEED} --runs ${RUNS})`,
  });
});
