import { and, desc, eq, inArray, isNull, ne, sql } from 'drizzle-orm';
import type { Db } from '../db/database.js';
import {
  benefits,
  campaigns,
  connections,
  members,
  memberTiers,
  pledgeEvents,
  tierBenefits,
  tiers,
} from '../db/schema/index.js';
import type { MembershipFacts, TierFacts } from './policy.js';

export type Source = 'creator_sync' | 'patron_connection';

export type Found =
  | { kind: 'no_campaign' }
  | { kind: 'unlinked' }
  | { kind: 'linked'; patreonUserIds: string[]; membership?: Membership };

export type Membership = {
  facts: MembershipFacts;
  source: Source;
  patreonUserId: string | null;
  benefits: { id: string; title: string | null; tierIds: string[] }[];
};

/** Which of several memberships of one user in one campaign to judge (renewals get new ids). */
const statusRank: Record<string, number> = {
  active_patron: 3,
  declined_patron: 2,
  former_patron: 1,
};

/**
 * Reads what the policy needs from indexed tables: the host user's verified Patreon ids (their
 * connections, never an email), that user's membership of this one campaign (the creator's
 * synced list first, the patron's own connection otherwise), its entitled tiers and their
 * benefits, and, only when no tier is entitled, the last paid charge.
 */
export async function findMembership(
  db: Db,
  externalUserId: string,
  campaignId: string,
): Promise<Found> {
  const [campaign] = await db
    .select({ id: campaigns.id, currency: campaigns.currency })
    .from(campaigns)
    .where(eq(campaigns.id, campaignId));
  if (!campaign) return { kind: 'no_campaign' };
  const linked = await db
    .selectDistinct({ patreonUserId: connections.patreonUserId })
    .from(connections)
    .where(
      and(eq(connections.externalUserId, externalUserId), ne(connections.status, 'disconnected')),
    );
  const patreonUserIds = linked.map((row) => row.patreonUserId);
  if (patreonUserIds.length === 0) return { kind: 'unlinked' };
  const rows = await db
    .select()
    .from(members)
    .where(
      and(
        inArray(members.userId, patreonUserIds),
        eq(members.campaignId, campaignId),
        isNull(members.deletedAt),
      ),
    );
  if (rows.length === 0) return { kind: 'linked', patreonUserIds };
  const member = [...rows].sort(
    (a, b) =>
      Number(b.lastSource !== 'identity') - Number(a.lastSource !== 'identity') ||
      (statusRank[b.patronStatus ?? ''] ?? 0) - (statusRank[a.patronStatus ?? ''] ?? 0) ||
      (b.pledgeRelationshipStart?.getTime() ?? 0) - (a.pledgeRelationshipStart?.getTime() ?? 0),
  )[0] as (typeof rows)[number];

  const tierRows = await db
    .select({
      id: memberTiers.tierId,
      title: tiers.title,
      amountCents: tiers.amountCents,
      deletedAt: tiers.deletedAt,
    })
    .from(memberTiers)
    .leftJoin(tiers, eq(tiers.id, memberTiers.tierId))
    .where(eq(memberTiers.memberId, member.id));
  const entitledTiers: TierFacts[] = tierRows.map((row) => ({
    id: row.id,
    title: row.title,
    amountCents: row.amountCents,
    deleted: row.deletedAt !== null,
  }));

  let lastPaidCharge: MembershipFacts['lastPaidCharge'];
  if (entitledTiers.length === 0 && member.patronStatus !== null) {
    const [charge] = await db
      .select({
        tierId: pledgeEvents.tierId,
        date: pledgeEvents.date,
        title: tiers.title,
        amountCents: tiers.amountCents,
        deletedAt: tiers.deletedAt,
        tierKnown: sql<boolean>`${tiers.id} is not null`,
      })
      .from(pledgeEvents)
      .leftJoin(tiers, eq(tiers.id, pledgeEvents.tierId))
      .where(
        and(
          eq(pledgeEvents.memberId, member.id),
          eq(pledgeEvents.paymentStatus, 'Paid'),
          sql`${pledgeEvents.tierId} is not null`,
        ),
      )
      .orderBy(desc(pledgeEvents.date))
      .limit(1);
    if (charge?.tierId) {
      lastPaidCharge = {
        tierId: charge.tierId,
        date: charge.date,
        tier: charge.tierKnown
          ? {
              id: charge.tierId,
              title: charge.title,
              amountCents: charge.amountCents,
              deleted: charge.deletedAt !== null,
            }
          : undefined,
      };
    }
  }

  const tierIds = entitledTiers.map((tier) => tier.id);
  if (lastPaidCharge) tierIds.push(lastPaidCharge.tierId);
  const benefitRows =
    tierIds.length === 0
      ? []
      : await db
          .select({ id: benefits.id, title: benefits.title, tierId: tierBenefits.tierId })
          .from(tierBenefits)
          .innerJoin(benefits, eq(benefits.id, tierBenefits.benefitId))
          .where(and(inArray(tierBenefits.tierId, tierIds), isNull(benefits.deletedAt)));
  const byBenefit = new Map<string, { id: string; title: string | null; tierIds: string[] }>();
  for (const row of benefitRows) {
    const entry = byBenefit.get(row.id) ?? { id: row.id, title: row.title, tierIds: [] };
    entry.tierIds.push(row.tierId);
    byBenefit.set(row.id, entry);
  }

  return {
    kind: 'linked',
    patreonUserIds,
    membership: {
      source: member.lastSource === 'identity' ? 'patron_connection' : 'creator_sync',
      patreonUserId: member.userId,
      benefits: [...byBenefit.values()],
      facts: {
        memberId: member.id,
        patronStatus: member.patronStatus,
        lastChargeStatus: member.lastChargeStatus,
        lastChargeDate: member.lastChargeDate,
        pledgeRelationshipStart: member.pledgeRelationshipStart,
        pledgeCadence: member.pledgeCadence,
        isGifted: member.isGifted,
        isFreeTrial: member.isFreeTrial,
        currentlyEntitledAmountCents: member.currentlyEntitledAmountCents,
        willPayAmountCents: member.willPayAmountCents,
        currency: member.currency ?? campaign.currency,
        tiers: entitledTiers,
        lastPaidCharge,
      },
    },
  };
}
