import { CampaignNotFoundError } from '../shared/errors.js';
import { decide, type Policy } from './policy.js';
import type { Found } from './repository.js';
import type { EntitlementView } from './schemas.js';

const iso = (date: Date | null | undefined) => date?.toISOString() ?? null;

/** An answer with nothing in it: no connection, or (for the events) a campaign gone. */
export const notEntitled = (
  target: { externalUserId: string; campaignId: string },
  reason: EntitlementView['reason'],
): EntitlementView => ({
  ...target,
  entitled: false,
  status: 'inactive',
  reason,
  since: null,
  until: null,
  tiers: [],
  benefits: [],
  amount: null,
  source: null,
  asOf: null,
  member: null,
});

/**
 * The answer to "what may this host user have in this campaign?" for what a lookup found, at
 * `at`. The one function behind `GET /v1/entitlements` and the `entitlement.*` events
 * (src/members/entitlement-review.ts), so the two cannot disagree.
 */
export function entitlementAnswer(
  found: Found,
  externalUserId: string,
  campaignId: string,
  policy: Policy,
  at: Date,
  explain: boolean,
): EntitlementView {
  if (found.kind === 'no_campaign') {
    throw new CampaignNotFoundError(`No campaign ${campaignId} is synced here.`);
  }
  if (found.kind === 'unlinked') {
    return {
      ...notEntitled({ externalUserId, campaignId }, 'no_patreon_connection'),
      ...(explain
        ? { explanation: [`no Patreon account is connected for user ${externalUserId}`] }
        : {}),
    };
  }
  const membership = found.membership;
  const decision = decide(membership?.facts, policy, at, explain);
  const tierIds = new Set(decision.tiers.map((tier) => tier.id));
  const facts = membership?.facts;
  return {
    externalUserId,
    campaignId,
    entitled: decision.entitled,
    status: decision.status,
    reason: decision.reason as EntitlementView['reason'],
    since: iso(decision.since),
    until: iso(decision.until),
    tiers: decision.tiers,
    benefits: decision.entitled
      ? (membership?.benefits ?? []).filter((b) => b.tierIds.some((id) => tierIds.has(id)))
      : [],
    amount: decision.amount,
    source: membership?.source ?? null,
    asOf: iso(membership?.asOf),
    member: facts
      ? {
          id: facts.memberId,
          patreonUserId: membership?.patreonUserId ?? null,
          patronStatus: facts.patronStatus,
          lastChargeStatus: facts.lastChargeStatus,
          lastChargeDate: iso(facts.lastChargeDate),
          pledgeCadence: facts.pledgeCadence,
        }
      : null,
    ...(explain
      ? {
          explanation: [
            `Patreon user ${found.patreonUserIds.join(', ')} (from the user's own connection)`,
            ...(membership ? [`membership from ${membership.source}`] : []),
            ...decision.trace,
          ],
        }
      : {}),
  };
}

/** What an `entitlement.*` event is about: a change in any of these is announced. */
export type EntitlementKey = {
  entitled: boolean;
  status: EntitlementView['status'];
  tierIds: string[];
  until: string | null;
};

export const entitlementKey = (answer: EntitlementView): EntitlementKey => ({
  entitled: answer.entitled,
  status: answer.status,
  tierIds: answer.tiers.map((tier) => tier.id),
  until: answer.until,
});

export const sameKey = (a: EntitlementKey, b: EntitlementKey) =>
  a.entitled === b.entitled &&
  a.status === b.status &&
  a.until === b.until &&
  a.tierIds.length === b.tierIds.length &&
  a.tierIds.every((id, index) => b.tierIds[index] === id);
