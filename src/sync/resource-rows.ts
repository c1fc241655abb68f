import type {
  benefits,
  campaigns,
  goals,
  members,
  patreonUsers,
  pledgeEvents,
  posts,
  tiers,
} from '../db/schema/index.js';
import type { ChargeStatus, PatronStatus, PledgeEventType } from '../db/schema/members.js';
import type {
  Benefit,
  Campaign,
  Goal,
  Member,
  PledgeEvent,
  Post,
  Tier,
  User,
} from '../patreon/resources.js';

/**
 * Decoded Patreon resources → our rows. An attribute Patreon did not send stays out of the row
 * (undefined), so an upsert never blanks a column it was not told about; `null` is kept as null.
 */
export function userRow(user: User): typeof patreonUsers.$inferInsert {
  return {
    id: user.id,
    email: user.email,
    isEmailVerified: user.isEmailVerified,
    fullName: user.fullName,
    firstName: user.firstName,
    lastName: user.lastName,
    vanity: user.vanity,
    url: user.url,
    imageUrl: user.imageUrl,
    thumbUrl: user.thumbUrl,
    isCreator: user.isCreator,
    socialConnections: user.socialConnections,
    patreonCreatedAt: user.created,
  };
}

export function campaignRow(campaign: Campaign): typeof campaigns.$inferInsert {
  return {
    id: campaign.id,
    creatorUserId: campaign.creator?.id,
    name: campaign.name,
    creationName: campaign.creationName,
    summary: campaign.summary,
    vanity: campaign.vanity,
    url: campaign.url,
    pledgeUrl: campaign.pledgeUrl,
    imageUrl: campaign.imageUrl,
    imageSmallUrl: campaign.imageSmallUrl,
    currency: campaign.currency,
    isMonthly: campaign.isMonthly,
    isNsfw: campaign.isNsfw,
    isChargedImmediately: campaign.isChargedImmediately,
    patronCount: campaign.patronCount,
    publishedAt: campaign.publishedAt,
    patreonCreatedAt: campaign.createdAt,
  };
}

export function tierRow(tier: Tier, campaignId: string): typeof tiers.$inferInsert {
  return {
    id: tier.id,
    campaignId,
    title: tier.title,
    description: tier.description,
    amountCents: tier.amountCents,
    patronCount: tier.patronCount,
    postCount: tier.postCount,
    published: tier.published,
    publishedAt: tier.publishedAt,
    unpublishedAt: tier.unpublishedAt,
    editedAt: tier.editedAt,
    remaining: tier.remaining,
    userLimit: tier.userLimit,
    requiresShipping: tier.requiresShipping,
    discordRoleIds: tier.discordRoleIds,
    imageUrl: tier.imageUrl,
    url: tier.url,
    patreonCreatedAt: tier.createdAt,
  };
}

export function benefitRow(benefit: Benefit, campaignId: string): typeof benefits.$inferInsert {
  return {
    id: benefit.id,
    campaignId,
    title: benefit.title,
    description: benefit.description,
    benefitType: benefit.benefitType,
    ruleType: benefit.ruleType,
    isDeleted: benefit.isDeleted,
    isEnded: benefit.isEnded,
    isPublished: benefit.isPublished,
    tiersCount: benefit.tiersCount,
    appExternalId: benefit.appExternalId,
    appMeta: benefit.appMeta,
    nextDeliverableDueDate: benefit.nextDeliverableDueDate,
    patreonCreatedAt: benefit.createdAt,
  };
}

export function goalRow(goal: Goal, campaignId: string): typeof goals.$inferInsert {
  return {
    id: goal.id,
    campaignId,
    title: goal.title,
    description: goal.description,
    amountCents: goal.amountCents,
    completedPercentage: goal.completedPercentage,
    reachedAt: goal.reachedAt,
    patreonCreatedAt: goal.createdAt,
  };
}

export function memberRow(
  member: Member,
  campaignId: string,
  source: 'sync' | 'webhook' | 'identity',
  currency?: string | null,
): typeof members.$inferInsert {
  const address = member.address;
  return {
    id: member.id,
    campaignId,
    userId: member.user?.id,
    fullName: member.fullName,
    email: member.email,
    note: member.note,
    patronStatus: member.patronStatus as PatronStatus | null | undefined,
    lastChargeStatus: member.lastChargeStatus as ChargeStatus | null | undefined,
    lastChargeDate: member.lastChargeDate,
    nextChargeDate: member.nextChargeDate,
    pledgeCadence: member.pledgeCadence,
    pledgeRelationshipStart: member.pledgeRelationshipStart,
    currency: currency ?? undefined,
    currentlyEntitledAmountCents: member.currentlyEntitledAmountCents,
    willPayAmountCents: member.willPayAmountCents,
    campaignLifetimeSupportCents: member.campaignLifetimeSupportCents,
    isFreeTrial: member.isFreeTrial,
    isGifted: member.isGifted,
    isFollower: member.isFollower,
    address:
      address === undefined
        ? undefined
        : address === null
          ? null
          : {
              addressee: address.addressee ?? null,
              line1: address.line1 ?? null,
              line2: address.line2 ?? null,
              city: address.city ?? null,
              state: address.state ?? null,
              postalCode: address.postalCode ?? null,
              country: address.country ?? null,
              phoneNumber: address.phoneNumber ?? null,
            },
    lastSource: source,
    deletedAt: null,
  };
}

export function pledgeEventRow(
  event: PledgeEvent,
  campaignId: string,
  memberId: string | undefined,
  patronUserId: string | undefined,
): typeof pledgeEvents.$inferInsert {
  return {
    id: event.id,
    campaignId,
    memberId,
    patronUserId: event.patron?.id ?? patronUserId,
    type: event.type as PledgeEventType | null | undefined,
    date: event.date as Date,
    amountCents: event.amountCents,
    currency: event.currencyCode,
    paymentStatus: event.paymentStatus as ChargeStatus | null | undefined,
    pledgePaymentStatus: event.pledgePaymentStatus,
    tierId: event.tier?.id ?? event.tierId,
    tierTitle: event.tierTitle,
  };
}

export function postRow(post: Post, campaignId: string): typeof posts.$inferInsert {
  return {
    id: post.id,
    campaignId,
    userId: post.user?.id,
    title: post.title,
    content: post.content,
    url: post.url,
    embedUrl: post.embedUrl,
    embedData: post.embedData,
    isPaid: post.isPaid,
    isPublic: post.isPublic,
    tierIds: post.tiers,
    appId: post.appId,
    appStatus: post.appStatus,
    publishedAt: post.publishedAt,
    deletedAt: null,
  };
}

/** Drops keys whose value is undefined, so they stay out of the INSERT and the UPDATE. */
export function defined<T extends Record<string, unknown>>(row: T): T {
  for (const key of Object.keys(row)) if (row[key] === undefined) delete row[key];
  return row;
}
