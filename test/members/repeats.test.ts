import { eq } from 'drizzle-orm';
import t from 'tap';
import { members, memberTiers, patreonWebhooks, webhookEvents } from '../../src/db/schema/index.js';
import {
  askEntitlement,
  entitlementEvents,
  fold,
  folded,
  linkHostUser,
} from '../fixtures/entitlement-fold.js';
import { connectCreator, startGateway } from '../fixtures/gateway.js';
import {
  deliver,
  eventually,
  insertWebhook,
  listWebhookEvents,
  memberPayload,
  registeredWebhook,
} from '../fixtures/webhooks.js';
import { build } from '../helper.js';

const SECRET = 'whsec-repeats-0123456789abcdef0123456789abcdef';
const MEMBER = 'c0ffee00-0000-4000-8000-0000000000aa';

t.test('X → Y → X is applied three times and ends on X; a redelivery is stored once', async (t) => {
  const { app } = await build(t);
  const webhookId = await insertWebhook(app, { secret: SECRET });
  await linkHostUser(app, 'host-x', '90001');
  const x = JSON.stringify(memberPayload({ memberId: MEMBER, tierIds: ['54321'] }));
  const y = JSON.stringify(
    memberPayload({ memberId: MEMBER, tierIds: ['54322'], amountCents: 900 }),
  );
  const send = async (body: string) => {
    const response = await deliver(app, webhookId, {
      secret: SECRET,
      event: 'members:update',
      body,
    });
    t.equal(response.statusCode, 200);
    return response.json() as { id: string; duplicate: boolean };
  };
  const applied = (id: string) =>
    eventually('the delivery to apply', async () => {
      const mine = (await listWebhookEvents(app)).find((event) => event.id === id);
      return mine && mine.status !== 'received' ? mine : undefined;
    });
  const tiers = async () =>
    (
      await app.database.db
        .select({ id: memberTiers.tierId })
        .from(memberTiers)
        .where(eq(memberTiers.memberId, MEMBER))
    ).map((row) => row.id);

  const receipts: { id: string; duplicate: boolean }[] = [];
  for (const [body, expected] of [
    [x, ['54321']],
    [y, ['54322']],
    [x, ['54321']],
  ] as const) {
    const receipt = await send(body);
    t.equal(receipt.duplicate, false, 'stored: it follows a different delivery of the member');
    t.equal((await applied(receipt.id)).status, 'applied');
    t.same(await tiers(), expected);
    const answer = await askEntitlement(app, 'host-x');
    t.same(fold(await entitlementEvents(app))('host-x', '1234560'), folded(answer));
    receipts.push(receipt);
  }
  t.same(
    (await entitlementEvents(app)).map((e) => e.entitlement.tiers.map((tier) => tier.id)),
    [['54321'], ['54322'], ['54321']],
    'granted on X, changed to Y, changed back to X',
  );

  // Patreon retrying the last delivery (same bytes as the latest of this member): acknowledged,
  // counted, not stored or applied again.
  const again = await send(x);
  t.same(again, { id: receipts[2]?.id, duplicate: true });
  const rows = await app.database.db
    .select({ id: webhookEvents.id, duplicates: webhookEvents.duplicateCount })
    .from(webhookEvents)
    .where(eq(webhookEvents.resourceId, MEMBER));
  t.equal(rows.length, 3, 'three deliveries stored');
  t.equal(rows.find((row) => String(row.id) === receipts[2]?.id)?.duplicates, 1);
  t.equal((await entitlementEvents(app)).length, 3, 'no event for the redelivery');

  // Arriving together (one group commit): copies of the same delivery fold into it, a change
  // back does not.
  const together = await Promise.all([send(y), send(y), send(x), send(x)]);
  t.same(
    together.map((receipt) => receipt.duplicate),
    [false, true, false, true],
  );
  t.equal(together[1]?.id, together[0]?.id);
  t.equal(together[3]?.id, together[2]?.id);
});

t.test('out of order without a date: Patreon is asked, and what it says is applied', async (t) => {
  const gateway = await startGateway(t, { members: 10 });
  await connectCreator(gateway);
  const webhook = await registeredWebhook(gateway.app);
  const [sealed] = await gateway.database.db
    .select({ secret: patreonWebhooks.secretCiphertext })
    .from(patreonWebhooks)
    .where(eq(patreonWebhooks.id, webhook.id));
  const secret = gateway.app.cipher.open(sealed?.secret as string, webhook.id);
  const [member] = await gateway.database.db
    .select()
    .from(members)
    .where(eq(members.userId, '5000000'));
  const memberId = member?.id as string;
  // What Patreon holds: the tiers the sync just brought.
  const synced = await gateway.database.db
    .select({ id: memberTiers.tierId })
    .from(memberTiers)
    .where(eq(memberTiers.memberId, memberId));
  const patreonTier = synced[0]?.id as string;
  t.equal(synced.length, 1, `Patreon holds tier ${patreonTier}`);
  const other = patreonTier === '54321' ? '54322' : '54321';
  const dated = {
    memberId,
    userId: '5000000',
    lastChargeDate: member?.lastChargeDate?.toISOString() ?? null,
    lastChargeStatus: member?.lastChargeStatus ?? null,
  };
  // Two deliveries with the same charge date, then the first again: a change back, or Patreon
  // retrying the first late? Only Patreon knows, and it holds `patreonTier`.
  const older = JSON.stringify(memberPayload({ ...dated, tierIds: [other] }));
  const newer = JSON.stringify(memberPayload({ ...dated, tierIds: [patreonTier] }));
  const calls = async () =>
    Object.entries((await gateway.sandbox.call('/_control/counters')).json.apiCalls as object)
      .filter(([route]) => route.startsWith('GET /api/oauth2/v2/members/'))
      .reduce((sum, [, n]) => sum + (n as number), 0);
  const before = await calls();
  for (const body of [older, newer, older]) {
    const response = await deliver(gateway.app, webhook.id, {
      secret,
      event: 'members:update',
      body,
    });
    t.equal(response.statusCode, 200);
    const { id } = response.json() as { id: string };
    await eventually('applied', async () => {
      const mine = (await listWebhookEvents(gateway.app)).find((event) => event.id === id);
      return mine && mine.status !== 'received' ? mine : undefined;
    });
  }
  const tiers = await gateway.database.db
    .select({ id: memberTiers.tierId })
    .from(memberTiers)
    .where(eq(memberTiers.memberId, memberId));
  t.same(
    tiers.map((row) => row.id),
    [patreonTier],
    'the member holds what Patreon says, not the late copy',
  );
  t.equal((await calls()) - before, 1, 'one member read at Patreon, for the ambiguous delivery');
});
