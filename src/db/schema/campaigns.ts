import {
  boolean,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  uuid,
} from 'drizzle-orm/pg-core';
import { rowTimes, timestamptz } from './columns.js';
import { connections } from './connections.js';
import { patreonUsers } from './patreon-users.js';

/** Tombstone and sync bookkeeping shared by every synced Patreon resource. */
const syncTimes = () => ({
  /** Last time a sync pass or webhook confirmed this row against Patreon. */
  seenAt: timestamptz('seen_at'),
  /** Set when Patreon no longer returns the resource; rows are kept for history. */
  deletedAt: timestamptz('deleted_at'),
  ...rowTimes(),
});

export const campaigns = pgTable(
  'campaigns',
  {
    id: text('id').primaryKey(),
    /** The creator connection whose token syncs this campaign. */
    connectionId: uuid('connection_id').references(() => connections.id, {
      onDelete: 'set null',
    }),
    creatorUserId: text('creator_user_id').references(() => patreonUsers.id),
    name: text('name'),
    creationName: text('creation_name'),
    summary: text('summary'),
    vanity: text('vanity'),
    url: text('url'),
    pledgeUrl: text('pledge_url'),
    imageUrl: text('image_url'),
    imageSmallUrl: text('image_small_url'),
    /** Members' amounts are in this currency (docs/patreon-api.md §7). */
    currency: text('currency'),
    isMonthly: boolean('is_monthly'),
    isNsfw: boolean('is_nsfw'),
    isChargedImmediately: boolean('is_charged_immediately'),
    patronCount: integer('patron_count'),
    publishedAt: timestamptz('published_at'),
    patreonCreatedAt: timestamptz('patreon_created_at'),
    lastSyncedAt: timestamptz('last_synced_at'),
    ...syncTimes(),
  },
  (t) => [
    index('campaigns_connection_id_idx').on(t.connectionId),
    index('campaigns_creator_user_id_idx').on(t.creatorUserId),
  ],
);

export const tiers = pgTable(
  'tiers',
  {
    id: text('id').primaryKey(),
    campaignId: text('campaign_id')
      .notNull()
      .references(() => campaigns.id, { onDelete: 'cascade' }),
    title: text('title'),
    description: text('description'),
    /** Patreon documents tier amounts in US cents; the currency is kept explicit. */
    amountCents: integer('amount_cents'),
    currency: text('currency').notNull().default('USD'),
    patronCount: integer('patron_count'),
    postCount: integer('post_count'),
    published: boolean('published'),
    publishedAt: timestamptz('published_at'),
    unpublishedAt: timestamptz('unpublished_at'),
    editedAt: timestamptz('edited_at'),
    remaining: integer('remaining'),
    userLimit: integer('user_limit'),
    requiresShipping: boolean('requires_shipping'),
    discordRoleIds: text('discord_role_ids').array(),
    imageUrl: text('image_url'),
    url: text('url'),
    patreonCreatedAt: timestamptz('patreon_created_at'),
    ...syncTimes(),
  },
  (t) => [index('tiers_campaign_id_idx').on(t.campaignId, t.amountCents)],
);

export const benefits = pgTable(
  'benefits',
  {
    id: text('id').primaryKey(),
    campaignId: text('campaign_id')
      .notNull()
      .references(() => campaigns.id, { onDelete: 'cascade' }),
    title: text('title'),
    description: text('description'),
    benefitType: text('benefit_type'),
    ruleType: text('rule_type'),
    isDeleted: boolean('is_deleted'),
    isEnded: boolean('is_ended'),
    isPublished: boolean('is_published'),
    tiersCount: integer('tiers_count'),
    appExternalId: text('app_external_id'),
    appMeta: jsonb('app_meta').$type<Record<string, unknown>>(),
    nextDeliverableDueDate: timestamptz('next_deliverable_due_date'),
    patreonCreatedAt: timestamptz('patreon_created_at'),
    ...syncTimes(),
  },
  (t) => [index('benefits_campaign_id_idx').on(t.campaignId)],
);

export const tierBenefits = pgTable(
  'tier_benefits',
  {
    tierId: text('tier_id')
      .notNull()
      .references(() => tiers.id, { onDelete: 'cascade' }),
    benefitId: text('benefit_id')
      .notNull()
      .references(() => benefits.id, { onDelete: 'cascade' }),
  },
  (t) => [
    primaryKey({ columns: [t.tierId, t.benefitId] }),
    index('tier_benefits_benefit_id_idx').on(t.benefitId),
  ],
);

/** Deprecated by Patreon (always empty today) but still part of the documented model. */
export const goals = pgTable(
  'goals',
  {
    id: text('id').primaryKey(),
    campaignId: text('campaign_id')
      .notNull()
      .references(() => campaigns.id, { onDelete: 'cascade' }),
    title: text('title'),
    description: text('description'),
    amountCents: integer('amount_cents'),
    currency: text('currency').notNull().default('USD'),
    completedPercentage: integer('completed_percentage'),
    reachedAt: timestamptz('reached_at'),
    patreonCreatedAt: timestamptz('patreon_created_at'),
    ...syncTimes(),
  },
  (t) => [index('goals_campaign_id_idx').on(t.campaignId)],
);

export { syncTimes };
