import { and, eq } from 'drizzle-orm';
import t from 'tap';
import { members, memberTiers, pledgeEvents } from '../../src/db/schema/index.js';
import { connectCreator, connectPatron, startGateway } from '../fixtures/gateway.js';
import { eventually, registeredWebhook } from '../fixtures/webhooks.js';
import { auth } from '../helper.js';

/** Sandbox patron `i` is user 5000000 + i; members cycle through 16 archetypes (sandbox README). */
const patron = (i: number) => String(5_000_000 + i);

t.test('entitlements over the sandbox’s patron kinds, with their explanations', async (t) => {
  const gateway = await startGateway(t, { members: 40 });
  await connectCreator(gateway);

  const ask = async (externalUserId: string, campaignId = '1234560') => {
    const response = await gateway.app.inject({
      url: `/v1/entitlements?externalUserId=${externalUserId}&campaignId=${campaignId}&explain=true`,
      headers: auth(),
    });
    t.equal(response.statusCode, 200, response.body);
    return response.json();
  };
  const kinds: [number, string, boolean, string][] = [
    [0, 'monthly, paid', true, 'paid'],
    [1, 'annual, paid', true, 'paid'],
    [2, 'free trial', true, 'free_trial'],
    [3, 'gifted', true, 'gifted'],
    [4, 'pending charge', true, 'charge_pending'],
    [
      5,
      'declined at the start of the month (outside the 7-day grace)',
      false,
      'declined_grace_over',
    ],
    [6, 'former patron', false, 'former_patron'],
    [7, 'follower', false, 'follower'],
    [11, 'active, partially refunded charge', false, 'charge_not_settled'],
  ];
  for (const [i] of kinds) {
    await connectPatron(gateway, { externalUserId: `user-${i}`, userId: patron(i) });
  }
  for (const [i, name, entitled, reason] of kinds) {
    const answer = await ask(`user-${i}`);
    t.equal(answer.entitled, entitled, `${name}: entitled ${entitled}`);
    t.equal(answer.reason, reason, `${name}: ${reason}`);
    t.equal(answer.member?.patreonUserId, patron(i), `${name}: matched by Patreon user id`);
    t.ok(answer.explanation.length >= 3, `${name}: explained`);
    if (entitled) {
      t.ok(answer.tiers.length > 0, `${name}: has its tier`);
      t.ok(answer.benefits.length > 0, `${name}: and its benefits`);
    } else {
      t.same(answer.tiers, [], `${name}: no tiers`);
    }
  }
  // Asked all at once, the lookups share statements (see createMembershipLookup): each answer is
  // still that user's own, and a stranger in the same batch does not disturb the others.
  const together = [
    ...kinds.map(([i]) => `user-${i}`),
    'nobody',
    ...kinds.map(([i]) => `user-${i}`),
  ];
  const answers = await Promise.all(together.map((user) => ask(user)));
  for (const [index, user] of together.entries()) {
    const kind = kinds.find(([i]) => `user-${i}` === user);
    t.same(
      { entitled: answers[index].entitled, reason: answers[index].reason },
      kind
        ? { entitled: kind[2], reason: kind[3] }
        : { entitled: false, reason: 'no_patreon_connection' },
      `${user}, asked with ${together.length - 1} others`,
    );
  }

  const annual = await ask('user-1');
  t.equal(annual.member.pledgeCadence, 12);
  t.equal(
    annual.amount.monthlyEquivalentCents,
    annual.amount.cents,
    'charged 12× the tier, per month the tier',
  );

  // Declined today: inside the grace period.
  const [declinable] = await gateway.database.db
    .select({ id: members.id })
    .from(members)
    .where(eq(members.userId, patron(0)));
  await registeredWebhook(gateway.app);
  await gateway.sandbox.call(`/_control/members/${declinable?.id}/decline`, { method: 'POST' });
  const inGrace = await eventually('the declined charge to arrive', async () => {
    const answer = await ask('user-0');
    return answer.reason === 'declined_in_grace' ? answer : undefined;
  });
  t.equal(inGrace.entitled, true);
  t.equal(inGrace.status, 'grace');
  t.ok(new Date(inGrace.until) > gateway.clock(), 'until a week after the declined charge');

  // A tier Patreon deleted: the entitled tiers came back empty; the last paid charge was for it.
  const [paid] = await gateway.database.db
    .select({ id: members.id })
    .from(members)
    .where(eq(members.userId, patron(4)));
  const memberId = paid?.id as string;
  await gateway.database.db.delete(memberTiers).where(eq(memberTiers.memberId, memberId));
  await gateway.database.db
    .update(members)
    .set({ lastChargeStatus: 'Paid' })
    .where(eq(members.id, memberId));
  await gateway.database.db.delete(pledgeEvents).where(eq(pledgeEvents.memberId, memberId));
  await gateway.database.db.insert(pledgeEvents).values({
    id: 'subscription:deleted-tier-test',
    campaignId: '1234560',
    memberId,
    type: 'subscription',
    date: new Date(gateway.clock().getTime() - 10 * 86_400_000),
    amountCents: 1500,
    currency: 'USD',
    paymentStatus: 'Paid',
    tierId: '54324',
  });
  // Written behind the service's back: on real PostgreSQL a cached answer is dropped when the
  // commit's notification arrives, a moment later.
  const honoured = await eventually('the deleted tier’s charge to count', async () => {
    const answer = await ask('user-4');
    return answer.tiers[0]?.via === 'pledge_history' ? answer : undefined;
  });
  t.equal(honoured.entitled, true);
  t.match(honoured.tiers, [{ id: '54324', deleted: true, via: 'pledge_history' }]);
  t.match(honoured.explanation.join('\n'), /deleted at Patreon: honoured until/);

  // Two campaigns: user 2 (i % 5 === 2) is also a patron of campaign 2345670.
  const other = await ask('user-2', '2345670');
  t.equal(other.member?.patreonUserId, patron(2));
  t.equal(other.source, 'patron_connection', 'known from the patron’s own connection');
  const ownCampaignTiers = new Set(['54321', '54322', '54323']);
  t.ok(
    other.tiers.every((tier: { id: string }) => !ownCampaignTiers.has(tier.id)),
    'no tier of the other campaign leaks in',
  );
  const notThere = await ask('user-0', '2345670');
  t.equal(notThere.entitled, false);
  t.equal(notThere.reason, 'not_a_member', 'a membership of another campaign does not count');

  const stranger = await ask('nobody');
  t.same(
    { entitled: stranger.entitled, reason: stranger.reason },
    { entitled: false, reason: 'no_patreon_connection' },
  );
  const unknownCampaign = await gateway.app.inject({
    url: '/v1/entitlements?externalUserId=user-0&campaignId=999',
    headers: auth(),
  });
  t.equal(unknownCampaign.statusCode, 404);
  t.equal(unknownCampaign.headers['content-type'], 'application/problem+json; charset=utf-8');

  // The yes/no check.
  const check = async (body: object) =>
    (
      await gateway.app.inject({
        method: 'POST',
        url: '/v1/entitlements/check',
        headers: auth(),
        payload: { externalUserId: 'user-1', campaignId: '1234560', ...body },
      })
    ).json();
  const tierOf1 = annual.tiers[0].id as string;
  t.same(await check({ tierId: tierOf1 }), { entitled: true, reason: 'tier_entitled' });
  t.same(await check({}), { entitled: true, reason: 'paid' });
  t.same(await check({ minAmountCents: 1_000_000 }), {
    entitled: false,
    reason: 'amount_below_minimum',
  });
  t.same(await check({ benefitId: annual.benefits[0].id }), {
    entitled: true,
    reason: 'benefit_entitled',
  });
  t.same(
    await check({ externalUserId: 'user-7' }),
    { entitled: false, reason: 'follower' },
    'a follower is never entitled',
  );
  const both = await gateway.app.inject({
    method: 'POST',
    url: '/v1/entitlements/check',
    headers: auth(),
    payload: {
      externalUserId: 'user-1',
      campaignId: '1234560',
      tierId: '54321',
      minAmountCents: 1,
    },
  });
  t.equal(both.statusCode, 400, 'one criterion at a time');
  const [unchanged] = await gateway.database.db
    .select({ status: members.patronStatus })
    .from(members)
    .where(and(eq(members.userId, patron(7)), eq(members.campaignId, '1234560')));
  t.equal(unchanged?.status, null, 'asking changes nothing');
});
