import t, { type Test } from 'tap';
import { openDatabase } from '../../src/db/database.js';
import type { Clock } from '../../src/shared/clock.js';
import {
  askEntitlement,
  entitlementEvents,
  fold,
  folded,
  linkHostUser,
  settledAnswer,
} from '../fixtures/entitlement-fold.js';
import {
  deliver,
  eventually,
  insertWebhook,
  listWebhookEvents,
  memberPayload,
} from '../fixtures/webhooks.js';
import { auth, build, freshDatabaseUrl, realDatabaseUrl, testClock } from '../helper.js';

const SECRET = 'whsec-members-0123456789abcdef0123456789abcdef';
const MEMBER = 'c0ffee00-0000-4000-8000-000000000001';
const PATRON = '90001';
const DAY = 86_400_000;
const POLL = { ENTITLEMENT_SCHEDULE_POLL: '100ms' };

type App = Awaited<ReturnType<typeof build>>['app'];

/** A webhook to deliver to, and a host user linked to the member's Patreon user. */
async function setup(t: Test, app: App, host = 'host-1', patron = PATRON) {
  const webhookId = await insertWebhook(app, { secret: SECRET });
  await linkHostUser(app, host, patron);
  const send = async (event: string, payload: object) => {
    const response = await deliver(app, webhookId, {
      secret: SECRET,
      event,
      body: JSON.stringify(payload),
    });
    t.equal(response.statusCode, 200, `${event} stored`);
    const { id } = response.json() as { id: string };
    await eventually('the delivery to apply', async () => {
      const events = await listWebhookEvents(app);
      const mine = events.find((event) => event.id === id);
      return mine && mine.status !== 'received' ? mine : undefined;
    });
  };
  /** After each step: the fold of what the host was told is what the API answers. */
  const agrees = async (t: Test, step: string) => {
    const { answer, told } = await settledAnswer(app, host);
    t.same(told, folded(answer), step);
    return answer;
  };
  return { send, agrees };
}

const iso = (clock: Clock, offsetMs = 0) => new Date(clock().getTime() + offsetMs).toISOString();

t.test('the real per-post sequence: pledge with no charge yet, then Paid', async (t) => {
  const { app } = await build(t);
  const { send, agrees } = await setup(t, app);
  // A per-post campaign's members:pledge:create: active, no charge yet, one entitled tier.
  await send(
    'members:pledge:create',
    memberPayload({ memberId: MEMBER, userId: PATRON, lastChargeStatus: null, tierIds: ['54321'] }),
  );
  const first = await agrees(t, 'after the pledge');
  t.equal(first.entitled, true, 'Patreon lists the tier: entitled');
  t.equal(first.reason, 'entitled_tiers_listed');
  let events = await entitlementEvents(app);
  t.same(
    events.map((e) => [e.type, e.externalUserId]),
    [['entitlement.granted', 'host-1']],
    'the host is told access began, once',
  );
  const { explanation: _, ...unexplained } = await askEntitlement(app, 'host-1');
  t.same(events[0]?.entitlement, unexplained, 'the event carries the answer the API gives');

  await send(
    'members:update',
    memberPayload({
      memberId: MEMBER,
      userId: PATRON,
      lastChargeStatus: 'Paid',
      tierIds: ['54321'],
    }),
  );
  const second = await agrees(t, 'after the charge settled');
  t.equal(second.reason, 'paid');
  events = await entitlementEvents(app);
  t.equal(events.length, 1, 'the same access: no new entitlement event');

  await send(
    'members:pledge:update',
    memberPayload({ memberId: MEMBER, userId: PATRON, tierIds: ['54322'], amountCents: 1000 }),
  );
  await agrees(t, 'after an upgrade');
  t.same(
    (await entitlementEvents(app)).map((e) => e.type),
    ['entitlement.granted', 'entitlement.changed'],
  );

  const disconnected = await app.inject({
    method: 'GET',
    url: '/v1/connections?externalUserId=host-1',
    headers: auth(),
  });
  const [connection] = disconnected.json().data as { id: string }[];
  await app.inject({
    method: 'DELETE',
    url: `/v1/connections/${connection?.id}`,
    headers: auth(),
  });
  const gone = await agrees(t, 'after the host disconnected the user');
  t.equal(gone.reason, 'no_patreon_connection');
  t.same(
    (await entitlementEvents(app)).map((e) => e.type),
    ['entitlement.granted', 'entitlement.changed', 'entitlement.revoked'],
  );
});

/** A declined patron `daysIn` days into the seven-day grace period. */
async function declineInGrace(
  t: Test,
  app: App,
  clock: Clock,
  { host = 'host-1', patron = PATRON, member = MEMBER, daysIn = 2 } = {},
) {
  const { send, agrees } = await setup(t, app, host, patron);
  await send(
    'members:update',
    memberPayload({
      memberId: member,
      userId: patron,
      patronStatus: 'declined_patron',
      lastChargeStatus: 'Declined',
      lastChargeDate: iso(clock, -daysIn * DAY),
    }),
  );
  const inGrace = await agrees(t, 'in grace');
  t.equal(inGrace.status, 'grace');
  const expected = clock().getTime() + (7 - daysIn) * DAY;
  t.ok(Math.abs(Date.parse(inGrace.until ?? '') - expected) < 60_000, 'until the grace ends');
  return agrees;
}

t.test('a grace period ending is announced once, on time, by the clock alone', async (t) => {
  const clock = testClock();
  const { app } = await build(t, { clock, env: POLL });
  const agrees = await declineInGrace(t, app, clock);
  t.same(
    (await entitlementEvents(app)).map((e) => e.type),
    ['entitlement.granted'],
  );
  clock.advance(5 * DAY + 60_000);
  const revoked = await eventually('the revocation', async () => {
    const events = await entitlementEvents(app);
    return events.length === 2 ? events[1] : undefined;
  });
  t.equal(revoked?.type, 'entitlement.revoked');
  t.equal(revoked?.entitlement.reason, 'declined_grace_over');
  const answer = await agrees(t, 'after the grace period');
  t.equal(answer.entitled, false);
  await new Promise((resolve) => setTimeout(resolve, 500));
  t.equal((await entitlementEvents(app)).length, 2, 'announced once, however many polls pass');
});

t.test(
  'two instances, one schedule: each change is sent once, and after a restart too',
  { skip: !realDatabaseUrl && 'two instances need a real server (PGlite is one session)' },
  async (t) => {
    const url = await freshDatabaseUrl(t);
    const clock = testClock();
    const instance = async () =>
      (await build(t, { clock, env: POLL, database: await openDatabase({ url, poolMax: 3 }) })).app;
    const [a, b] = [await instance(), await instance()];
    const first = await declineInGrace(t, a, clock, { daysIn: 2 });
    // A second patron whose grace ends later, after both instances have stopped.
    const second = 'c0ffee00-0000-4000-8000-000000000002';
    await declineInGrace(t, a, clock, {
      host: 'host-2',
      patron: '90002',
      member: second,
      daysIn: 0,
    });

    clock.advance(5 * DAY + 60_000);
    await eventually('the first revocation', async () =>
      (await entitlementEvents(b)).length === 3 ? true : undefined,
    );
    await new Promise((resolve) => setTimeout(resolve, 600));
    t.same(
      (await entitlementEvents(a)).map((e) => [e.type, e.externalUserId]),
      [
        ['entitlement.granted', 'host-1'],
        ['entitlement.granted', 'host-2'],
        ['entitlement.revoked', 'host-1'],
      ],
      'both instances polled; one of them announced',
    );
    await first(t, 'after the first grace period');

    // The schedule is the database's: with no instance running when the second grace ends, the
    // next instance to start announces it, once.
    await a.close();
    await b.close();
    clock.advance(3 * DAY);
    const c = await instance();
    const revoked = await eventually('the second revocation', async () => {
      const events = await entitlementEvents(c);
      return events.length === 4 ? events[3] : undefined;
    });
    t.same([revoked?.type, revoked?.externalUserId], ['entitlement.revoked', 'host-2']);
    t.same(
      folded(await askEntitlement(c, 'host-2')),
      fold(await entitlementEvents(c))('host-2', '1234560'),
    );
  },
);
