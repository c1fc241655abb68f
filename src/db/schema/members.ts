import { sql } from 'drizzle-orm';
import { boolean, index, integer, jsonb, pgTable, primaryKey, text } from 'drizzle-orm/pg-core';
import { campaigns, syncTimes } from './campaigns.js';
import { timestamptz } from './columns.js';
import { patreonUsers } from './patreon-users.js';

export const patronStatuses = ['active_patron', 'declined_patron', 'former_patron'] as const;
export type PatronStatus = (typeof patronStatuses)[number];

/** Patreon's charge statuses, spelled exactly as Patreon spells them (docs/patreon-api.md §7). */
export const chargeStatuses = [
  'Paid',
  'Declined',
  'Deleted',
  'Pending',
  'Refunded',
  'Fraud',
  'Refunded by Patreon',
  'Other',
  'Partially Refunded',
  'Free Trial',
] as const;
export type ChargeStatus = (typeof chargeStatuses)[number];

export type PostalAddress = {
  addressee: string | null;
  line1: string | null;
  line2: string | null;
  city: string | null;
  state: string | null;
  postalCode: string | null;
  country: string | null;
  phoneNumber: string | null;
};

/**
 * A user's membership of one campaign. Member ids are Patreon's UUID strings. A patron who
 * deletes and renews gets a new member id, so (campaign, user) is indexed but not unique.
 */
export const members = pgTable(
  'members',
  {
    id: text('id').primaryKey(),
    campaignId: text('campaign_id')
      .notNull()
      .references(() => campaigns.id, { onDelete: 'cascade' }),
    userId: text('user_id').references(() => patreonUsers.id),
    fullName: text('full_name'),
    email: text('email'),
    note: text('note'),
    /** null = never pledged (a follower); such members are never entitled. */
    patronStatus: text('patron_status').$type<PatronStatus>(),
    lastChargeStatus: text('last_charge_status').$type<ChargeStatus>(),
    lastChargeDate: timestamptz('last_charge_date'),
    nextChargeDate: timestamptz('next_charge_date'),
    /** Months between charges: 1 monthly, 12 annual. */
    pledgeCadence: integer('pledge_cadence'),
    pledgeRelationshipStart: timestamptz('pledge_relationship_start'),
    /** Member amounts are in the campaign's currency (docs/patreon-api.md §7). */
    currency: text('currency'),
    currentlyEntitledAmountCents: integer('currently_entitled_amount_cents'),
    willPayAmountCents: integer('will_pay_amount_cents'),
    campaignLifetimeSupportCents: integer('campaign_lifetime_support_cents'),
    isFreeTrial: boolean('is_free_trial'),
    isGifted: boolean('is_gifted'),
    isFollower: boolean('is_follower'),
    /** Only stored when `campaigns.members.address` was granted. */
    address: jsonb('address').$type<PostalAddress>(),
    /** Which source last wrote the row: a creator sync, a webhook, or a patron's own identity. */
    lastSource: text('last_source').$type<'sync' | 'webhook' | 'identity'>(),
    ...syncTimes(),
  },
  (t) => [
    index('members_campaign_id_idx').on(t.campaignId, t.id),
    index('members_campaign_id_patron_status_idx').on(t.campaignId, t.patronStatus),
    index('members_user_id_campaign_id_idx').on(t.userId, t.campaignId),
    // Read API: its sorts (keyset on the column, then id) and its filters.
    index('members_campaign_id_updated_at_idx').on(t.campaignId, t.updatedAt, t.id),
    index('members_campaign_id_pledge_relationship_start_idx').on(
      t.campaignId,
      t.pledgeRelationshipStart,
      t.id,
    ),
    index('members_campaign_id_full_name_idx').on(t.campaignId, t.fullName, t.id),
    index('members_campaign_id_last_charge_status_idx').on(t.campaignId, t.lastChargeStatus),
    index('members_campaign_id_lower_email_idx')
      .on(t.campaignId, sql`lower(${t.email})`)
      .where(sql`${t.email} is not null`),
  ],
);

/** `currently_entitled_tiers`. No foreign key on the tier: a webhook may name a tier before sync sees it. */
export const memberTiers = pgTable(
  'member_tiers',
  {
    memberId: text('member_id')
      .notNull()
      .references(() => members.id, { onDelete: 'cascade' }),
    tierId: text('tier_id').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.memberId, t.tierId] }),
    index('member_tiers_tier_id_idx').on(t.tierId),
  ],
);

export const pledgeEventTypes = [
  'pledge_start',
  'pledge_upgrade',
  'pledge_downgrade',
  'pledge_delete',
  'subscription',
] as const;
export type PledgeEventType = (typeof pledgeEventTypes)[number];

/**
 * Pledge history: Patreon's `pledge-event` resources, the payments record. Amounts are in the
 * patron's payment currency. `tier_id` has no foreign key: deleted tiers must stay readable here.
 */
export const pledgeEvents = pgTable(
  'pledge_events',
  {
    id: text('id').primaryKey(),
    campaignId: text('campaign_id')
      .notNull()
      .references(() => campaigns.id, { onDelete: 'cascade' }),
    memberId: text('member_id').references(() => members.id, { onDelete: 'set null' }),
    patronUserId: text('patron_user_id'),
    type: text('type').$type<PledgeEventType>(),
    date: timestamptz('date').notNull(),
    amountCents: integer('amount_cents'),
    currency: text('currency'),
    paymentStatus: text('payment_status').$type<ChargeStatus>(),
    pledgePaymentStatus: text('pledge_payment_status'),
    tierId: text('tier_id'),
    tierTitle: text('tier_title'),
    ...syncTimes(),
  },
  (t) => [
    index('pledge_events_campaign_id_date_idx').on(t.campaignId, t.date),
    index('pledge_events_member_id_date_idx').on(t.memberId, t.date),
    index('pledge_events_patron_user_id_idx').on(t.patronUserId),
    // Read API filters, newest first.
    index('pledge_events_campaign_id_type_date_idx').on(t.campaignId, t.type, t.date, t.id),
    index('pledge_events_campaign_id_tier_id_date_idx').on(t.campaignId, t.tierId, t.date, t.id),
  ],
);
