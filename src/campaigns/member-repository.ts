import { and, asc, desc, eq, inArray, isNotNull, isNull, type SQL, sql } from 'drizzle-orm';
import type { DbOrTx } from '../db/database.js';
import {
  campaigns,
  members,
  memberTiers,
  patreonUsers,
  pledgeEvents,
  tiers,
} from '../db/schema/index.js';
import { type KeysetOrder, type KeysetPosition, keysetPage, sortKeyText } from './keyset.js';
import type { ListMembersQuery, ListPledgeEventsQuery, MemberSort } from './member-schemas.js';

export type MemberRow = {
  member: typeof members.$inferSelect;
  /** null when the member has no user or the user row is missing. */
  user: { id: string; fullName: string | null; email: string | null } | null;
};
export type PledgeEventRow = typeof pledgeEvents.$inferSelect;

/**
 * Each order is served by a `members (campaign_id, <column>, id)` index, read forwards or
 * backwards; members without the value come last (see keyset.ts).
 */
export const memberOrders: Record<MemberSort, KeysetOrder> = {
  updatedAt: order('updatedAt', members.updatedAt, 'timestamptz', 'asc', false),
  '-updatedAt': order('-updatedAt', members.updatedAt, 'timestamptz', 'desc', false),
  pledgeRelationshipStart: order(
    'pledgeRelationshipStart',
    members.pledgeRelationshipStart,
    'timestamptz',
    'asc',
    true,
  ),
  '-pledgeRelationshipStart': order(
    '-pledgeRelationshipStart',
    members.pledgeRelationshipStart,
    'timestamptz',
    'desc',
    true,
  ),
  fullName: order('fullName', members.fullName, 'text', 'asc', true),
};

function order(
  name: string,
  column: KeysetOrder['column'],
  type: KeysetOrder['type'],
  direction: KeysetOrder['direction'],
  nullable: boolean,
): KeysetOrder {
  return { name, column, id: members.id, type, direction, nullable };
}

const memberColumns = {
  member: members,
  user: { id: patreonUsers.id, fullName: patreonUsers.fullName, email: patreonUsers.email },
};

export async function listMembers(
  db: DbOrTx,
  campaignId: string,
  filter: Omit<ListMembersQuery, 'limit' | 'cursor' | 'sort'>,
  page: { order: KeysetOrder; limit: number; after: KeysetPosition | undefined },
): Promise<Array<MemberRow & { sortKey: string | null }>> {
  const where: SQL[] = [eq(members.campaignId, campaignId)];
  if (!filter.includeDeleted) where.push(isNull(members.deletedAt));
  if (filter.patronStatus === 'follower') where.push(isNull(members.patronStatus));
  else if (filter.patronStatus) where.push(eq(members.patronStatus, filter.patronStatus));
  if (filter.lastChargeStatus) where.push(eq(members.lastChargeStatus, filter.lastChargeStatus));
  // Served by the expression index on (campaign_id, lower(email)).
  if (filter.email) {
    where.push(isNotNull(members.email), sql`lower(${members.email}) = lower(${filter.email})`);
  }
  if (filter.updatedSince) {
    where.push(sql`${members.updatedAt} >= ${filter.updatedSince}::timestamptz`);
  }
  if (filter.tierId) {
    where.push(
      inArray(
        members.id,
        db
          .select({ id: memberTiers.memberId })
          .from(memberTiers)
          .where(eq(memberTiers.tierId, filter.tierId)),
      ),
    );
  }
  return keysetPage(page.order, page.after, page.limit, (keyset, orderBy, limit) =>
    db
      .select({ ...memberColumns, sortKey: sortKeyText(page.order) })
      .from(members)
      .leftJoin(patreonUsers, eq(patreonUsers.id, members.userId))
      .where(and(...where, keyset))
      .orderBy(...orderBy)
      .limit(limit),
  );
}

export async function findMember(
  db: DbOrTx,
  id: string,
): Promise<(MemberRow & { campaignCurrency: string | null }) | undefined> {
  const [row] = await db
    .select({ ...memberColumns, campaignCurrency: campaigns.currency })
    .from(members)
    .innerJoin(campaigns, eq(campaigns.id, members.campaignId))
    .leftJoin(patreonUsers, eq(patreonUsers.id, members.userId))
    .where(eq(members.id, id));
  return row;
}

/** Entitled tier ids of a whole page of members, in one query. */
export async function entitledTierIds(
  db: DbOrTx,
  memberIds: string[],
): Promise<Map<string, string[]>> {
  const byMember = new Map<string, string[]>();
  if (memberIds.length === 0) return byMember;
  const rows = await db
    .select()
    .from(memberTiers)
    .where(inArray(memberTiers.memberId, memberIds))
    .orderBy(asc(memberTiers.memberId), asc(memberTiers.tierId));
  for (const { memberId, tierId } of rows) {
    const ids = byMember.get(memberId) ?? [];
    ids.push(tierId);
    byMember.set(memberId, ids);
  }
  return byMember;
}

/** A member's entitled tiers; a tier sync has not seen yet comes without title or amount. */
export async function entitledTiers(db: DbOrTx, memberId: string) {
  return db
    .select({
      id: memberTiers.tierId,
      title: tiers.title,
      amountCents: tiers.amountCents,
      currency: tiers.currency,
    })
    .from(memberTiers)
    .leftJoin(tiers, eq(tiers.id, memberTiers.tierId))
    .where(eq(memberTiers.memberId, memberId))
    .orderBy(sql`${tiers.amountCents} asc nulls last`, asc(memberTiers.tierId));
}

/** Newest first, served by `pledge_events (member_id, date)`. */
export async function memberPledgeHistory(
  db: DbOrTx,
  memberId: string,
  limit: number,
): Promise<PledgeEventRow[]> {
  return db
    .select()
    .from(pledgeEvents)
    .where(eq(pledgeEvents.memberId, memberId))
    .orderBy(desc(pledgeEvents.date), desc(pledgeEvents.id))
    .limit(limit);
}

export const pledgeEventOrder: KeysetOrder = {
  name: '-date',
  column: pledgeEvents.date,
  id: pledgeEvents.id,
  type: 'timestamptz',
  direction: 'desc',
  nullable: false,
};

/**
 * Newest first. Served by `pledge_events (campaign_id, date)`, or with a filter by
 * `(campaign_id, type, date)`, `(campaign_id, tier_id, date)` or `(member_id, date)`.
 */
export async function listPledgeEvents(
  db: DbOrTx,
  campaignId: string,
  filter: Omit<ListPledgeEventsQuery, 'limit' | 'cursor'>,
  page: { limit: number; after: KeysetPosition | undefined },
): Promise<Array<{ event: PledgeEventRow; sortKey: string | null }>> {
  const where: SQL[] = [eq(pledgeEvents.campaignId, campaignId)];
  if (filter.type) where.push(eq(pledgeEvents.type, filter.type));
  if (filter.tierId) where.push(eq(pledgeEvents.tierId, filter.tierId));
  if (filter.memberId) where.push(eq(pledgeEvents.memberId, filter.memberId));
  if (filter.from) where.push(sql`${pledgeEvents.date} >= ${filter.from}::timestamptz`);
  if (filter.to) where.push(sql`${pledgeEvents.date} < ${filter.to}::timestamptz`);
  return keysetPage(pledgeEventOrder, page.after, page.limit, (keyset, orderBy, limit) =>
    db
      .select({ event: pledgeEvents, sortKey: sortKeyText(pledgeEventOrder) })
      .from(pledgeEvents)
      .where(and(...where, keyset))
      .orderBy(...orderBy)
      .limit(limit),
  );
}
