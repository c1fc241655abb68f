import type { MemberRow, PledgeEventRow } from './member-repository.js';
import type { MemberView, PledgeEventView } from './member-schemas.js';
import type { BenefitRow, CampaignRow, GoalRow, PostRow, TierRow } from './repository.js';
import type { BenefitView, CampaignView, GoalView, Money, PostView, TierView } from './schemas.js';

const iso = (date: Date | null) => date?.toISOString() ?? null;

/**
 * Patreon states tier and goal amounts in US cents, and member amounts in the campaign's
 * currency (docs/patreon-api.md §7); USD is the last resort when no currency was stored.
 */
export function money(cents: number | null, ...currencies: Array<string | null>): Money | null {
  if (cents === null) return null;
  return { cents, currency: currencies.find((c) => c !== null) ?? 'USD' };
}

export function toCampaignView(c: CampaignRow): CampaignView {
  return {
    id: c.id,
    connectionId: c.connectionId,
    creatorUserId: c.creatorUserId,
    name: c.name,
    creationName: c.creationName,
    summary: c.summary,
    vanity: c.vanity,
    url: c.url,
    pledgeUrl: c.pledgeUrl,
    imageUrl: c.imageUrl,
    imageSmallUrl: c.imageSmallUrl,
    currency: c.currency,
    isMonthly: c.isMonthly,
    isNsfw: c.isNsfw,
    isChargedImmediately: c.isChargedImmediately,
    patronCount: c.patronCount,
    publishedAt: iso(c.publishedAt),
    patreonCreatedAt: iso(c.patreonCreatedAt),
    lastSyncedAt: iso(c.lastSyncedAt),
    updatedAt: c.updatedAt.toISOString(),
    deletedAt: iso(c.deletedAt),
  };
}

export function toTierView(t: TierRow): TierView {
  return {
    id: t.id,
    campaignId: t.campaignId,
    title: t.title,
    description: t.description,
    amount: money(t.amountCents, t.currency),
    patronCount: t.patronCount,
    postCount: t.postCount,
    published: t.published,
    publishedAt: iso(t.publishedAt),
    unpublishedAt: iso(t.unpublishedAt),
    editedAt: iso(t.editedAt),
    remaining: t.remaining,
    userLimit: t.userLimit,
    requiresShipping: t.requiresShipping,
    discordRoleIds: t.discordRoleIds,
    imageUrl: t.imageUrl,
    url: t.url,
    patreonCreatedAt: iso(t.patreonCreatedAt),
    updatedAt: t.updatedAt.toISOString(),
    deletedAt: iso(t.deletedAt),
  };
}

export function toBenefitView(b: BenefitRow): BenefitView {
  return {
    id: b.id,
    title: b.title,
    description: b.description,
    benefitType: b.benefitType,
    ruleType: b.ruleType,
    isDeleted: b.isDeleted,
    isEnded: b.isEnded,
    isPublished: b.isPublished,
    nextDeliverableDueDate: iso(b.nextDeliverableDueDate),
    tierIds: b.tierIds,
    patreonCreatedAt: iso(b.patreonCreatedAt),
  };
}

export function toGoalView(g: GoalRow): GoalView {
  return {
    id: g.id,
    title: g.title,
    description: g.description,
    amount: money(g.amountCents, g.currency),
    completedPercentage: g.completedPercentage,
    reachedAt: iso(g.reachedAt),
    patreonCreatedAt: iso(g.patreonCreatedAt),
  };
}

export function toPostView(p: PostRow): PostView {
  return {
    id: p.id,
    campaignId: p.campaignId,
    userId: p.userId,
    title: p.title,
    content: p.content,
    url: p.url,
    embedUrl: p.embedUrl,
    embedData: p.embedData,
    isPaid: p.isPaid,
    isPublic: p.isPublic,
    tierIds: p.tierIds,
    appId: p.appId,
    appStatus: p.appStatus,
    publishedAt: iso(p.publishedAt),
    updatedAt: p.updatedAt.toISOString(),
    deletedAt: iso(p.deletedAt),
  };
}

export function toMemberView(
  { member: m, user }: MemberRow,
  entitledTierIds: string[],
  campaignCurrency: string | null,
): MemberView {
  return {
    id: m.id,
    campaignId: m.campaignId,
    patreonUser: user,
    fullName: m.fullName,
    email: m.email,
    patronStatus: m.patronStatus,
    lastChargeStatus: m.lastChargeStatus,
    lastChargeDate: iso(m.lastChargeDate),
    nextChargeDate: iso(m.nextChargeDate),
    pledgeCadence: m.pledgeCadence,
    pledgeRelationshipStart: iso(m.pledgeRelationshipStart),
    currentlyEntitledAmount: money(m.currentlyEntitledAmountCents, m.currency, campaignCurrency),
    willPayAmount: money(m.willPayAmountCents, m.currency, campaignCurrency),
    campaignLifetimeSupport: money(m.campaignLifetimeSupportCents, m.currency, campaignCurrency),
    isFreeTrial: m.isFreeTrial,
    isGifted: m.isGifted,
    isFollower: m.isFollower,
    entitledTierIds,
    address: m.address,
    note: m.note,
    updatedAt: m.updatedAt.toISOString(),
    deletedAt: iso(m.deletedAt),
  };
}

export function toPledgeEventView(e: PledgeEventRow): PledgeEventView {
  return {
    id: e.id,
    campaignId: e.campaignId,
    memberId: e.memberId,
    patronUserId: e.patronUserId,
    type: e.type,
    date: e.date.toISOString(),
    amount: money(e.amountCents, e.currency),
    paymentStatus: e.paymentStatus,
    pledgePaymentStatus: e.pledgePaymentStatus,
    tierId: e.tierId,
    tierTitle: e.tierTitle,
  };
}
