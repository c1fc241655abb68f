import t from 'tap';
import { decide, type MembershipFacts } from '../../src/entitlements/policy.js';

const NOW = new Date('2026-11-26T12:00:00Z');
const policy = { declinedGraceDays: 7 };
const days = (n: number) => new Date(NOW.getTime() - n * 86_400_000);

const member = (overrides: Partial<MembershipFacts> = {}): MembershipFacts => ({
  memberId: 'm1',
  patronStatus: 'active_patron',
  lastChargeStatus: 'Paid',
  lastChargeDate: days(3),
  pledgeRelationshipStart: days(200),
  pledgeCadence: 1,
  isGifted: false,
  isFreeTrial: false,
  currentlyEntitledAmountCents: 800,
  willPayAmountCents: 800,
  currency: 'USD',
  tiers: [
    { id: 'low', title: 'Supporter', amountCents: 300, deleted: false },
    { id: 'high', title: 'Insider', amountCents: 800, deleted: false },
  ],
  ...overrides,
});

t.test('who is entitled, and the reason given', async (t) => {
  const cases: [string, Partial<MembershipFacts> | undefined, boolean, string][] = [
    ['paid monthly', {}, true, 'paid'],
    ['pending charge', { lastChargeStatus: 'Pending' }, true, 'charge_pending'],
    ['free trial (charge status)', { lastChargeStatus: 'Free Trial' }, true, 'free_trial'],
    ['free trial (flag)', { lastChargeStatus: null, isFreeTrial: true }, true, 'free_trial'],
    ['gifted, never charged', { lastChargeStatus: null, isGifted: true }, true, 'gifted'],
    // Patreon's recommended check (patreon-api.md §7): per-post campaigns and campaigns charged
    // on the 1st have active patrons with their tiers listed and no charge yet.
    [
      'active, not charged yet, tiers listed',
      { lastChargeStatus: null },
      true,
      'entitled_tiers_listed',
    ],
    [
      'active, not charged yet, no tiers listed',
      { lastChargeStatus: null, tiers: [] },
      false,
      'charge_not_settled',
    ],
    [
      'active with an "Other" charge, tiers listed',
      { lastChargeStatus: 'Other' },
      true,
      'entitled_tiers_listed',
    ],
    ...(
      ['Declined', 'Refunded', 'Refunded by Patreon', 'Partially Refunded', 'Fraud'] as const
    ).map((status): [string, Partial<MembershipFacts>, boolean, string] => [
      `active with a ${status} charge: it overrides the tiers Patreon still lists`,
      { lastChargeStatus: status },
      false,
      'charge_not_settled',
    ]),
    [
      'declined 2 days ago',
      { patronStatus: 'declined_patron', lastChargeStatus: 'Declined', lastChargeDate: days(2) },
      true,
      'declined_in_grace',
    ],
    [
      'declined 8 days ago',
      { patronStatus: 'declined_patron', lastChargeStatus: 'Declined', lastChargeDate: days(8) },
      false,
      'declined_grace_over',
    ],
    [
      'former patron',
      { patronStatus: 'former_patron', lastChargeStatus: 'Deleted' },
      false,
      'former_patron',
    ],
    ['follower', { patronStatus: null, lastChargeStatus: null, tiers: [] }, false, 'follower'],
    ['no membership', undefined, false, 'not_a_member'],
  ];
  for (const [name, overrides, entitled, reason] of cases) {
    const facts = overrides === undefined ? undefined : member(overrides);
    const decision = decide(facts, policy, NOW);
    t.equal(decision.entitled, entitled, `${name}: entitled ${entitled}`);
    t.equal(decision.reason, reason, `${name}: ${reason}`);
    t.ok(decision.trace.length > 0, `${name}: explained`);
    t.same(
      decide(facts, policy, NOW, false),
      { ...decision, trace: [] },
      `${name}: the same answer unexplained, without a trace`,
    );
    if (!entitled) t.same(decision.tiers, [], `${name}: no tiers when not entitled`);
  }
});

t.test('the highest tier wins and comes first', async (t) => {
  const decision = decide(member(), policy, NOW);
  t.same(
    decision.tiers.map((tier) => tier.id),
    ['high', 'low'],
  );
  t.equal(decision.status, 'active');
  t.same(decision.since, days(200));
});

t.test('grace ends exactly grace days after the declined charge', async (t) => {
  const declined = member({
    patronStatus: 'declined_patron',
    lastChargeStatus: 'Declined',
    lastChargeDate: days(7),
  });
  t.equal(decide(declined, policy, NOW).entitled, false, 'at the boundary the grace is over');
  const inGrace = decide(declined, { declinedGraceDays: 8 }, NOW);
  t.equal(inGrace.entitled, true);
  t.equal(inGrace.status, 'grace');
  t.same(inGrace.until, new Date(days(7).getTime() + 8 * 86_400_000));
  t.equal(decide(declined, { declinedGraceDays: 0 }, NOW).entitled, false, 'no grace configured');
});

t.test('an annual pledge reports its monthly equivalent', async (t) => {
  const annual = decide(
    member({ pledgeCadence: 12, currentlyEntitledAmountCents: 800, willPayAmountCents: 8640 }),
    policy,
    NOW,
  );
  t.same(annual.amount, { cents: 800, currency: 'USD', monthlyEquivalentCents: 720 });
  t.match(annual.trace.join('\n'), /cadence 12 months/);
  const downgraded = decide(
    member({ pledgeCadence: 12, currentlyEntitledAmountCents: 300, willPayAmountCents: 0 }),
    policy,
    NOW,
  );
  t.equal(
    downgraded.amount?.monthlyEquivalentCents,
    300,
    'nothing to pay yet: the entitled amount',
  );
});

t.test(
  'a deleted tier is honoured through pledge history until its paid period ends',
  async (t) => {
    const deleted = { id: 'gone', title: 'Legacy', amountCents: 1500, deleted: true };
    const monthly = member({
      tiers: [],
      lastPaidCharge: { tierId: 'gone', date: days(20), tier: deleted },
    });
    const honoured = decide(monthly, policy, NOW);
    t.equal(honoured.entitled, true);
    t.same(honoured.tiers, [{ ...deleted, via: 'pledge_history' }]);
    t.ok(honoured.until && honoured.until > NOW, 'until the month paid for ends');
    const expired = decide(
      member({ tiers: [], lastPaidCharge: { tierId: 'gone', date: days(40), tier: deleted } }),
      policy,
      NOW,
    );
    t.same(expired.tiers, [], 'a month later it is over');
    const annual = decide(
      member({
        tiers: [],
        pledgeCadence: 12,
        lastPaidCharge: { tierId: 'gone', date: days(200), tier: deleted },
      }),
      policy,
      NOW,
    );
    t.same(
      annual.tiers.map((tier) => tier.id),
      ['gone'],
      'an annual charge covers twelve months',
    );
    const live = decide(
      member({
        tiers: [],
        lastPaidCharge: {
          tierId: 'live',
          date: days(5),
          tier: { id: 'live', title: 'x', amountCents: 1, deleted: false },
        },
      }),
      policy,
      NOW,
    );
    t.same(live.tiers, [], 'a tier that still exists is not resurrected from history');
  },
);
