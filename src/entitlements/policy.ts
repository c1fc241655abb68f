/**
 * The entitlement policy: one pure function from what we know about a membership to an answer
 * with the trace of the rules that decided it. No I/O, so every rule is tested on its own and
 * every answer can be explained.
 *
 * 1. Only the asked campaign counts (the caller passes that campaign's membership only).
 * 2. A follower (`patron_status` null) or a former patron is not entitled.
 * 3. An active patron is entitled when the last charge is `Paid`, `Pending` or `Free Trial`, or
 *    the membership is gifted or a free trial. Otherwise Patreon's own check decides (its docs
 *    recommend `currently_entitled_tiers`, docs/patreon-api.md §7): with no charge yet (a per-post
 *    campaign, one charged on the 1st) or another status, the tiers Patreon lists entitle. Only a
 *    charge whose money never arrived or was taken back (`OVERRIDING_CHARGES`) overrides the list:
 *    Patreon can keep listing the tiers until it processes the decline or refund.
 * 4. A declined patron keeps access for the grace period after the declined charge.
 * 5. Entitled tiers are Patreon's `currently_entitled_tiers`, highest amount first; a tier deleted
 *    at Patreon is still honoured through pledge history until the period that charge paid for
 *    ends.
 */

export const ENTITLING_CHARGES = ['Paid', 'Pending', 'Free Trial'] as const;

/** Charge statuses that withhold access even while Patreon still lists entitled tiers. */
export const OVERRIDING_CHARGES = [
  'Declined',
  'Refunded',
  'Refunded by Patreon',
  'Partially Refunded',
  'Fraud',
] as const;

export type Policy = { declinedGraceDays: number };

export type MembershipFacts = {
  memberId: string;
  patronStatus: string | null;
  lastChargeStatus: string | null;
  lastChargeDate: Date | null;
  pledgeRelationshipStart: Date | null;
  pledgeCadence: number | null;
  isGifted: boolean | null;
  isFreeTrial: boolean | null;
  currentlyEntitledAmountCents: number | null;
  willPayAmountCents: number | null;
  currency: string | null;
  /** Patreon's currently entitled tiers, with what we know of them. */
  tiers: TierFacts[];
  /** The latest paid charge, when the entitled tiers are empty (deleted-tier rule). */
  lastPaidCharge?: { tierId: string; date: Date; tier: TierFacts | undefined } | undefined;
};

export type TierFacts = {
  id: string;
  title: string | null;
  amountCents: number | null;
  deleted: boolean;
};

export type Decision = {
  entitled: boolean;
  status: 'active' | 'grace' | 'inactive';
  reason: string;
  /** When the current state began (pledge start, or the declined charge). */
  since: Date | null;
  /** Until when a grace period or a deleted tier's paid period lasts. */
  until: Date | null;
  tiers: (TierFacts & { via: 'entitled_tiers' | 'pledge_history' })[];
  amount: { cents: number; currency: string | null; monthlyEquivalentCents: number } | null;
  trace: string[];
};

const DAY_MS = 86_400_000;

const addMonths = (date: Date, months: number) => {
  const next = new Date(date);
  next.setUTCMonth(next.getUTCMonth() + months);
  return next;
};

export function decide(
  facts: MembershipFacts | undefined,
  policy: Policy,
  now: Date,
  explain = true,
): Decision {
  // Without `explain`, no trace line is even formatted: `trace?.push(…)` skips its argument.
  const trace: string[] | undefined = explain ? [] : undefined;
  const no = (reason: string, since: Date | null = null): Decision => ({
    entitled: false,
    status: 'inactive',
    reason,
    since,
    until: null,
    tiers: [],
    amount: null,
    trace: trace ?? [],
  });
  if (!facts) {
    trace?.push('no membership of this campaign is known for this user');
    return no('not_a_member');
  }
  trace?.push(
    `member ${facts.memberId}: patron_status ${facts.patronStatus ?? 'null'}, last_charge_status ${facts.lastChargeStatus ?? 'null'}`,
  );
  let status: Decision['status'];
  let reason: string;
  let since = facts.pledgeRelationshipStart;
  let until: Date | null = null;
  switch (facts.patronStatus) {
    case null:
      trace?.push('patron_status null: a follower, never a patron');
      return no('follower');
    case 'former_patron':
      trace?.push('former_patron: the pledge ended');
      return no('former_patron', facts.lastChargeDate);
    case 'declined_patron': {
      if (!facts.lastChargeDate) {
        trace?.push('declined_patron without a charge date: no grace period to apply');
        return no('declined');
      }
      until = new Date(facts.lastChargeDate.getTime() + policy.declinedGraceDays * DAY_MS);
      if (now >= until) {
        trace?.push(
          `declined on ${facts.lastChargeDate.toISOString()}; the ${policy.declinedGraceDays}-day grace period ended ${until.toISOString()}`,
        );
        return no('declined_grace_over', facts.lastChargeDate);
      }
      trace?.push(
        `declined on ${facts.lastChargeDate.toISOString()}; within the ${policy.declinedGraceDays}-day grace period until ${until.toISOString()}`,
      );
      status = 'grace';
      reason = 'declined_in_grace';
      since = facts.lastChargeDate;
      break;
    }
    case 'active_patron': {
      if (facts.isGifted) {
        trace?.push('active_patron with a gifted membership');
        reason = 'gifted';
      } else if (facts.isFreeTrial || facts.lastChargeStatus === 'Free Trial') {
        trace?.push('active_patron on a free trial');
        reason = 'free_trial';
      } else if ((ENTITLING_CHARGES as readonly string[]).includes(facts.lastChargeStatus ?? '')) {
        trace?.push(`active_patron with a ${facts.lastChargeStatus} charge`);
        reason = facts.lastChargeStatus === 'Pending' ? 'charge_pending' : 'paid';
      } else if (
        facts.tiers.length > 0 &&
        !(OVERRIDING_CHARGES as readonly string[]).includes(facts.lastChargeStatus ?? '')
      ) {
        trace?.push(
          `active_patron, last charge ${facts.lastChargeStatus ?? 'none yet'}: Patreon lists entitled tiers, which decide`,
        );
        reason = 'entitled_tiers_listed';
      } else {
        trace?.push(
          facts.tiers.length > 0
            ? `active_patron but the last charge is ${facts.lastChargeStatus}: it overrides the tiers Patreon still lists`
            : `active_patron, last charge ${facts.lastChargeStatus ?? 'none yet'} and no entitled tiers listed: only ${ENTITLING_CHARGES.join(', ')}, gifted or a free trial entitle without them`,
        );
        return no('charge_not_settled', facts.lastChargeDate);
      }
      status = 'active';
      break;
    }
    default:
      trace?.push(`unknown patron_status ${facts.patronStatus}`);
      return no('unknown_status');
  }

  const tiers: Decision['tiers'] = [...facts.tiers]
    .sort((a, b) => (b.amountCents ?? 0) - (a.amountCents ?? 0))
    .map((tier) => ({ ...tier, via: 'entitled_tiers' as const }));
  if (tiers.length > 0) {
    trace?.push(
      `entitled tiers, highest first: ${tiers.map((t) => `${t.id} (${t.amountCents ?? '?'})`).join(', ')}`,
    );
  } else if (facts.lastPaidCharge) {
    const charge = facts.lastPaidCharge;
    const periodEnd = addMonths(charge.date, facts.pledgeCadence ?? 1);
    const deleted = charge.tier?.deleted ?? true;
    if (deleted && now < periodEnd) {
      trace?.push(
        `no entitled tiers; the last paid charge (${charge.date.toISOString()}) was for tier ${charge.tierId}, deleted at Patreon: honoured until ${periodEnd.toISOString()}`,
      );
      tiers.push({
        id: charge.tierId,
        title: charge.tier?.title ?? null,
        amountCents: charge.tier?.amountCents ?? null,
        deleted: true,
        via: 'pledge_history',
      });
      until = until && until < periodEnd ? until : periodEnd;
    } else {
      trace?.push('no entitled tiers');
    }
  } else {
    trace?.push('no entitled tiers');
  }

  const cadence = facts.pledgeCadence && facts.pledgeCadence > 0 ? facts.pledgeCadence : 1;
  const cents = facts.currentlyEntitledAmountCents ?? 0;
  const monthly =
    cadence > 1 && (facts.willPayAmountCents ?? 0) > 0
      ? Math.round((facts.willPayAmountCents as number) / cadence)
      : cents;
  if (cadence > 1) trace?.push(`cadence ${cadence} months: monthly equivalent ${monthly}`);
  return {
    entitled: true,
    status,
    reason,
    since,
    until,
    tiers,
    amount: { cents, currency: facts.currency, monthlyEquivalentCents: monthly },
    trace: trace ?? [],
  };
}
