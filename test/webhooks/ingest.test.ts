import { eq, sql } from 'drizzle-orm';
import t, { type Test } from 'tap';
import { patreonWebhooks, webhookEvents } from '../../src/db/schema/index.js';
import { deliver, insertWebhook, memberPayload, patreonSignature } from '../fixtures/webhooks.js';
import { build, capturingLogger } from '../helper.js';

const SECRET = 'whsec-test-0123456789abcdef0123456789abcdef';

async function setup(t: Test) {
  const logs = capturingLogger('debug');
  const { app } = await build(t, { logger: logs.logger });
  const webhookId = await insertWebhook(app, { secret: SECRET });
  const stored = async () =>
    app.database.db
      .select({ id: webhookEvents.id, body: webhookEvents.body, dup: webhookEvents.duplicateCount })
      .from(webhookEvents);
  return { app, webhookId, stored, logs };
}

// Patreon's bytes: key order, spacing and escapes a re-serialiser would not reproduce.
const body = Buffer.from(
  JSON.stringify(
    memberPayload({ memberId: 'c0ffee00-0000-4000-8000-000000000001' }),
    null,
    1,
  ).replace('Pat Ron', 'Pat \\u0052on'),
);

t.test(
  'a good signature over the exact bytes is stored, byte for byte, before the 200',
  async (t) => {
    const { app, webhookId, stored } = await setup(t);
    const response = await deliver(app, webhookId, { secret: SECRET, body });
    t.equal(response.statusCode, 200, response.body);
    t.same(Object.keys(response.json()).sort(), ['duplicate', 'id']);
    t.equal(response.json().duplicate, false);
    t.match(response.json().id, /^[1-9][0-9]*$/, 'our id, as a string of digits');
    t.equal(response.headers['content-type'], 'application/json; charset=utf-8');
    const rows = await stored();
    t.equal(rows.length, 1);
    t.ok(rows[0]?.body.equals(body), 'the raw bytes, not a re-serialisation');
    const [row] = await app.database.db.select().from(webhookEvents);
    t.equal(row?.event, 'members:update');
    t.equal(row?.resourceType, 'member');
    t.equal(row?.resourceId, 'c0ffee00-0000-4000-8000-000000000001');
  },
);

t.test('bad signatures are 401 problems and store nothing', async (t) => {
  const { app, webhookId, stored, logs } = await setup(t);
  const flipped = Buffer.from(body);
  flipped[20] = (flipped[20] as number) ^ 1;
  const reserialised = JSON.stringify(JSON.parse(body.toString()));
  const cases: [string, Parameters<typeof deliver>[2]][] = [
    ['the wrong secret', { secret: 'not-the-secret', body }],
    [
      'one byte of the body changed',
      { secret: SECRET, body: flipped, signature: patreonSignature(SECRET, body) },
    ],
    ['no signature header', { secret: SECRET, body, signature: null }],
    ['an empty signature', { secret: SECRET, body, signature: '' }],
    ['a signature that is not hex', { secret: SECRET, body, signature: 'z'.repeat(32) }],
    ['a SHA-256 signature', { secret: SECRET, body, signature: 'a'.repeat(64) }],
    [
      'the signature of a re-serialised body',
      { secret: SECRET, body, signature: patreonSignature(SECRET, reserialised) },
    ],
  ];
  t.not(reserialised, body.toString(), 'the re-serialised body differs from the bytes sent');
  for (const [name, input] of cases) {
    const response = await deliver(app, webhookId, input);
    t.equal(response.statusCode, 401, name);
    t.equal(response.headers['content-type'], 'application/problem+json; charset=utf-8', name);
    t.equal(response.json().code, 'WEBHOOK_SIGNATURE_INVALID', name);
  }
  t.equal((await stored()).length, 0, 'nothing stored');
  const secretsSeen = logs.lines.filter(
    (line) => line.includes(SECRET) || line.includes(patreonSignature(SECRET, body)),
  );
  t.same(secretsSeen, [], 'neither the secret nor a signature is logged');
});

t.test('a redelivery of the same bytes is acknowledged and stored once', async (t) => {
  const { app, webhookId, stored } = await setup(t);
  const first = await deliver(app, webhookId, { secret: SECRET, body });
  const again = await Promise.all(
    [1, 2, 3].map(() => deliver(app, webhookId, { secret: SECRET, body })),
  );
  t.equal(first.json().duplicate, false);
  for (const response of again) {
    t.equal(response.statusCode, 200);
    t.same(response.json(), { id: first.json().id, duplicate: true });
  }
  const rows = await stored();
  t.equal(rows.length, 1);
  t.equal(rows[0]?.dup, 3, 'duplicates are counted');
  // The same bytes under another trigger are another event.
  const other = await deliver(app, webhookId, {
    secret: SECRET,
    body,
    event: 'members:pledge:update',
  });
  t.equal(other.json().duplicate, false);
  t.equal((await stored()).length, 2);
});

t.test('unknown webhooks, unknown events and oversized bodies are refused', async (t) => {
  const { app, webhookId, stored } = await setup(t);
  const unknown = await deliver(app, '6f1c2a0e-4b7e-4a57-9d1e-2f0b1f3f4c11', {
    secret: SECRET,
    body,
  });
  t.equal(unknown.statusCode, 404);
  t.equal(unknown.json().code, 'WEBHOOK_NOT_FOUND');
  t.equal((await deliver(app, 'not-a-uuid', { secret: SECRET, body })).statusCode, 404);
  // Past the path parameter's bound: refused by the route's schema, as a validation problem.
  const long = await deliver(app, 'a'.repeat(65), { secret: SECRET, body });
  t.equal(long.statusCode, 400);
  t.equal(long.headers['content-type'], 'application/problem+json; charset=utf-8');
  t.equal(long.json().code, 'VALIDATION_FAILED');
  t.equal((await deliver(app, 'a'.repeat(64), { secret: SECRET, body })).statusCode, 404);
  t.equal(
    (await deliver(app, '..%2F..%2Fv1%2Fconnections', { secret: SECRET, body })).statusCode,
    404,
  );

  for (const event of ['pledges:create', '', 'members:update ']) {
    const response = await deliver(app, webhookId, { secret: SECRET, body, event });
    t.equal(response.statusCode, 400, `event ${JSON.stringify(event)}`);
    t.equal(response.json().code, 'WEBHOOK_EVENT_UNKNOWN');
  }
  const missing = await app.inject({
    method: 'POST',
    url: `/webhooks/patreon/${webhookId}`,
    headers: {
      'x-patreon-signature': patreonSignature(SECRET, body),
      'content-type': 'application/json',
    },
    payload: body,
  });
  t.equal(missing.statusCode, 400, 'no X-Patreon-Event');

  const huge = Buffer.alloc(2 * 1024 * 1024, 0x20);
  const tooLarge = await deliver(app, webhookId, { secret: SECRET, body: huge });
  t.equal(tooLarge.statusCode, 413);
  t.equal(tooLarge.headers['content-type'], 'application/problem+json; charset=utf-8');

  // Any content type is taken as bytes: the signature decides, not the header.
  const plain = await app.inject({
    method: 'POST',
    url: `/webhooks/patreon/${webhookId}`,
    headers: {
      'content-type': 'text/plain',
      'x-patreon-event': 'members:create',
      'x-patreon-signature': patreonSignature(SECRET, body),
    },
    payload: body,
  });
  t.equal(plain.statusCode, 200);

  const retired = await insertWebhook(app, { secret: SECRET });
  await app.database.db
    .update(patreonWebhooks)
    .set({ deletedAt: sql`now()` })
    .where(eq(patreonWebhooks.id, retired));
  const gone = await deliver(app, retired, { secret: SECRET, body, event: 'members:delete' });
  t.equal(gone.statusCode, 404, 'a deleted webhook takes nothing');
  t.equal((await stored()).length, 1, 'only the accepted delivery is stored');
});
