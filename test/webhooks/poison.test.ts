import { randomUUID } from 'node:crypto';
import { eq, inArray } from 'drizzle-orm';
import t from 'tap';
import { members, webhookEvents } from '../../src/db/schema/index.js';
import { createEventWriter } from '../../src/webhooks/event-writer.js';
import { dedupeKey } from '../../src/webhooks/signature.js';
import {
  deliver,
  eventually,
  insertWebhook,
  listWebhookEvents,
  memberPayload,
} from '../fixtures/webhooks.js';
import { auth, build } from '../helper.js';

const SECRET = 'whsec-poison-0123456789abcdef0123456789abcdef';

/** A member id per delivery, in Patreon's shape. */
const memberIds = (n: number) => Array.from({ length: n }, () => randomUUID());

t.test(
  'one poison delivery among 100 good ones: all 101 answered 200, the 100 applied, the poison one failed with its reason',
  async (t) => {
    const poisons: [string, string | Buffer, string][] = [
      [
        'an 8 KB member id',
        JSON.stringify(memberPayload({ memberId: 'x'.repeat(8192) })),
        'INVALID_RESOURCE_ID',
      ],
      [
        'a NUL in the member id',
        JSON.stringify(memberPayload({ memberId: `${randomUUID()}\u0000` })),
        'INVALID_RESOURCE_ID',
      ],
      [
        'a NUL in the type',
        JSON.stringify({ data: { type: 'mem\u0000ber', id: randomUUID() } }),
        'WRONG_RESOURCE_TYPE',
      ],
      [
        'a post in a member trigger',
        JSON.stringify({ data: { type: 'post', id: '123' } }),
        'WRONG_RESOURCE_TYPE',
      ],
      ['a body that is not JSON', Buffer.from([0xff, 0xfe, 0x00, 0x7b]), 'BODY_NOT_JSON'],
      [
        'a user id that is not numeric',
        JSON.stringify(memberPayload({ memberId: randomUUID(), userId: 'u-1' })),
        'INVALID_RESOURCE_ID',
      ],
    ];
    for (const [what, poison, code] of poisons) {
      await t.test(what, async (t) => {
        const { app } = await build(t);
        const webhookId = await insertWebhook(app, { secret: SECRET });
        const good = memberIds(100);
        const bodies = good.map((memberId) => JSON.stringify(memberPayload({ memberId })));
        const at = 37; // the poison goes out in the middle of the burst
        const all = [...bodies.slice(0, at), poison, ...bodies.slice(at)];
        const answers = await Promise.all(
          all.map((body) =>
            deliver(app, webhookId, { secret: SECRET, body, event: 'members:pledge:create' }),
          ),
        );
        t.same(
          answers.map((answer) => answer.statusCode),
          all.map(() => 200),
          'every delivery answered 200',
        );
        const poisonId = answers[at]?.json().id as string;
        const events = await eventually('the good deliveries to apply', async () => {
          const listed = await listWebhookEvents(app);
          return listed.length === 101 && listed.every((event) => event.status !== 'received')
            ? listed
            : undefined;
        });
        const failed = events.filter((event) => event.status === 'failed');
        t.same(
          failed.map((event) => event.id),
          [poisonId],
          'only the poison one failed',
        );
        t.equal(failed[0]?.lastError?.code, code);
        t.ok(failed[0]?.lastError?.message, 'with a sentence');
        const stored = await app.database.db
          .select({ id: members.id })
          .from(members)
          .where(inArray(members.id, good));
        t.equal(stored.length, 100, 'the 100 good members are stored');
        const [row] = await app.database.db
          .select({ body: webhookEvents.body })
          .from(webhookEvents)
          .where(eq(webhookEvents.id, Number(poisonId)));
        t.ok(row?.body.equals(Buffer.from(poison)), 'the poison is stored as received');

        const again = await deliver(app, webhookId, {
          secret: SECRET,
          body: poison,
          event: 'members:pledge:create',
        });
        t.equal(again.statusCode, 200, 'its redelivery is acknowledged');
        t.same(again.json(), { id: poisonId, duplicate: true });
      });
    }
  },
);

t.test(
  'a row the database refuses is written alone and kept as its bytes; the rest of its batch is stored',
  async (t) => {
    const { app } = await build(t);
    const webhookId = await insertWebhook(app, { secret: SECRET });
    // Past the ingest checks, as a future reader of another resource might be: the writer itself
    // must isolate a row PostgreSQL refuses (a NUL in text) from the others of its group commit.
    const writer = createEventWriter(app.database.pool, {
      maxBatch: 50,
      maxInFlight: 1,
      onStored: () => {},
      prepared: app.database.kind === 'postgres',
    });
    const incoming = memberIds(20).map((id, n) => {
      const body = Buffer.from(JSON.stringify({ data: { type: 'member', id }, n }));
      return {
        webhookId,
        event: 'members:update',
        dedupeKey: dedupeKey(webhookId, 'members:update', body),
        body,
        resourceType: 'member',
        resourceId: n === 7 ? `${id}\u0000` : id,
        refusal: null,
      };
    });
    const stored = await Promise.all(incoming.map((event) => writer.store(event)));
    t.equal(new Set(stored.map((s) => s.id)).size, 20, 'all 20 stored, each once');
    t.same(
      stored.map((s) => s.refusal?.code ?? null),
      incoming.map((_, n) => (n === 7 ? 'UNSTORABLE_RESOURCE' : null)),
    );
    const rows = await app.database.db
      .select({
        status: webhookEvents.status,
        resourceId: webhookEvents.resourceId,
        code: webhookEvents.errorCode,
      })
      .from(webhookEvents)
      .where(eq(webhookEvents.id, stored[7]?.id as number));
    t.same(rows, [{ status: 'failed', resourceId: null, code: 'UNSTORABLE_RESOURCE' }]);
  },
);

t.test(
  'a delivery nested 10,000 deep is stored, failed, and shown as the text received',
  async (t) => {
    const { app } = await build(t);
    const webhookId = await insertWebhook(app, { secret: SECRET });
    const body = `${'['.repeat(10_000)}${']'.repeat(10_000)}`;
    const answer = await deliver(app, webhookId, { secret: SECRET, body });
    t.equal(answer.statusCode, 200);
    const id = answer.json().id as string;
    await eventually('the delivery to fail', async () =>
      (await listWebhookEvents(app)).find((event) => event.id === id && event.status === 'failed'),
    );
    const detail = await app.inject({ url: `/v1/webhook-events/${id}`, headers: auth() });
    t.equal(detail.statusCode, 200);
    t.equal(detail.json().payload, body);
  },
);
