/**
 * What the service asks Patreon for, per endpoint: explicit `include` and `fields[type]` lists
 * (v2 returns no attribute that was not asked for, docs/patreon-api.md §3), and page sizes at
 * Patreon's caps (§5). Only this module and the client know Patreon's paths.
 */

export const API_PREFIX = '/api/oauth2/v2';

const userFields = [
  'email',
  'is_email_verified',
  'full_name',
  'first_name',
  'last_name',
  'vanity',
  'url',
  'image_url',
  'thumb_url',
  'is_creator',
  'social_connections',
  'created',
];

const campaignFields = [
  'created_at',
  'creation_name',
  'currency',
  'name',
  'summary',
  'vanity',
  'url',
  'pledge_url',
  'image_url',
  'image_small_url',
  'is_monthly',
  'is_nsfw',
  'is_charged_immediately',
  'patron_count',
  'published_at',
];

const tierFields = [
  'amount_cents',
  'created_at',
  'description',
  'discord_role_ids',
  'edited_at',
  'image_url',
  'patron_count',
  'post_count',
  'published',
  'published_at',
  'remaining',
  'requires_shipping',
  'title',
  'unpublished_at',
  'url',
  'user_limit',
];

const benefitFields = [
  'app_external_id',
  'app_meta',
  'benefit_type',
  'created_at',
  'description',
  'is_deleted',
  'is_ended',
  'is_published',
  'next_deliverable_due_date',
  'rule_type',
  'tiers_count',
  'title',
];

const goalFields = [
  'amount_cents',
  'completed_percentage',
  'created_at',
  'description',
  'reached_at',
  'title',
];

const memberFields = [
  'campaign_lifetime_support_cents',
  'currently_entitled_amount_cents',
  'email',
  'full_name',
  'is_follower',
  'is_free_trial',
  'is_gifted',
  'last_charge_date',
  'last_charge_status',
  'next_charge_date',
  'note',
  'patron_status',
  'pledge_cadence',
  'pledge_relationship_start',
  'will_pay_amount_cents',
];

const addressFields = [
  'addressee',
  'city',
  'country',
  'created_at',
  'line_1',
  'line_2',
  'phone_number',
  'postal_code',
  'state',
];

const pledgeEventFields = [
  'amount_cents',
  'currency_code',
  'date',
  'payment_status',
  'pledge_payment_status',
  'tier_id',
  'tier_title',
  'type',
];

const postFields = [
  'app_id',
  'app_status',
  'content',
  'embed_data',
  'embed_url',
  'is_paid',
  'is_public',
  'published_at',
  'tiers',
  'title',
  'url',
];

const webhookFields = [
  'last_attempted_at',
  'num_consecutive_times_failed',
  'paused',
  'secret',
  'triggers',
  'uri',
];

/** Patreon's caps for `page[count]` on members (§5); posts share the larger one. */
export const PAGE_SIZE = { members: 1000, membersWithPledgeHistory: 500, posts: 1000 };

type Query = {
  include?: string[];
  fields?: Record<string, string[]>;
  page?: Record<string, string | number | undefined>;
};

/** Brackets URL-encoded (§3: a common gotcha), commas kept readable. */
export function queryString({ include, fields, page }: Query): string {
  const parts: string[] = [];
  if (include?.length) parts.push(`include=${include.map(encodeURIComponent).join(',')}`);
  for (const [type, names] of Object.entries(fields ?? {})) {
    parts.push(
      `${encodeURIComponent(`fields[${type}]`)}=${names.map(encodeURIComponent).join(',')}`,
    );
  }
  for (const [name, value] of Object.entries(page ?? {})) {
    if (value !== undefined) {
      parts.push(`${encodeURIComponent(`page[${name}]`)}=${encodeURIComponent(String(value))}`);
    }
  }
  return parts.length > 0 ? `?${parts.join('&')}` : '';
}

export const queries = {
  identity: (options: { memberships: boolean }): Query =>
    options.memberships
      ? {
          include: ['memberships', 'memberships.campaign', 'memberships.currently_entitled_tiers'],
          fields: {
            user: userFields,
            member: memberFields,
            campaign: campaignFields,
            tier: tierFields,
          },
        }
      : { fields: { user: userFields } },

  campaigns: (): Query => ({
    include: ['creator'],
    fields: { campaign: campaignFields, user: userFields },
  }),

  campaign: (): Query => ({
    include: ['creator', 'tiers', 'benefits', 'goals', 'tiers.benefits'],
    fields: {
      campaign: campaignFields,
      user: userFields,
      tier: tierFields,
      benefit: benefitFields,
      goal: goalFields,
    },
  }),

  members: (options: { pledgeHistory: boolean; address: boolean; cursor?: string }): Query => {
    const include = ['user', 'currently_entitled_tiers'];
    const fields: Record<string, string[]> = {
      member: memberFields,
      user: userFields,
      tier: ['title', 'amount_cents'],
    };
    if (options.address) {
      include.push('address');
      fields.address = addressFields;
    }
    if (options.pledgeHistory) {
      include.push('pledge_history');
      fields['pledge-event'] = pledgeEventFields;
    }
    return {
      include,
      fields,
      page: {
        count: options.pledgeHistory ? PAGE_SIZE.membersWithPledgeHistory : PAGE_SIZE.members,
        cursor: options.cursor,
      },
    };
  },

  member: (options: { address: boolean }): Query => {
    const include = ['user', 'currently_entitled_tiers', 'campaign'];
    const fields: Record<string, string[]> = {
      member: memberFields,
      user: userFields,
      tier: ['title', 'amount_cents'],
      campaign: ['currency'],
    };
    if (options.address) {
      include.push('address');
      fields.address = addressFields;
    }
    return { include, fields };
  },

  posts: (options: { cursor?: string }): Query => ({
    fields: { post: postFields },
    page: { count: PAGE_SIZE.posts, cursor: options.cursor },
  }),

  post: (): Query => ({ include: ['campaign'], fields: { post: postFields } }),

  webhooks: (): Query => ({ include: ['campaign'], fields: { webhook: webhookFields } }),
};
