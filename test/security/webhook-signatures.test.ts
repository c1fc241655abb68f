import { eq } from 'drizzle-orm';
import t from 'tap';
import { webhookEvents } from '../../src/db/schema/index.js';
import { deliver, insertWebhook, memberPayload, patreonSignature } from '../fixtures/webhooks.js';
import { build } from '../helper.js';

const SECRET_A = 'webhook-a-secret-0123456789abcdef0123456789';
const SECRET_B = 'webhook-b-secret-0123456789abcdef0123456789';

t.test('a delivery signed for one webhook is refused by every other', async (t) => {
  const { app } = await build(t);
  const webhookA = await insertWebhook(app, { secret: SECRET_A, campaignId: '1234560' });
  const webhookB = await insertWebhook(app, { secret: SECRET_B, campaignId: '7654320' });
  const body = JSON.stringify(
    memberPayload({ memberId: 'a1a1a1a1-0000-4000-8000-000000000001', campaignId: '1234560' }),
  );
  const signedForA = patreonSignature(SECRET_A, body);
  const storedFor = async (webhookId: string) =>
    (
      await app.database.db
        .select({ id: webhookEvents.id })
        .from(webhookEvents)
        .where(eq(webhookEvents.webhookId, webhookId))
    ).length;

  const replayed = await deliver(app, webhookB, {
    secret: SECRET_A,
    body,
    signature: signedForA,
  });
  t.equal(replayed.statusCode, 401, 'A’s signature does not open B');
  t.equal(replayed.headers['content-type'], 'application/problem+json; charset=utf-8');
  t.equal(replayed.json().code, 'WEBHOOK_SIGNATURE_INVALID');
  t.equal(await storedFor(webhookB), 0, 'nothing stored for B');

  for (const [name, webhookId] of [
    ['A', webhookA],
    ['B', webhookB],
  ] as const) {
    const unsigned = await deliver(app, webhookId, { secret: '', body, signature: null });
    t.equal(unsigned.statusCode, 401, `unsigned body to ${name}`);
    t.equal(unsigned.json().code, 'WEBHOOK_SIGNATURE_INVALID');
    const empty = await deliver(app, webhookId, { secret: '', body: '', signature: null });
    t.equal(empty.statusCode, 401, `unsigned empty body to ${name}`);
    const signedEmpty = await deliver(app, webhookId, { secret: '', body: '' });
    t.equal(signedEmpty.statusCode, 401, `an empty body signed with an empty key to ${name}`);
  }

  for (const secret of [SECRET_A, SECRET_B]) {
    const capitals = await deliver(app, webhookB.toUpperCase(), { secret, body });
    t.equal(capitals.statusCode, 404, 'B spelt in capitals is no webhook (not a 5xx)');
  }
  const unknown = await deliver(app, '3d8e0c55-1b7a-4f2e-8c9d-6a5b4c3d2e1f', {
    secret: SECRET_A,
    body,
  });
  t.equal(unknown.statusCode, 404, 'an unknown webhook id is 404, whatever the signature');
  t.equal(unknown.json().code, 'WEBHOOK_NOT_FOUND');
  t.equal(await storedFor(webhookA), 0, 'nothing stored for A either');

  const genuine = await deliver(app, webhookA, { secret: SECRET_A, body });
  t.equal(genuine.statusCode, 200, 'the same bytes are accepted where they were signed');
  const again = await deliver(app, webhookA, { secret: SECRET_A, body });
  t.equal(again.statusCode, 200);
  t.equal(again.json().duplicate, true, 'a replay to the same webhook is a duplicate');
  t.equal(await storedFor(webhookA), 1, 'stored once');
  t.equal(await storedFor(webhookB), 0);
});
