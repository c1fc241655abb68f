import type { Db } from '../db/database.js';
import { cursorCodec, cursorParts } from '../shared/cursor.js';
import { CampaignNotFoundError } from '../shared/errors.js';
import { toPage } from '../shared/pagination.js';
import { MemberNotFoundError } from './errors.js';
import { decodePosition, type KeysetOrder, positionCursorOf } from './keyset.js';
import {
  entitledTierIds,
  entitledTiers,
  findMember,
  listMembers,
  listPledgeEvents,
  memberOrders,
  memberPledgeHistory,
  pledgeEventOrder,
} from './member-repository.js';
import {
  type ListMembersQuery,
  type ListPledgeEventsQuery,
  MEMBER_HISTORY_LIMIT,
  type MemberDetail,
} from './member-schemas.js';
import {
  findCampaign,
  listCampaigns,
  listCurrentBenefits,
  listCurrentGoals,
  listCurrentTiers,
  listPosts,
  listTiers,
  postOrder,
  tierOrder,
} from './repository.js';
import type {
  CampaignDetail,
  ListCampaignsQuery,
  ListPostsQuery,
  ListTiersQuery,
} from './schemas.js';
import {
  money,
  toBenefitView,
  toCampaignView,
  toGoalView,
  toMemberView,
  toPledgeEventView,
  toPostView,
  toTierView,
} from './views.js';

/** Campaigns in id order. */
const campaignCursor = cursorCodec('campaigns', [cursorParts.text]);

/** Read API over what the sync stored: campaigns, tiers, members, posts and pledge events. */
export function createCampaignsService(deps: { db: Db }) {
  const { db } = deps;

  async function campaignOrThrow(id: string) {
    const campaign = await findCampaign(db, id);
    if (!campaign) throw new CampaignNotFoundError(`No campaign ${id}.`);
    return campaign;
  }

  const after = (order: KeysetOrder, cursor: string | undefined) =>
    cursor === undefined ? undefined : decodePosition(order, cursor);

  return {
    /** Throws CAMPAIGN_NOT_FOUND unless the campaign is synced here. */
    requireCampaign: campaignOrThrow,

    async list(query: ListCampaignsQuery) {
      const { limit, cursor, ...filter } = query;
      const last = cursor === undefined ? undefined : campaignCursor.decode(cursor)[0];
      const rows = await listCampaigns(db, filter, { limit: limit + 1, after: last });
      return toPage(rows, limit, (row) => campaignCursor.encode([row.id]), toCampaignView);
    },

    async get(id: string): Promise<CampaignDetail> {
      const campaign = await campaignOrThrow(id);
      const [tiers, benefits, goals] = await Promise.all([
        listCurrentTiers(db, id),
        listCurrentBenefits(db, id),
        listCurrentGoals(db, id),
      ]);
      return {
        ...toCampaignView(campaign),
        tiers: tiers.map(toTierView),
        benefits: benefits.map(toBenefitView),
        goals: goals.map(toGoalView),
      };
    },

    async listTiers(campaignId: string, query: ListTiersQuery) {
      const { limit, cursor, includeDeleted } = query;
      const position = after(tierOrder, cursor);
      await campaignOrThrow(campaignId);
      const rows = await listTiers(
        db,
        campaignId,
        { includeDeleted },
        { limit: limit + 1, after: position },
      );
      return toPage(
        rows,
        limit,
        (row) => positionCursorOf(tierOrder, row.sortKey, row.tier.id),
        (row) => toTierView(row.tier),
      );
    },

    async listMembers(campaignId: string, query: ListMembersQuery) {
      const { limit, cursor, sort, ...filter } = query;
      const order = memberOrders[sort];
      const position = after(order, cursor);
      const campaign = await campaignOrThrow(campaignId);
      const rows = await listMembers(db, campaignId, filter, {
        order,
        limit: limit + 1,
        after: position,
      });
      const tierIds = await entitledTierIds(
        db,
        rows.slice(0, limit).map((row) => row.member.id),
      );
      return toPage(
        rows,
        limit,
        (row) => positionCursorOf(order, row.sortKey, row.member.id),
        (row) => toMemberView(row, tierIds.get(row.member.id) ?? [], campaign.currency),
      );
    },

    async getMember(id: string): Promise<MemberDetail> {
      const row = await findMember(db, id);
      if (!row) throw new MemberNotFoundError(`No member ${id}.`);
      const [tiers, history] = await Promise.all([
        entitledTiers(db, id),
        memberPledgeHistory(db, id, MEMBER_HISTORY_LIMIT + 1),
      ]);
      const { entitledTierIds: _ids, ...view } = toMemberView(
        row,
        tiers.map((tier) => tier.id),
        row.campaignCurrency,
      );
      return {
        ...view,
        entitledTiers: tiers.map((tier) => ({
          id: tier.id,
          title: tier.title,
          amount: money(tier.amountCents, tier.currency),
        })),
        pledgeHistory: history.slice(0, MEMBER_HISTORY_LIMIT).map(toPledgeEventView),
        pledgeHistoryTruncated: history.length > MEMBER_HISTORY_LIMIT,
      };
    },

    async listPosts(campaignId: string, query: ListPostsQuery) {
      const { limit, cursor, includeDeleted } = query;
      const position = after(postOrder, cursor);
      await campaignOrThrow(campaignId);
      const rows = await listPosts(
        db,
        campaignId,
        { includeDeleted },
        { limit: limit + 1, after: position },
      );
      return toPage(
        rows,
        limit,
        (row) => positionCursorOf(postOrder, row.sortKey, row.post.id),
        (row) => toPostView(row.post),
      );
    },

    async listPledgeEvents(campaignId: string, query: ListPledgeEventsQuery) {
      const { limit, cursor, ...filter } = query;
      const position = after(pledgeEventOrder, cursor);
      await campaignOrThrow(campaignId);
      const rows = await listPledgeEvents(db, campaignId, filter, {
        limit: limit + 1,
        after: position,
      });
      return toPage(
        rows,
        limit,
        (row) => positionCursorOf(pledgeEventOrder, row.sortKey, row.event.id),
        (row) => toPledgeEventView(row.event),
      );
    },
  };
}

export type CampaignsService = ReturnType<typeof createCampaignsService>;
