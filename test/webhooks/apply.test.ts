import { eq, sql } from 'drizzle-orm';
import t, { type Test } from 'tap';
import { members, memberTiers, outboundEvents } from '../../src/db/schema/index.js';
import {
  deliver,
  eventually,
  insertWebhook,
  listWebhookEvents,
  memberPayload,
} from '../fixtures/webhooks.js';
import { auth, build } from '../helper.js';

const SECRET = 'whsec-apply-0123456789abcdef0123456789abcdef';
const MEMBER = 'a1b2c3d4-0000-4000-8000-00000000000a';

async function setup(t: Test) {
  const { app } = await build(t);
  const webhookId = await insertWebhook(app, { secret: SECRET });
  const send = async (event: string, payload: object) => {
    const response = await deliver(app, webhookId, {
      secret: SECRET,
      event,
      body: JSON.stringify(payload),
    });
    if (response.statusCode !== 200) throw new Error(`delivery: ${response.body}`);
    return response.json().id as string;
  };
  const settled = (ids: string[]) =>
    eventually('the events to apply', async () => {
      const events = await listWebhookEvents(app);
      const mine = events.filter((event) => ids.includes(event.id));
      return mine.length === ids.length && mine.every((e) => e.status !== 'received')
        ? mine
        : undefined;
    });
  const member = async (id = MEMBER) =>
    (await app.database.db.select().from(members).where(eq(members.id, id)))[0];
  return { app, webhookId, send, settled, member };
}

t.test('out-of-order deliveries for one member end in the latest state', async (t) => {
  const { app, send, settled, member } = await setup(t);
  const newer = memberPayload({
    memberId: MEMBER,
    lastChargeDate: '2026-11-01T08:00:00.000+00:00',
    lastChargeStatus: 'Paid',
    amountCents: 1000,
    tierIds: ['54322'],
  });
  const older = memberPayload({
    memberId: MEMBER,
    lastChargeDate: '2026-10-01T08:00:00.000+00:00',
    lastChargeStatus: 'Declined',
    patronStatus: 'declined_patron',
    amountCents: 500,
    tierIds: ['54321'],
  });
  const ids = [await send('members:pledge:update', newer)];
  await settled(ids);
  ids.push(await send('members:update', older));
  const events = await settled(ids);
  const row = await member();
  t.equal(row?.lastChargeStatus, 'Paid', 'the older news did not win');
  t.equal(row?.currentlyEntitledAmountCents, 1000);
  const tiers = await app.database.db
    .select({ tierId: memberTiers.tierId })
    .from(memberTiers)
    .where(eq(memberTiers.memberId, MEMBER));
  t.same(
    tiers.map((r) => r.tierId),
    ['54322'],
  );
  const ignored = events.find((e) => e.id === ids[1]);
  t.equal(ignored?.status, 'ignored');
  t.match(ignored?.ignoredReason, /older/);
});

t.test('same-dated deliveries apply in arrival order and derive the changes', async (t) => {
  const { app, send, settled, member } = await setup(t);
  const ids = [
    await send('members:create', memberPayload({ memberId: MEMBER, amountCents: 500 })),
    await send(
      'members:pledge:update',
      memberPayload({ memberId: MEMBER, amountCents: 1000, tierIds: ['54322'] }),
    ),
    await send(
      'members:pledge:update',
      memberPayload({ memberId: MEMBER, amountCents: 300, tierIds: ['54320'] }),
    ),
    await send(
      'members:pledge:delete',
      memberPayload({ memberId: MEMBER, patronStatus: 'former_patron', tierIds: [] }),
    ),
  ];
  const events = await settled(ids);
  const byId = new Map(events.map((e) => [e.id, e.changes]));
  t.same(
    ids.map((id) => byId.get(id)),
    [['member_created', 'new_patron'], ['upgrade'], ['downgrade'], ['cancelled']],
  );
  t.equal((await member())?.patronStatus, 'former_patron');
  const types = (
    await app.database.db
      .select({ type: outboundEvents.type })
      .from(outboundEvents)
      .orderBy(outboundEvents.createdAt)
  ).map((row) => row.type);
  // No `entitlement.*`: no host user connected this member's Patreon account, so no answer of
  // GET /v1/entitlements changed (test/members/ covers the linked case).
  t.same(types.sort(), [
    'member.created',
    'pledge.created',
    'pledge.deleted',
    'pledge.updated',
    'pledge.updated',
  ]);
});

t.test(
  'deliveries for deleted members: a known one is tombstoned, an unknown one too',
  async (t) => {
    const { send, settled, member } = await setup(t);
    const ids = [await send('members:create', memberPayload({ memberId: MEMBER }))];
    await settled(ids);
    ids.push(await send('members:delete', memberPayload({ memberId: MEMBER })));
    const stranger = 'a1b2c3d4-0000-4000-8000-0000000000ff';
    ids.push(await send('members:delete', memberPayload({ memberId: stranger })));
    const events = await settled(ids);
    t.ok(
      events.every((e) => e.status === 'applied'),
      'applied, not failed',
    );
    t.ok((await member())?.deletedAt, 'tombstoned, not dropped');
    t.ok((await member(stranger))?.deletedAt, 'a member we never saw is stored as deleted');
    t.same(events.find((e) => e.id === ids[1])?.changes, ['member_deleted', 'cancelled']);
    t.same(events.find((e) => e.id === ids[2])?.changes, [], 'no host event for a stranger');
  },
);

t.test(
  'applying an event again changes nothing; a broken event fails and can be retried',
  async (t) => {
    const { app, send, settled, member } = await setup(t);
    const [id] = [await send('members:create', memberPayload({ memberId: MEMBER }))];
    await settled([id as string]);
    const version = async () =>
      (
        await app.database.db.execute<{ v: string }>(
          sql`select xmin::text as v from members where id = ${MEMBER}`,
        )
      ).rows[0]?.v;
    const before = {
      version: await version(),
      events: await app.database.db.$count(outboundEvents),
    };
    const retried = await app.inject({
      method: 'POST',
      url: `/v1/webhook-events/${id}/retry`,
      headers: auth(),
    });
    t.equal(retried.statusCode, 202);
    await settled([id as string]);
    t.equal(await version(), before.version, 'the member row was not rewritten');
    t.equal(await app.database.db.$count(outboundEvents), before.events, 'no new host events');
    t.ok(await member());

    const broken = await send('members:update', { data: { type: 'member' } });
    const [failed] = await settled([broken]);
    t.equal(failed?.status, 'failed');
    t.match(failed?.lastError, { code: 'INVALID_BODY', message: /id/ });
    const list = await app.inject({ url: '/v1/webhook-events?status=failed', headers: auth() });
    t.same(
      list.json().data.map((e: { id: string }) => e.id),
      [broken],
    );
    const detail = await app.inject({ url: `/v1/webhook-events/${broken}`, headers: auth() });
    t.same(detail.json().payload, { data: { type: 'member' } });
    const missing = await app.inject({
      method: 'POST',
      url: '/v1/webhook-events/999999/retry',
      headers: auth(),
    });
    t.equal(missing.statusCode, 404);
  },
);
