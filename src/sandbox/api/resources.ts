import type { MemberStore } from '../world/member-store.js';
import type {
  AddressRecord,
  BenefitRecord,
  CampaignRecord,
  MemberRecord,
  PledgeEventRecord,
  PostRecord,
  TierRecord,
  UserRecord,
} from '../world/model.js';
import type { Catalog } from '../world/seed-data.js';
import { iso } from '../world/time.js';
import type { WebhookRecord } from '../world/webhook-store.js';
import type { Resource } from './json-api.js';

/** Who is looking: resources hide what the viewer's scopes do not grant (docs/patreon-api.md §1.8). */
export interface Viewer {
  catalog: Catalog;
  store: MemberStore;
  /** Base URL standing in for https://www.patreon.com in links. */
  baseUrl: string;
  scopes: ReadonlySet<string>;
  userId: string;
  clientId: string;
  /** Campaigns owned by the OAuth client's owner ("your campaign"). */
  clientCampaignIds: readonly string[];
}

const api = (viewer: Viewer) => `${viewer.baseUrl}/api/oauth2/v2`;

function ownedCampaignIds(viewer: Viewer): string[] {
  return [...viewer.catalog.campaigns.values()]
    .filter((c) => c.creatorId === viewer.userId)
    .map((c) => c.id);
}

function userCanSeeEmail(viewer: Viewer, userId: string): boolean {
  return userId === viewer.userId
    ? viewer.scopes.has('identity[email]')
    : viewer.scopes.has('campaigns.members[email]');
}

function byId<T>(map: ReadonlyMap<string, T>, ids: readonly string[]): T[] {
  return ids.flatMap((id) => {
    const found = map.get(id);
    return found ? [found] : [];
  });
}

export function userResource(user: UserRecord, viewer: Viewer): Resource {
  const { email, ...attributes } = user.attributes;
  const campaign = [...viewer.catalog.campaigns.values()].find((c) => c.creatorId === user.id);
  return {
    type: 'user',
    id: user.id,
    attributes: userCanSeeEmail(viewer, user.id) ? { ...attributes, email } : attributes,
    related: campaign ? { campaign: `${api(viewer)}/campaigns/${campaign.id}` } : {},
    relationships: {
      // docs/patreon-api.md §2: include=campaign returns the user's own campaign, with the campaigns scope.
      campaign: () =>
        campaign && viewer.scopes.has('campaigns') ? campaignResource(campaign, viewer) : null,
      memberships: () => visibleMemberships(user.id, viewer).map((m) => memberResource(m, viewer)),
    },
  };
}

/**
 * docs/patreon-api.md §1.8/§10.3: without `identity.memberships` a user's own memberships
 * are limited to the client's campaign; other users' memberships only show in campaigns the viewer owns.
 */
function visibleMemberships(userId: string, viewer: Viewer): MemberRecord[] {
  const owned = ownedCampaignIds(viewer);
  return viewer.store.membershipsOf(userId).filter((m) => {
    if (owned.includes(m.campaignId)) return true;
    if (userId !== viewer.userId) return false;
    return (
      viewer.scopes.has('identity.memberships') || viewer.clientCampaignIds.includes(m.campaignId)
    );
  });
}

export function campaignResource(campaign: CampaignRecord, viewer: Viewer): Resource {
  const { catalog } = viewer;
  return {
    type: 'campaign',
    id: campaign.id,
    attributes: { ...campaign.attributes, patron_count: viewer.store.activePatrons(campaign.id) },
    related: { creator: `${api(viewer)}/user/${campaign.creatorId}` },
    relationships: {
      benefits: () =>
        [...catalog.benefits.values()]
          .filter((b) => b.campaignId === campaign.id)
          .map((b) => benefitResource(b, viewer)),
      creator: () => {
        const creator = catalog.users.get(campaign.creatorId);
        return creator ? userResource(creator, viewer) : null;
      },
      // docs/patreon-api.md §10.6: goals are deprecated and always empty.
      goals: () => [],
      // docs/patreon-api.md §4: deleted tiers are gone from the campaign, but still named in pledge history.
      tiers: () =>
        [...catalog.tiers.values()]
          .filter((t) => t.campaignId === campaign.id && !t.deleted)
          .map((t) => tierResource(t, viewer)),
    },
  };
}

function campaignById(id: string, viewer: Viewer): Resource | null {
  const campaign = viewer.catalog.campaigns.get(id);
  return campaign ? campaignResource(campaign, viewer) : null;
}

export function tierResource(tier: TierRecord, viewer: Viewer): Resource {
  return {
    type: 'tier',
    id: tier.id,
    attributes: { ...tier.attributes, patron_count: viewer.store.tierPatrons(tier.id) },
    related: { campaign: `${api(viewer)}/campaigns/${tier.campaignId}` },
    relationships: {
      benefits: () =>
        byId(viewer.catalog.benefits, tier.benefitIds).map((b) => benefitResource(b, viewer)),
      campaign: () => campaignById(tier.campaignId, viewer),
      tier_image: () => null,
    },
  };
}

export function benefitResource(benefit: BenefitRecord, viewer: Viewer): Resource {
  return {
    type: 'benefit',
    id: benefit.id,
    attributes: benefit.attributes,
    related: { campaign: `${api(viewer)}/campaigns/${benefit.campaignId}` },
    relationships: {
      campaign: () => campaignById(benefit.campaignId, viewer),
      campaign_installation: () => null,
      deliverables: () => [],
      tiers: () => byId(viewer.catalog.tiers, benefit.tierIds).map((t) => tierResource(t, viewer)),
    },
  };
}

export function memberResource(member: MemberRecord, viewer: Viewer): Resource {
  const { email, ...attributes } = member.attributes;
  const showEmail =
    viewer.scopes.has('campaigns.members[email]') ||
    (member.userId === viewer.userId && viewer.scopes.has('identity[email]'));
  const userOf = () => {
    const user = viewer.store.user(member.userId);
    return user ? userResource(user, viewer) : null;
  };
  return {
    type: 'member',
    id: member.id,
    attributes: showEmail ? { ...attributes, email } : attributes,
    related: {
      campaign: `${api(viewer)}/campaigns/${member.campaignId}`,
      user: `${api(viewer)}/user/${member.userId}`,
    },
    relationships: {
      // docs/patreon-api.md §1.8: the address needs `campaigns.members.address`.
      address: () =>
        member.address && viewer.scopes.has('campaigns.members.address')
          ? addressResource(member.address, member.campaignId, viewer)
          : null,
      campaign: () => campaignById(member.campaignId, viewer),
      currently_entitled_tiers: () =>
        byId(viewer.catalog.tiers, member.tierIds).map((t) => tierResource(t, viewer)),
      pledge_history: () => member.pledgeHistory.map((e) => pledgeEventResource(e, member, viewer)),
      user: userOf,
    },
  };
}

export function addressResource(
  address: AddressRecord,
  campaignId: string,
  viewer: Viewer,
): Resource {
  return {
    type: 'address',
    id: address.id,
    attributes: address.attributes,
    related: { user: `${api(viewer)}/user/${address.userId}` },
    relationships: {
      campaigns: () =>
        byId(viewer.catalog.campaigns, [campaignId]).map((c) => campaignResource(c, viewer)),
      user: () => {
        const user = viewer.store.user(address.userId);
        return user ? userResource(user, viewer) : null;
      },
    },
  };
}

export function pledgeEventResource(
  event: PledgeEventRecord,
  member: MemberRecord,
  viewer: Viewer,
): Resource {
  return {
    type: 'pledge-event',
    id: event.id,
    attributes: event.attributes,
    related: {
      campaign: `${api(viewer)}/campaigns/${member.campaignId}`,
      patron: `${api(viewer)}/user/${member.userId}`,
    },
    relationships: {
      campaign: () => campaignById(member.campaignId, viewer),
      patron: () => {
        const user = viewer.store.user(member.userId);
        return user ? userResource(user, viewer) : null;
      },
      tier: () => {
        const tier = event.tierId ? viewer.catalog.tiers.get(event.tierId) : undefined;
        return tier ? tierResource(tier, viewer) : null;
      },
    },
  };
}

export function postResource(post: PostRecord, viewer: Viewer): Resource {
  return {
    type: 'post',
    id: post.id,
    attributes: post.attributes,
    related: {
      campaign: `${api(viewer)}/campaigns/${post.campaignId}`,
      user: `${api(viewer)}/user/${post.userId}`,
    },
    relationships: {
      campaign: () => campaignById(post.campaignId, viewer),
      user: () => {
        const user = viewer.store.user(post.userId);
        return user ? userResource(user, viewer) : null;
      },
    },
  };
}

export function clientResource(viewer: Viewer): Resource {
  return {
    type: 'client',
    id: viewer.clientId,
    attributes: {
      name: 'Sandbox client',
      author_name: 'patreon-gateway',
      category: 'Other',
      version: 2,
    },
    relationships: {},
  };
}

export function webhookResource(webhook: WebhookRecord, viewer: Viewer): Resource {
  return {
    type: 'webhook',
    id: webhook.id,
    attributes: {
      last_attempted_at: webhook.lastAttemptedAt === null ? null : iso(webhook.lastAttemptedAt),
      num_consecutive_times_failed: webhook.numConsecutiveTimesFailed,
      paused: webhook.paused,
      secret: webhook.secret,
      triggers: webhook.triggers,
      uri: webhook.uri,
    },
    related: { campaign: `${api(viewer)}/campaigns/${webhook.campaignId}` },
    relationships: {
      campaign: () => campaignById(webhook.campaignId, viewer),
      client: () => clientResource(viewer),
    },
  };
}
