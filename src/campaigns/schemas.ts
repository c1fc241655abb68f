import { z } from 'zod';
import { pageQuery } from '../shared/pagination.js';

export const money = z
  .object({
    cents: z.number().int().describe('Integer minor units (cents).'),
    currency: z.string().describe('ISO 4217 code.'),
  })
  .meta({ id: 'Money', example: { cents: 500, currency: 'USD' } });

export type Money = z.infer<typeof money>;

export const includeDeleted = z
  .enum(['true', 'false'])
  .default('false')
  .transform((value) => value === 'true')
  .describe('Also return rows Patreon no longer returns (tombstoned, with `deletedAt` set).');

const syncedTimes = {
  updatedAt: z.iso.datetime().describe('When our copy last changed.'),
  deletedAt: z.iso
    .datetime()
    .nullable()
    .describe('When Patreon stopped returning it; null while it exists.'),
};

export const campaignView = z
  .object({
    id: z.string(),
    connectionId: z.uuid().nullable().describe('The creator connection that syncs it.'),
    creatorUserId: z.string().nullable(),
    name: z.string().nullable(),
    creationName: z.string().nullable(),
    summary: z.string().nullable(),
    vanity: z.string().nullable(),
    url: z.string().nullable(),
    pledgeUrl: z.string().nullable(),
    imageUrl: z.string().nullable(),
    imageSmallUrl: z.string().nullable(),
    currency: z.string().nullable().describe('Members’ amounts are in this currency.'),
    isMonthly: z.boolean().nullable(),
    isNsfw: z.boolean().nullable(),
    isChargedImmediately: z.boolean().nullable(),
    patronCount: z.number().int().nullable(),
    publishedAt: z.iso.datetime().nullable(),
    patreonCreatedAt: z.iso.datetime().nullable(),
    lastSyncedAt: z.iso.datetime().nullable().describe('End of the last complete sync.'),
    ...syncedTimes,
  })
  .meta({
    id: 'Campaign',
    example: {
      id: '1234560',
      connectionId: '0b6d1c55-8b0a-4a55-a1c3-3f4fb9f2a6de',
      creatorUserId: '1234567',
      name: 'Ada makes things',
      creationName: 'tutorials',
      summary: null,
      vanity: 'ada',
      url: 'https://www.patreon.com/ada',
      pledgeUrl: '/bePatron?c=1234560',
      imageUrl: null,
      imageSmallUrl: null,
      currency: 'USD',
      isMonthly: true,
      isNsfw: false,
      isChargedImmediately: true,
      patronCount: 42,
      publishedAt: '2024-01-05T10:00:00.000Z',
      patreonCreatedAt: '2024-01-01T10:00:00.000Z',
      lastSyncedAt: '2026-11-26T10:00:00.000Z',
      updatedAt: '2026-11-26T10:00:00.000Z',
      deletedAt: null,
    },
  });

export type CampaignView = z.infer<typeof campaignView>;

export const tierView = z
  .object({
    id: z.string(),
    campaignId: z.string(),
    title: z.string().nullable(),
    description: z.string().nullable(),
    amount: money.nullable().describe('Price of the tier; Patreon documents it in US cents.'),
    patronCount: z.number().int().nullable(),
    postCount: z.number().int().nullable(),
    published: z.boolean().nullable(),
    publishedAt: z.iso.datetime().nullable(),
    unpublishedAt: z.iso.datetime().nullable(),
    editedAt: z.iso.datetime().nullable(),
    remaining: z.number().int().nullable(),
    userLimit: z.number().int().nullable(),
    requiresShipping: z.boolean().nullable(),
    discordRoleIds: z.array(z.string()).nullable(),
    imageUrl: z.string().nullable(),
    url: z.string().nullable(),
    patreonCreatedAt: z.iso.datetime().nullable(),
    ...syncedTimes,
  })
  .meta({
    id: 'Tier',
    example: {
      id: '9000001',
      campaignId: '1234560',
      title: 'Supporter',
      description: 'Early access to every tutorial.',
      amount: { cents: 500, currency: 'USD' },
      patronCount: 30,
      postCount: 12,
      published: true,
      publishedAt: '2024-01-05T10:00:00.000Z',
      unpublishedAt: null,
      editedAt: '2024-02-01T10:00:00.000Z',
      remaining: null,
      userLimit: null,
      requiresShipping: false,
      discordRoleIds: null,
      imageUrl: null,
      url: '/join/ada/checkout?rid=9000001',
      patreonCreatedAt: '2024-01-05T10:00:00.000Z',
      updatedAt: '2026-11-26T10:00:00.000Z',
      deletedAt: null,
    },
  });

export type TierView = z.infer<typeof tierView>;

export const benefitView = z
  .object({
    id: z.string(),
    title: z.string().nullable(),
    description: z.string().nullable(),
    benefitType: z.string().nullable(),
    ruleType: z.string().nullable(),
    isDeleted: z.boolean().nullable(),
    isEnded: z.boolean().nullable(),
    isPublished: z.boolean().nullable(),
    nextDeliverableDueDate: z.iso.datetime().nullable(),
    tierIds: z.array(z.string()).describe('Tiers that include this benefit.'),
    patreonCreatedAt: z.iso.datetime().nullable(),
  })
  .meta({ id: 'Benefit' });

export type BenefitView = z.infer<typeof benefitView>;

export const goalView = z
  .object({
    id: z.string(),
    title: z.string().nullable(),
    description: z.string().nullable(),
    amount: money.nullable(),
    completedPercentage: z.number().int().nullable(),
    reachedAt: z.iso.datetime().nullable(),
    patreonCreatedAt: z.iso.datetime().nullable(),
  })
  .meta({ id: 'Goal', description: 'Deprecated by Patreon: new campaigns have none.' });

export type GoalView = z.infer<typeof goalView>;

export const campaignDetail = campaignView
  .extend({
    tiers: z.array(tierView).describe('Current tiers, cheapest first.'),
    benefits: z.array(benefitView),
    goals: z.array(goalView),
  })
  .meta({ id: 'CampaignDetail' });

export type CampaignDetail = z.infer<typeof campaignDetail>;

export const postView = z
  .object({
    id: z.string(),
    campaignId: z.string(),
    userId: z.string().nullable(),
    title: z.string().nullable(),
    content: z.string().nullable().describe('HTML, as Patreon returns it.'),
    url: z.string().nullable(),
    embedUrl: z.string().nullable(),
    embedData: z.record(z.string(), z.unknown()).nullable(),
    isPaid: z.boolean().nullable(),
    isPublic: z.boolean().nullable(),
    tierIds: z.array(z.string()).nullable().describe('Tiers allowed to see the post.'),
    appId: z.number().int().nullable(),
    appStatus: z.string().nullable(),
    publishedAt: z.iso.datetime().nullable(),
    ...syncedTimes,
  })
  .meta({ id: 'Post' });

export type PostView = z.infer<typeof postView>;

export const listCampaignsQuery = pageQuery.extend({
  connectionId: z.uuid().optional().describe('Only campaigns synced through this connection.'),
  includeDeleted,
});

export type ListCampaignsQuery = z.infer<typeof listCampaignsQuery>;

export const listTiersQuery = pageQuery.extend({ includeDeleted });
export type ListTiersQuery = z.infer<typeof listTiersQuery>;

export const listPostsQuery = pageQuery.extend({ includeDeleted });
export type ListPostsQuery = z.infer<typeof listPostsQuery>;
