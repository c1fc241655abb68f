import { and, asc, eq, gt, isNull, type SQL, sql } from 'drizzle-orm';
import type { DbOrTx } from '../db/database.js';
import { benefits, campaigns, goals, posts, tierBenefits, tiers } from '../db/schema/index.js';
import { type KeysetOrder, type KeysetPosition, keysetPage, sortKeyText } from './keyset.js';
import type { ListCampaignsQuery } from './schemas.js';

export type CampaignRow = typeof campaigns.$inferSelect;
export type TierRow = typeof tiers.$inferSelect;
export type GoalRow = typeof goals.$inferSelect;
export type BenefitRow = typeof benefits.$inferSelect & { tierIds: string[] };
export type PostRow = typeof posts.$inferSelect;

/** By id; `after` is the last id of the previous page. */
export async function listCampaigns(
  db: DbOrTx,
  filter: Omit<ListCampaignsQuery, 'limit' | 'cursor'>,
  page: { limit: number; after: string | undefined },
): Promise<CampaignRow[]> {
  const where: SQL[] = [];
  if (!filter.includeDeleted) where.push(isNull(campaigns.deletedAt));
  if (filter.connectionId) where.push(eq(campaigns.connectionId, filter.connectionId));
  if (page.after !== undefined) where.push(gt(campaigns.id, page.after));
  return db
    .select()
    .from(campaigns)
    .where(and(...where))
    .orderBy(asc(campaigns.id))
    .limit(page.limit);
}

export async function findCampaign(db: DbOrTx, id: string): Promise<CampaignRow | undefined> {
  const [row] = await db.select().from(campaigns).where(eq(campaigns.id, id));
  return row;
}

/** Cheapest first, served by `tiers (campaign_id, amount_cents)`. */
export const tierOrder: KeysetOrder = {
  name: 'amount',
  column: tiers.amountCents,
  id: tiers.id,
  type: 'integer',
  direction: 'asc',
  nullable: true,
};

export async function listTiers(
  db: DbOrTx,
  campaignId: string,
  filter: { includeDeleted: boolean },
  page: { limit: number; after: KeysetPosition | undefined },
): Promise<Array<{ tier: TierRow; sortKey: string | null }>> {
  const where = and(
    eq(tiers.campaignId, campaignId),
    filter.includeDeleted ? undefined : isNull(tiers.deletedAt),
  );
  return keysetPage(tierOrder, page.after, page.limit, (keyset, orderBy, limit) =>
    db
      .select({ tier: tiers, sortKey: sortKeyText(tierOrder) })
      .from(tiers)
      .where(and(where, keyset))
      .orderBy(...orderBy)
      .limit(limit),
  );
}

/** Every current tier, cheapest first: a campaign has a handful. */
export async function listCurrentTiers(db: DbOrTx, campaignId: string): Promise<TierRow[]> {
  return db
    .select()
    .from(tiers)
    .where(and(eq(tiers.campaignId, campaignId), isNull(tiers.deletedAt)))
    .orderBy(sql`${tiers.amountCents} asc nulls last`, asc(tiers.id));
}

/** Benefits that exist, each with the current tiers that include it. */
export async function listCurrentBenefits(db: DbOrTx, campaignId: string): Promise<BenefitRow[]> {
  const rows = await db
    .select({
      benefit: benefits,
      tierIds: sql<
        string[]
      >`coalesce(array_agg(${tiers.id} order by ${tiers.id}) filter (where ${tiers.id} is not null), '{}')`,
    })
    .from(benefits)
    .leftJoin(tierBenefits, eq(tierBenefits.benefitId, benefits.id))
    .leftJoin(tiers, and(eq(tiers.id, tierBenefits.tierId), isNull(tiers.deletedAt)))
    .where(and(eq(benefits.campaignId, campaignId), isNull(benefits.deletedAt)))
    .groupBy(benefits.id)
    .orderBy(asc(benefits.id));
  return rows.map(({ benefit, tierIds }) => ({ ...benefit, tierIds }));
}

export async function listCurrentGoals(db: DbOrTx, campaignId: string): Promise<GoalRow[]> {
  return db
    .select()
    .from(goals)
    .where(and(eq(goals.campaignId, campaignId), isNull(goals.deletedAt)))
    .orderBy(asc(goals.amountCents), asc(goals.id));
}

/** Newest first, then unpublished posts; served by `posts (campaign_id, published_at, id)`. */
export const postOrder: KeysetOrder = {
  name: '-publishedAt',
  column: posts.publishedAt,
  id: posts.id,
  type: 'timestamptz',
  direction: 'desc',
  nullable: true,
};

export async function listPosts(
  db: DbOrTx,
  campaignId: string,
  filter: { includeDeleted: boolean },
  page: { limit: number; after: KeysetPosition | undefined },
): Promise<Array<{ post: PostRow; sortKey: string | null }>> {
  const where = and(
    eq(posts.campaignId, campaignId),
    filter.includeDeleted ? undefined : isNull(posts.deletedAt),
  );
  return keysetPage(postOrder, page.after, page.limit, (keyset, orderBy, limit) =>
    db
      .select({ post: posts, sortKey: sortKeyText(postOrder) })
      .from(posts)
      .where(and(where, keyset))
      .orderBy(...orderBy)
      .limit(limit),
  );
}
