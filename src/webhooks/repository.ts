import { and, desc, eq, inArray, isNull, lt, type SQL, sql } from 'drizzle-orm';
import type { DbOrTx } from '../db/database.js';
import { campaigns, patreonWebhooks, posts, webhookEvents } from '../db/schema/index.js';

export type WebhookRow = typeof patreonWebhooks.$inferSelect;
export type WebhookEventRow = typeof webhookEvents.$inferSelect;
export type PostRow = typeof posts.$inferSelect;
export type WebhookEventWithCampaign = { event: WebhookEventRow; campaignId: string };
export type DeliveryCountRow = {
  webhookId: string;
  received: number;
  applied: number;
  ignored: number;
  failed: number;
  duplicates: number;
  last: string | null;
};

/** The sealed secret and campaign of a webhook, deleted or not. */
export async function findWebhookSecret(
  db: DbOrTx,
  id: string,
): Promise<{ secret: string | null; campaignId: string; deletedAt: Date | null } | undefined> {
  const [row] = await db
    .select({
      secret: patreonWebhooks.secretCiphertext,
      campaignId: patreonWebhooks.campaignId,
      deletedAt: patreonWebhooks.deletedAt,
    })
    .from(patreonWebhooks)
    .where(eq(patreonWebhooks.id, id));
  return row;
}

/** Live webhooks, newest first; `after` is the (created_at, id) key of the previous page's last row. */
export async function listWebhooks(
  db: DbOrTx,
  filter: { campaignId?: string },
  page: { limit: number; after: [string, string] | undefined },
): Promise<Array<{ webhook: WebhookRow; key: string }>> {
  const where: SQL[] = [isNull(patreonWebhooks.deletedAt)];
  if (filter.campaignId) where.push(eq(patreonWebhooks.campaignId, filter.campaignId));
  if (page.after) {
    const [createdAt, id] = page.after;
    where.push(
      sql`(${patreonWebhooks.createdAt}, ${patreonWebhooks.id}) < (${createdAt}::timestamptz, ${id}::uuid)`,
    );
  }
  return db
    .select({ webhook: patreonWebhooks, key: sql<string>`${patreonWebhooks.createdAt}::text` })
    .from(patreonWebhooks)
    .where(and(...where))
    .orderBy(desc(patreonWebhooks.createdAt), desc(patreonWebhooks.id))
    .limit(page.limit);
}

/** Deliveries per status, duplicates and the last arrival, for each of the webhooks (not empty). */
export async function countDeliveries(
  db: DbOrTx,
  webhookIds: string[],
): Promise<DeliveryCountRow[]> {
  return db
    .select({
      webhookId: webhookEvents.webhookId,
      received: sql<number>`count(*) filter (where ${webhookEvents.status} = 'received')::int`,
      applied: sql<number>`count(*) filter (where ${webhookEvents.status} = 'applied')::int`,
      ignored: sql<number>`count(*) filter (where ${webhookEvents.status} = 'ignored')::int`,
      failed: sql<number>`count(*) filter (where ${webhookEvents.status} = 'failed')::int`,
      duplicates: sql<number>`coalesce(sum(${webhookEvents.duplicateCount}), 0)::int`,
      last: sql<string | null>`max(${webhookEvents.receivedAt})`,
    })
    .from(webhookEvents)
    .where(inArray(webhookEvents.webhookId, webhookIds))
    .groupBy(webhookEvents.webhookId);
}

/** The creator connection of a campaign that exists (null: none). */
export async function findCampaignConnection(
  db: DbOrTx,
  campaignId: string,
): Promise<{ connectionId: string | null } | undefined> {
  const [row] = await db
    .select({ connectionId: campaigns.connectionId })
    .from(campaigns)
    .where(and(eq(campaigns.id, campaignId), isNull(campaigns.deletedAt)));
  return row;
}

/** Ids of the campaigns that exist of a creator connection. */
export async function listConnectionCampaignIds(
  db: DbOrTx,
  connectionId: string,
): Promise<Array<{ id: string }>> {
  return db
    .select({ id: campaigns.id })
    .from(campaigns)
    .where(and(eq(campaigns.connectionId, connectionId), isNull(campaigns.deletedAt)));
}

/** Deliveries with their webhook's campaign, newest first; `after` is the previous page's last id. */
export async function listWebhookEvents(
  db: DbOrTx,
  filter: { status?: WebhookEventRow['status']; event?: string; campaignId?: string },
  page: { limit: number; after: number | undefined },
): Promise<WebhookEventWithCampaign[]> {
  const where: SQL[] = [];
  if (filter.status) where.push(eq(webhookEvents.status, filter.status));
  if (filter.event) where.push(eq(webhookEvents.event, filter.event));
  if (filter.campaignId) where.push(eq(patreonWebhooks.campaignId, filter.campaignId));
  if (page.after !== undefined) where.push(lt(webhookEvents.id, page.after));
  return db
    .select({ event: webhookEvents, campaignId: patreonWebhooks.campaignId })
    .from(webhookEvents)
    .innerJoin(patreonWebhooks, eq(patreonWebhooks.id, webhookEvents.webhookId))
    .where(and(...where))
    .orderBy(desc(webhookEvents.id))
    .limit(page.limit);
}

/** One delivery with its webhook's campaign. */
export async function findWebhookEvent(
  db: DbOrTx,
  id: number,
): Promise<WebhookEventWithCampaign | undefined> {
  const [row] = await db
    .select({ event: webhookEvents, campaignId: patreonWebhooks.campaignId })
    .from(webhookEvents)
    .innerJoin(patreonWebhooks, eq(patreonWebhooks.id, webhookEvents.webhookId))
    .where(eq(webhookEvents.id, id));
  return row;
}

/** Puts a delivery back to be applied from scratch (attempts and error cleared). */
export async function resetWebhookEvent(db: DbOrTx, id: number): Promise<void> {
  await db
    .update(webhookEvents)
    .set({
      status: 'received',
      attempts: 0,
      nextAttemptAt: null,
      errorCode: null,
      lastError: null,
    })
    .where(eq(webhookEvents.id, id));
}

/** The oldest live webhook row of a campaign. */
export async function findCampaignWebhook(
  db: DbOrTx,
  campaignId: string,
): Promise<WebhookRow | undefined> {
  const [row] = await db
    .select()
    .from(patreonWebhooks)
    .where(and(eq(patreonWebhooks.campaignId, campaignId), isNull(patreonWebhooks.deletedAt)))
    .orderBy(patreonWebhooks.createdAt)
    .limit(1);
  return row;
}

/** A webhook row before Patreon has one (no Patreon id, no secret). */
export async function insertWebhook(
  db: DbOrTx,
  values: Pick<
    typeof patreonWebhooks.$inferInsert,
    'id' | 'connectionId' | 'campaignId' | 'uri' | 'triggers'
  >,
): Promise<void> {
  await db.insert(patreonWebhooks).values(values);
}

/** What Patreon now says of a webhook, stamped as reconciled now. */
export async function updateReconciledWebhook(
  db: DbOrTx,
  id: string,
  state: Pick<
    typeof patreonWebhooks.$inferInsert,
    | 'patreonWebhookId'
    | 'connectionId'
    | 'uri'
    | 'triggers'
    | 'secretCiphertext'
    | 'paused'
    | 'numConsecutiveTimesFailed'
    | 'lastAttemptedAt'
  >,
): Promise<void> {
  await db
    .update(patreonWebhooks)
    .set({ ...state, lastReconciledAt: sql`now()`, updatedAt: sql`now()` })
    .where(eq(patreonWebhooks.id, id));
}

/** An applied delivery of the post later than `afterEventId` (the first found). */
export async function findNewerAppliedPostEvent(
  db: DbOrTx,
  postId: string,
  afterEventId: number,
): Promise<{ id: number } | undefined> {
  const [row] = await db
    .select({ id: webhookEvents.id })
    .from(webhookEvents)
    .where(
      and(
        eq(webhookEvents.resourceType, 'post'),
        eq(webhookEvents.resourceId, postId),
        eq(webhookEvents.status, 'applied'),
        sql`${webhookEvents.id} > ${afterEventId}`,
      ),
    )
    .limit(1);
  return row;
}

/** Whether we have the post, and whether it is deleted. */
export async function findPostState(
  db: DbOrTx,
  id: string,
): Promise<{ id: string; deletedAt: Date | null } | undefined> {
  const [row] = await db
    .select({ id: posts.id, deletedAt: posts.deletedAt })
    .from(posts)
    .where(eq(posts.id, id));
  return row;
}

export async function findPost(db: DbOrTx, id: string): Promise<PostRow | undefined> {
  const [row] = await db.select().from(posts).where(eq(posts.id, id));
  return row;
}

/** Marks a post we have as deleted now. */
export async function markPostDeleted(db: DbOrTx, id: string): Promise<void> {
  await db
    .update(posts)
    .set({ deletedAt: sql`now()`, updatedAt: sql`now()` })
    .where(eq(posts.id, id));
}

/** Remembers a post we never had as deleted (a row that exists already is left alone). */
export async function insertDeletedPost(db: DbOrTx, id: string, campaignId: string): Promise<void> {
  await db.insert(posts).values({ id, campaignId, deletedAt: new Date() }).onConflictDoNothing();
}
