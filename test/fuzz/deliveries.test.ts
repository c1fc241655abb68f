import fc from 'fast-check';
import type { FastifyInstance } from 'fastify';
import t from 'tap';
import { deliver, eventually, insertWebhook } from '../fixtures/webhooks.js';
import { auth, build } from '../helper.js';
import { brokenRules, leakIn } from './checks.js';
import { type Delivery, deliveryBatch, JUNK } from './junk-deliveries.js';
import { caseEnabled, strict } from './known-failures.js';
import { createTally, describeFindings, excerpt, saveReport } from './tally.js';

const SEED = Number(process.env.FUZZ_SEED ?? 20_251_110);
const RUNS = Number(process.env.FUZZ_RUNS ?? 75);
/** One batch of 100 good deliveries per 75 runs (the default), each with every kind of junk. */
const BATCHES = Math.max(1, Math.round(RUNS / 75));
const GOOD_PER_BATCH = 100;
const SECRET = 'whsec-fuzz-0123456789abcdef0123456789abcdef';
/** How long stored deliveries get to reach a final state (applied, ignored, failed). */
const SETTLE_MS = Number(process.env.FUZZ_SETTLE_MS ?? 30_000);
/** FUZZ_JUNK='not JSON,no data' sends only those kinds of junk (to replay one). */
const ONLY_JUNK = process.env.FUZZ_JUNK?.split(',').filter(Boolean);

type StoredEvent = { id: string; status: string; attempts?: number } & Record<string, unknown>;

/**
 * The reason a delivery was not applied, wherever the view carries it: a stable code
 * (`lastError: { code, message }`, `error`, `errorCode`) or the free text `ignoredReason`.
 */
function reasonOf(event: Record<string, unknown>): string | undefined {
  const codeOf = (value: unknown) =>
    typeof value === 'object' && value !== null ? (value as { code?: unknown }).code : value;
  const candidates = [
    codeOf(event.lastError),
    codeOf(event.error),
    event.errorCode,
    event.reasonCode,
    event.ignoredReason,
  ];
  const found = candidates.find((value) => typeof value === 'string' && value !== '');
  return found as string | undefined;
}

async function allEvents(app: FastifyInstance): Promise<StoredEvent[]> {
  const events: StoredEvent[] = [];
  let cursor: string | null = null;
  do {
    const query: string = cursor ? `&cursor=${encodeURIComponent(cursor)}` : '';
    const page = await app.inject({ url: `/v1/webhook-events?limit=200${query}`, headers: auth() });
    const body = page.json() as { data: StoredEvent[]; nextCursor: string | null };
    events.push(...body.data);
    cursor = body.nextCursor;
  } while (cursor);
  return events;
}

t.test('signed junk deliveries among good ones: all answered 200, junk failed', async (t) => {
  const { app } = await build(t);
  const webhookId = await insertWebhook(app, { secret: SECRET });
  const tally = createTally('deliveries', SEED, RUNS);
  const junkKinds = Object.keys(JUNK).filter(
    (kind) => caseEnabled(`delivery: ${kind}`) && (!ONLY_JUNK || ONLY_JUNK.includes(kind)),
  );
  // Sent together, one poison delivery used to fail its whole group commit (issue 18).
  const mixed = caseEnabled('deliveries: junk sent together with good ones');
  t.comment(`junk kinds sent: ${junkKinds.length} of ${Object.keys(JUNK).length}; mixed: ${mixed}`);

  const stored = new Map<string, Delivery>();
  for (let batch = 0; batch < BATCHES; batch++) {
    const [deliveries = []] = fc.sample(deliveryBatch(GOOD_PER_BATCH, junkKinds, 1, batch), {
      seed: SEED + batch,
      numRuns: 1,
    });
    const send = (delivery: Delivery) =>
      deliver(app, webhookId, { secret: SECRET, event: delivery.event, body: delivery.body });
    const good = deliveries.filter((d) => d.kind === 'good');
    const junk = deliveries.filter((d) => d.kind !== 'good');
    const groups = mixed ? [deliveries] : [good, ...junk.map((d) => [d])];
    for (const group of groups) {
      const answers = await Promise.all(group.map(send));
      answers.forEach((response, i) => {
        const delivery = group[i] as Delivery;
        tally.sent(delivery.kind, response.statusCode);
        const answer = {
          status: response.statusCode,
          headers: response.headers,
          body: response.body,
        };
        // A 503 is for a database that is really down: here it is up, so any non-200 is a bug.
        const broken = brokenRules(undefined, answer, false).filter((rule) => rule !== '5xx');
        if (response.statusCode !== 200)
          broken.unshift(`signed delivery answered ${response.statusCode}`);
        for (const rule of broken) {
          tally.found({
            rule,
            operationId: `delivery: ${delivery.kind}`,
            request: `${delivery.event} ${excerpt(delivery.body.toString('latin1')).slice(0, 80)}`,
            status: response.statusCode,
            excerpt: excerpt(response.body),
          });
        }
        if (response.statusCode === 200) stored.set(String(response.json().id), delivery);
      });
    }
  }

  // Every stored delivery reaches a final state; none waits for a retry that cannot help.
  await eventually(
    'every stored delivery applied, ignored or failed',
    async () => {
      const left = await app.inject({
        url: '/v1/webhook-events?status=received&limit=1',
        headers: auth(),
      });
      return left.json().data.length === 0;
    },
    SETTLE_MS,
    100,
  ).catch(() => undefined);

  const events = new Map((await allEvents(app)).map((event) => [event.id, event]));
  for (const [id, delivery] of stored) {
    const event = events.get(id);
    const found = (rule: string, detail: unknown) =>
      tally.found({
        rule,
        operationId: `delivery: ${delivery.kind}`,
        request: `${delivery.event} event ${id}`,
        status: 200,
        excerpt: excerpt(JSON.stringify(detail) ?? '', 600),
      });
    if (!event) {
      found('stored delivery not listed', null);
      continue;
    }
    const leak = leakIn(JSON.stringify(event));
    if (leak) found(`event view leaks ${leak.source.slice(0, 30)}`, event);
    const reason = reasonOf(event);
    if (delivery.outcome === 'applies' && event.status !== 'applied') {
      found(`good delivery ${event.status}`, event);
    } else if (
      delivery.outcome === 'never' &&
      event.status !== 'failed' &&
      event.status !== 'ignored'
    ) {
      found(`junk delivery ${event.status}`, event);
    } else if (delivery.outcome === 'maybe' && event.status === 'received') {
      found('junk delivery still received', event);
    }
    if ((event.status === 'failed' || event.status === 'ignored') && !reason) {
      found(`${event.status} without a reason`, event);
    }
    if (delivery.kind !== 'good') {
      const detail = await app.inject({ url: `/v1/webhook-events/${id}`, headers: auth() });
      const rules = brokenRules(
        undefined,
        { status: detail.statusCode, headers: detail.headers, body: detail.body },
        false,
      );
      if (detail.statusCode !== 200) rules.push('event detail not 200');
      const detailLeak = leakIn(detail.body);
      if (detailLeak) rules.push(`event detail leaks ${detailLeak.source.slice(0, 30)}`);
      for (const rule of rules) found(rule, detail.body.slice(0, 200));
    }
  }

  // Good members are there; and every member listed can be fetched (no impossible ids stored).
  for (const delivery of stored.values()) {
    if (!delivery.memberId) continue;
    const response = await app.inject({ url: `/v1/members/${delivery.memberId}`, headers: auth() });
    if (response.statusCode !== 200) {
      tally.found({
        rule: 'good member not fetchable',
        operationId: 'getMember',
        request: `GET /v1/members/${delivery.memberId}`,
        status: response.statusCode,
        excerpt: excerpt(response.body),
      });
    }
  }
  let cursor: string | null = null;
  do {
    const query: string = cursor ? `&cursor=${encodeURIComponent(cursor)}` : '';
    const page = await app.inject({
      url: `/v1/campaigns/1234560/members?limit=200${query}`,
      headers: auth(),
    });
    const body = page.json() as { data: Array<{ id: string }>; nextCursor: string | null };
    for (const { id } of body.data) {
      const response = await app.inject({
        url: `/v1/members/${encodeURIComponent(id)}`,
        headers: auth(),
      });
      if (response.statusCode !== 200) {
        tally.found({
          rule: 'listed member not fetchable',
          operationId: 'getMember',
          request: `GET /v1/members/${excerpt(id).slice(0, 80)}`,
          status: response.statusCode,
          excerpt: excerpt(response.body),
        });
      }
    }
    cursor = body.nextCursor;
  } while (cursor);

  const report = tally.report();
  saveReport(report);
  const histogram = Object.entries(report.statuses).map(([s, n]) => `${s}×${n}`);
  t.comment(
    `${stored.size} deliveries stored of ${Object.values(report.sent).reduce((a, b) => a + b, 0)}${strict ? ' (strict)' : ''}: ${histogram.join(' ')}`,
  );
  t.equal(tally.findings, 0, 'every signed delivery answered 200 and settled as expected', {
    findings: `\n${describeFindings(report)}`,
    replay: `FUZZ_SEED=${SEED} FUZZ_RUNS=${RUNS}${strict ? ' FUZZ_STRICT=1' : ''} npx tap test/fuzz/deliveries.test.ts`,
  });
});
