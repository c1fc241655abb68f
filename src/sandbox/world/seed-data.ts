import type { BenefitRecord, CampaignRecord, PostRecord, TierRecord, UserRecord } from './model.js';
import { userAttributes } from './people.js';
import {
  DELETED_TIER_ID,
  OTHER_CAMPAIGN_ID,
  OTHER_CREATOR_ID,
  OWN_CAMPAIGN_ID,
  OWN_CREATOR_ID,
} from './seed-ids.js';
import { seedPosts } from './seed-posts.js';
import { DAY_MS, iso } from './time.js';

export interface Catalog {
  users: Map<string, UserRecord>;
  campaigns: Map<string, CampaignRecord>;
  tiers: Map<string, TierRecord>;
  benefits: Map<string, BenefitRecord>;
  posts: PostRecord[];
}

function campaign(
  id: string,
  creatorId: string,
  name: string,
  vanity: string,
  createdMs: number,
): CampaignRecord {
  return {
    id,
    creatorId,
    attributes: {
      created_at: iso(createdMs),
      creation_name: name,
      currency: 'USD',
      discord_server_id: null,
      google_analytics_id: null,
      has_rss: false,
      has_sent_rss_notify: false,
      image_small_url: `https://c10.patreonusercontent.com/campaign/${id}/small.png`,
      image_url: `https://c10.patreonusercontent.com/campaign/${id}/cover.png`,
      is_charged_immediately: true,
      is_monthly: true,
      is_nsfw: false,
      main_video_embed: null,
      main_video_url: null,
      name,
      one_liner: null,
      pay_per_name: 'month',
      pledge_url: `/bePatron?c=${id}`,
      published_at: iso(createdMs + DAY_MS),
      rss_artwork_url: null,
      rss_feed_title: `${name} feed`,
      show_earnings: false,
      summary: `<p>${name}: behind the scenes, early drafts and monthly notes.</p>`,
      thanks_embed: null,
      thanks_msg: 'Thank you for being here!',
      thanks_video_url: null,
      url: `https://www.patreon.com/${vanity}`,
      vanity,
    },
  };
}

function tier(
  id: string,
  campaignId: string,
  vanity: string,
  title: string,
  amountCents: number,
  createdMs: number,
  extra: Partial<{
    deleted: boolean;
    requiresShipping: boolean;
    userLimit: number;
    benefitIds: string[];
  }>,
): TierRecord {
  const deleted = extra.deleted ?? false;
  return {
    id,
    campaignId,
    deleted,
    benefitIds: extra.benefitIds ?? [],
    attributes: {
      amount_cents: amountCents,
      created_at: iso(createdMs),
      description: `<p>${title}: ${amountCents / 100} USD a month.</p>`,
      discord_role_ids: null,
      edited_at: iso(createdMs + 3 * DAY_MS),
      image_url: null,
      post_count: null,
      published: !deleted,
      published_at: iso(createdMs),
      remaining: extra.userLimit ?? null,
      requires_shipping: extra.requiresShipping ?? false,
      title,
      unpublished_at: deleted ? iso(createdMs + 200 * DAY_MS) : null,
      url: `/join/${vanity}/checkout?rid=${id}`,
      user_limit: extra.userLimit ?? null,
    },
  };
}

function benefit(
  id: string,
  campaignId: string,
  title: string,
  tierIds: string[],
  ruleType: string,
  createdMs: number,
): BenefitRecord {
  return {
    id,
    campaignId,
    tierIds,
    attributes: {
      app_external_id: null,
      app_meta: null,
      benefit_type: 'custom',
      created_at: iso(createdMs),
      deliverables_due_today_count: 0,
      delivered_deliverables_count: 0,
      description: null,
      is_deleted: false,
      is_ended: false,
      is_published: true,
      next_deliverable_due_date: null,
      not_delivered_deliverables_count: 0,
      rule_type: ruleType,
      tiers_count: tierIds.length,
      title,
    },
  };
}

/** Everything except members: small, fixed per seed, stored in full. */
export function createCatalog(seed: number, anchorMs: number): Catalog {
  const founded = anchorMs - 900 * DAY_MS;
  const users = new Map<string, UserRecord>([
    [
      OWN_CREATOR_ID,
      {
        id: OWN_CREATOR_ID,
        attributes: userAttributes(
          OWN_CREATOR_ID,
          'Mira',
          'Castellano',
          'mira@sandbox-creator.example',
          founded,
          true,
        ),
      },
    ],
    [
      OTHER_CREATOR_ID,
      {
        id: OTHER_CREATOR_ID,
        attributes: userAttributes(
          OTHER_CREATOR_ID,
          'Theo',
          'Brandt',
          'theo@sandbox-creator.example',
          founded,
          true,
        ),
      },
    ],
  ]);
  for (const user of users.values())
    user.attributes.vanity = user.attributes.first_name?.toLowerCase() ?? null;

  const campaigns = new Map<string, CampaignRecord>([
    [
      OWN_CAMPAIGN_ID,
      campaign(OWN_CAMPAIGN_ID, OWN_CREATOR_ID, 'Mira Makes Comics', 'miramakes', founded),
    ],
    [
      OTHER_CAMPAIGN_ID,
      campaign(
        OTHER_CAMPAIGN_ID,
        OTHER_CREATOR_ID,
        'Theo Field Recordings',
        'theofield',
        founded + 30 * DAY_MS,
      ),
    ],
  ]);

  const tierList = [
    tier('54321', OWN_CAMPAIGN_ID, 'miramakes', 'Supporter', 300, founded, {
      benefitIds: ['9101'],
    }),
    tier('54322', OWN_CAMPAIGN_ID, 'miramakes', 'Insider', 800, founded, {
      benefitIds: ['9101', '9102'],
    }),
    tier('54323', OWN_CAMPAIGN_ID, 'miramakes', 'Collector', 2500, founded, {
      benefitIds: ['9101', '9102', '9103'],
      requiresShipping: true,
      userLimit: 5000,
    }),
    tier(DELETED_TIER_ID, OWN_CAMPAIGN_ID, 'miramakes', 'Legacy Backer', 500, founded, {
      deleted: true,
    }),
    tier('64321', OTHER_CAMPAIGN_ID, 'theofield', 'Listener', 200, founded, {
      benefitIds: ['9201'],
    }),
    tier('64322', OTHER_CAMPAIGN_ID, 'theofield', 'Producer', 1000, founded, {
      benefitIds: ['9201'],
    }),
  ];
  const benefitList = [
    benefit(
      '9101',
      OWN_CAMPAIGN_ID,
      'Early access to pages',
      ['54321', '54322', '54323'],
      'eom_monthly',
      founded,
    ),
    benefit('9102', OWN_CAMPAIGN_ID, 'Monthly Q&A', ['54322', '54323'], 'eom_monthly', founded),
    benefit('9103', OWN_CAMPAIGN_ID, 'Printed zine', ['54323'], 'one_time_immediate', founded),
    benefit(
      '9201',
      OTHER_CAMPAIGN_ID,
      'Thanks in the credits',
      ['64321', '64322'],
      'eom_monthly',
      founded,
    ),
  ];
  return {
    users,
    campaigns,
    tiers: new Map(tierList.map((t) => [t.id, t])),
    benefits: new Map(benefitList.map((b) => [b.id, b])),
    posts: seedPosts(seed, anchorMs),
  };
}
