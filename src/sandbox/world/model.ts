/**
 * Records the sandbox stores or generates. Attribute objects use Patreon's own
 * snake_case names (docs/patreon-api.md §4) so they can be served without mapping.
 */

/** docs/patreon-api.md §7; `null` is a follower, never a patron. */
export const PATRON_STATUSES = ['active_patron', 'declined_patron', 'former_patron'] as const;
export type PatronStatus = (typeof PATRON_STATUSES)[number] | null;

/** docs/patreon-api.md §7, capitalisation and spaces included. */
export const CHARGE_STATUSES = [
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
export type ChargeStatus = (typeof CHARGE_STATUSES)[number];

export interface UserAttributes {
  about: string | null;
  can_see_nsfw: boolean | null;
  created: string;
  email: string | null;
  first_name: string | null;
  full_name: string;
  hide_pledges: boolean | null;
  image_url: string;
  is_creator: boolean;
  is_email_verified: boolean;
  last_name: string | null;
  like_count: number;
  social_connections: Record<string, { user_id: string; url: string | null } | null>;
  thumb_url: string;
  url: string;
  vanity: string | null;
}

export interface UserRecord {
  id: string;
  attributes: UserAttributes;
}

export interface CampaignRecord {
  id: string;
  creatorId: string;
  attributes: Record<string, unknown>;
}

export interface TierRecord {
  id: string;
  campaignId: string;
  /** Deleted tiers are gone from the campaign but still named in pledge history. */
  deleted: boolean;
  benefitIds: string[];
  attributes: Record<string, unknown> & { amount_cents: number; title: string };
}

export interface BenefitRecord {
  id: string;
  campaignId: string;
  tierIds: string[];
  attributes: Record<string, unknown>;
}

export interface AddressRecord {
  id: string;
  userId: string;
  attributes: Record<string, unknown>;
}

export type PledgeEventType =
  | 'pledge_start'
  | 'pledge_upgrade'
  | 'pledge_downgrade'
  | 'pledge_delete'
  | 'subscription';

export interface PledgeEventRecord {
  /** docs/patreon-api.md §4 (pledge-event): ids look like `pledge_start:123`. */
  id: string;
  tierId: string | null;
  attributes: {
    amount_cents: number;
    currency_code: string;
    date: string;
    pledge_payment_status: 'queued' | 'pending' | 'valid' | 'declined' | 'fraud' | 'disabled';
    payment_status: ChargeStatus;
    tier_id: string | null;
    tier_title: string | null;
    type: PledgeEventType;
  };
}

export interface MemberAttributes {
  campaign_lifetime_support_cents: number;
  currently_entitled_amount_cents: number;
  email: string | null;
  full_name: string;
  is_follower: boolean;
  is_free_trial: boolean;
  is_gifted: boolean;
  last_charge_date: string | null;
  last_charge_status: ChargeStatus | null;
  lifetime_support_cents: number;
  next_charge_date: string | null;
  note: string;
  patron_status: PatronStatus;
  pledge_cadence: number | null;
  pledge_relationship_start: string | null;
  will_pay_amount_cents: number;
}

export interface MemberRecord {
  id: string;
  campaignId: string;
  userId: string;
  tierIds: string[];
  address: AddressRecord | null;
  pledgeHistory: PledgeEventRecord[];
  attributes: MemberAttributes;
}

export interface PostRecord {
  id: string;
  campaignId: string;
  userId: string;
  attributes: {
    app_id: number | null;
    app_status: string | null;
    content: string | null;
    embed_data: Record<string, unknown> | null;
    embed_url: string | null;
    is_paid: boolean | null;
    is_public: boolean | null;
    published_at: string | null;
    tiers: string[] | null;
    title: string | null;
    url: string;
  };
}
