import { and, eq, inArray, sql } from 'drizzle-orm';
import type { FastifyBaseLogger } from 'fastify';
import type { TokenVault } from '../connections/token-vault.js';
import type { Db, DbOrTx } from '../db/database.js';
import {
  campaigns,
  members,
  memberTiers,
  patreonUsers,
  patreonWebhooks,
  posts,
  tiers,
  type WebhookEventResult,
  webhookEvents,
} from '../db/schema/index.js';
import { upsertRows } from '../db/upsert.js';
import {
  type MembershipState,
  memberChanges,
  recordMemberChanges,
} from '../events/member-changes.js';
import { recordEvent } from '../events/record-event.js';
import type { PatreonClient } from '../patreon/client.js';
import { isPatreonError } from '../patreon/errors.js';
import { decodeOne } from '../patreon/json-api.js';
import type { Member, Post, User } from '../patreon/resources.js';
import { defined, memberRow, postRow, tierRow, userRow } from '../sync/resource-rows.js';
import { isMemberTrigger } from './triggers.js';

/** A stored delivery with what applying it needs. */
type Pending = {
  id: number;
  event: string;
  body: Buffer;
  resourceType: string | null;
  resourceId: string | null;
  attempts: number;
  campaignId: string;
  connectionId: string | null;
};

/** An event that cannot apply however often it is retried (e.g. a body that is not a member). */
class PermanentApplyError extends Error {}

const APPLY_LOCK = 'patreon-gateway:webhook-apply';

/**
 * Applies stored deliveries to our tables, in arrival order per member and per post. One
 * instance at a time applies (a transaction-scoped advisory lock), which keeps that order across
 * instances without per-resource locking; each event runs in a savepoint, so one that fails is
 * retried later (with the events after it for the same resource held back) without undoing the
 * others. Applying an event twice changes nothing: upserts are idempotent and host events are
 * keyed by the delivery.
 */
export function createWebhookApplier(deps: {
  db: Db;
  patreon: PatreonClient;
  vault: TokenVault;
  log: FastifyBaseLogger;
  batchSize: number;
  maxAttempts: number;
  pollMs: number;
}) {
  const { db } = deps;
  let running: Promise<void> | undefined;
  let again = false;
  let closed = false;
  let retryTimer: NodeJS.Timeout | undefined;
  const poll = setInterval(() => notify(), deps.pollMs);
  poll.unref();

  function notify() {
    if (closed) return;
    if (running) {
      again = true;
      return;
    }
    running = (async () => {
      do {
        again = false;
        try {
          const outcome = await applyBatch();
          if (outcome === 'busy') {
            // Another instance holds the lock; look again soon (it may have just finished).
            clearTimeout(retryTimer);
            retryTimer = setTimeout(() => notify(), 200);
            retryTimer.unref();
          } else if (outcome > 0) again = true;
        } catch (error) {
          if (!closed) deps.log.warn({ err: error }, 'applying webhook events failed; will retry');
        }
      } while (again && !closed);
    })().finally(() => {
      running = undefined;
    });
  }

  /** Due events, oldest first, skipping those behind an earlier event of theirs that waits. */
  async function due(): Promise<Pending[]> {
    const rows = await db.execute<{
      id: string;
      event: string;
      body: Buffer;
      resource_type: string | null;
      resource_id: string | null;
      attempts: number;
      campaign_id: string;
      connection_id: string | null;
    }>(sql`
      select e.id, e.event, e.body, e.resource_type, e.resource_id, e.attempts,
             w.campaign_id, w.connection_id
      from ${webhookEvents} e join ${patreonWebhooks} w on w.id = e.webhook_id
      where e.status = 'received' and (e.next_attempt_at is null or e.next_attempt_at <= now())
        and not exists (
          select 1 from ${webhookEvents} b
          where b.status = 'received' and b.resource_type = e.resource_type
            and b.resource_id = e.resource_id and b.id < e.id and b.next_attempt_at > now())
      order by e.id limit ${deps.batchSize}`);
    return rows.rows.map((row) => ({
      id: Number(row.id),
      event: row.event,
      body: row.body,
      resourceType: row.resource_type,
      resourceId: row.resource_id,
      attempts: row.attempts,
      campaignId: row.campaign_id,
      connectionId: row.connection_id,
    }));
  }

  /** Thin post payloads are completed from the API before the transaction (no call inside it). */
  async function fetchThinPosts(batch: Pending[]) {
    const fetched = new Map<number, Post | 'gone' | Error>();
    for (const item of batch) {
      if (!item.event.startsWith('posts:') || item.event === 'posts:delete') continue;
      let post: Post;
      try {
        post = decodeOne(JSON.parse(item.body.toString('utf8')), 'post', 'webhook');
      } catch {
        continue;
      }
      if (post.title !== undefined || post.publishedAt !== undefined) continue;
      if (!item.connectionId) continue;
      try {
        fetched.set(
          item.id,
          await deps.vault.withAccessToken(item.connectionId, (credentials) =>
            deps.patreon.post(credentials, post.id),
          ),
        );
      } catch (error) {
        fetched.set(
          item.id,
          isPatreonError(error, 'PATREON_NOT_FOUND') ? 'gone' : (error as Error),
        );
      }
    }
    return fetched;
  }

  async function applyBatch(): Promise<number | 'busy'> {
    const batch = await due();
    if (batch.length === 0) return 0;
    const fetched = await fetchThinPosts(batch);
    return db.transaction(async (tx) => {
      const [lock] = (
        await tx.execute<{ locked: boolean }>(
          sql`select pg_try_advisory_xact_lock(hashtext(${APPLY_LOCK})) as locked`,
        )
      ).rows;
      if (!lock?.locked) return 'busy' as const;
      // Another instance may have applied some of them since we read them.
      const still = new Set(
        (
          await tx
            .select({ id: webhookEvents.id })
            .from(webhookEvents)
            .where(
              and(
                inArray(
                  webhookEvents.id,
                  batch.map((item) => item.id),
                ),
                eq(webhookEvents.status, 'received'),
              ),
            )
        ).map((row) => row.id),
      );
      const blocked = new Set<string>();
      for (const item of batch) {
        if (!still.has(item.id)) continue;
        const resource = `${item.resourceType}:${item.resourceId}`;
        if (blocked.has(resource)) continue;
        try {
          const result = await tx.transaction(async (savepoint) => {
            const thin = fetched.get(item.id);
            if (thin instanceof Error) throw thin;
            return applyOne(savepoint, item, thin);
          });
          await tx
            .update(webhookEvents)
            .set({
              status: result.ignored ? 'ignored' : 'applied',
              attempts: item.attempts + 1,
              appliedAt: sql`now()`,
              result,
              lastError: null,
              nextAttemptAt: null,
            })
            .where(eq(webhookEvents.id, item.id));
        } catch (error) {
          const attempts = item.attempts + 1;
          const permanent = error instanceof PermanentApplyError || attempts >= deps.maxAttempts;
          if (!permanent) blocked.add(resource);
          deps.log.warn(
            { eventId: item.id, event: item.event, attempts, err: error },
            permanent ? 'webhook event failed' : 'webhook event will be retried',
          );
          await tx
            .update(webhookEvents)
            .set({
              status: permanent ? 'failed' : 'received',
              attempts,
              lastError: (error as Error).message.slice(0, 500),
              nextAttemptAt: permanent
                ? null
                : sql`now() + ${`${Math.min(300, 2 ** attempts)} seconds`}::interval`,
            })
            .where(eq(webhookEvents.id, item.id));
        }
      }
      return batch.length;
    });
  }

  return {
    notify,
    /** Waits for the current batch, then stops. */
    async close() {
      closed = true;
      clearInterval(poll);
      clearTimeout(retryTimer);
      await running;
    },
  };
}

async function applyOne(
  tx: DbOrTx,
  item: Pending,
  thinPost: Post | 'gone' | undefined,
): Promise<WebhookEventResult> {
  let document: unknown;
  try {
    document = JSON.parse(item.body.toString('utf8'));
  } catch {
    throw new PermanentApplyError('the body is not JSON');
  }
  // A later delivery for the same resource was applied already: this one is older news.
  const [newer] = await tx
    .select({ id: webhookEvents.id })
    .from(webhookEvents)
    .where(
      and(
        eq(webhookEvents.resourceType, item.resourceType ?? ''),
        eq(webhookEvents.resourceId, item.resourceId ?? ''),
        eq(webhookEvents.status, 'applied'),
        sql`${webhookEvents.id} > ${item.id}`,
      ),
    )
    .limit(1);
  if (newer) return { changes: [], ignored: `superseded by event ${newer.id}` };
  if (isMemberTrigger(item.event)) return applyMember(tx, item, document);
  return applyPost(tx, item, document, thinPost);
}

function decode<T extends 'member' | 'post'>(document: unknown, type: T) {
  try {
    return decodeOne(document, type, 'webhook');
  } catch (error) {
    throw new PermanentApplyError((error as Error).message);
  }
}

async function membershipState(tx: DbOrTx, id: string): Promise<MembershipState | undefined> {
  const [row] = await tx.select().from(members).where(eq(members.id, id));
  if (!row) return undefined;
  const links = await tx
    .select({ tierId: memberTiers.tierId })
    .from(memberTiers)
    .where(eq(memberTiers.memberId, id));
  return {
    id: row.id,
    campaignId: row.campaignId,
    userId: row.userId,
    patronStatus: row.patronStatus,
    lastChargeStatus: row.lastChargeStatus,
    lastChargeDate: row.lastChargeDate,
    nextChargeDate: row.nextChargeDate,
    pledgeCadence: row.pledgeCadence,
    currentlyEntitledAmountCents: row.currentlyEntitledAmountCents,
    currency: row.currency,
    tierIds: links.map((link) => link.tierId),
    deleted: row.deletedAt !== null,
  };
}

async function applyMember(
  tx: DbOrTx,
  item: Pending,
  document: unknown,
): Promise<WebhookEventResult> {
  const member = decode(document, 'member') as Member;
  const campaignId = member.campaign?.id ?? item.campaignId;
  if (campaignId !== item.campaignId) {
    throw new PermanentApplyError(
      `the member belongs to campaign ${campaignId}, not to this webhook's`,
    );
  }
  const before = await membershipState(tx, member.id);
  // Patreon's deliveries carry no timestamp; a charge older than the one we know is stale news.
  const known = before?.lastChargeDate?.getTime();
  const incoming = member.lastChargeDate?.getTime();
  if (known !== undefined && incoming !== undefined && incoming < known) {
    return { changes: [], ignored: 'older than the stored state (earlier last_charge_date)' };
  }

  const [campaign] = await tx
    .select({ currency: campaigns.currency })
    .from(campaigns)
    .where(eq(campaigns.id, campaignId));
  const currency = member.campaign?.currency ?? campaign?.currency ?? null;
  if (member.user) {
    await upsertRows(tx, patreonUsers, [defined(userRow(member.user as User))], {
      target: [patreonUsers.id],
    });
  }
  const entitled = member.currentlyEntitledTiers ?? [];
  const describedTiers = entitled.filter((tier) => tier.amountCents !== undefined);
  if (describedTiers.length > 0) {
    await upsertRows(
      tx,
      tiers,
      describedTiers.map((tier) => defined(tierRow(tier, campaignId))),
      { target: [tiers.id] },
    );
  }
  const deleted = item.event === 'members:delete';
  const row = defined({
    ...memberRow(member, campaignId, 'webhook', currency),
    deletedAt: deleted ? new Date() : null,
  });
  if (deleted && before?.deleted) {
    // Already tombstoned: keep the first deletion time.
    delete (row as { deletedAt?: unknown }).deletedAt;
  }
  await upsertRows(tx, members, [row], { target: [members.id] });
  if (member.currentlyEntitledTiers !== undefined) {
    const tierIds = entitled.map((tier) => tier.id);
    await tx
      .delete(memberTiers)
      .where(
        and(
          eq(memberTiers.memberId, member.id),
          tierIds.length > 0
            ? sql`${memberTiers.tierId} <> all(${sql.param(tierIds)}::text[])`
            : undefined,
        ),
      );
    if (tierIds.length > 0) {
      await tx
        .insert(memberTiers)
        .values(tierIds.map((tierId) => ({ memberId: member.id, tierId })))
        .onConflictDoNothing();
    }
  }
  const after = (await membershipState(tx, member.id)) as MembershipState;
  const changes = memberChanges(before, after);
  await recordMemberChanges(tx, {
    cause: `webhook:${item.id}`,
    connectionId: item.connectionId ?? undefined,
    before,
    after,
    changes,
  });
  return { changes };
}

async function applyPost(
  tx: DbOrTx,
  item: Pending,
  document: unknown,
  thinPost: Post | 'gone' | undefined,
): Promise<WebhookEventResult> {
  const sent = decode(document, 'post') as Post;
  const [before] = await tx
    .select({ id: posts.id, deletedAt: posts.deletedAt })
    .from(posts)
    .where(eq(posts.id, sent.id));
  const deleted = item.event === 'posts:delete' || thinPost === 'gone';
  if (deleted) {
    if (before && !before.deletedAt) {
      await tx
        .update(posts)
        .set({ deletedAt: sql`now()`, updatedAt: sql`now()` })
        .where(eq(posts.id, sent.id));
    } else if (!before) {
      await tx
        .insert(posts)
        .values({ id: sent.id, campaignId: item.campaignId, deletedAt: new Date() })
        .onConflictDoNothing();
    }
    if (!before || before.deletedAt) return { changes: [] };
    await recordPostEvent(tx, item, 'post.deleted', sent.id);
    return { changes: ['post_deleted'] };
  }
  const post = thinPost ?? sent;
  const written = await upsertRows(tx, posts, [defined(postRow(post, item.campaignId))], {
    target: [posts.id],
  });
  if (written === 0) return { changes: [] };
  const published = !before || before.deletedAt !== null;
  await recordPostEvent(tx, item, published ? 'post.published' : 'post.updated', post.id);
  return { changes: [published ? 'post_published' : 'post_updated'] };
}

async function recordPostEvent(
  tx: DbOrTx,
  item: Pending,
  type: 'post.published' | 'post.updated' | 'post.deleted',
  postId: string,
) {
  const [post] = await tx.select().from(posts).where(eq(posts.id, postId));
  await recordEvent(tx, {
    type,
    dedupeKey: `${type}:webhook:${item.id}:${postId}`,
    connectionId: item.connectionId ?? undefined,
    campaignId: item.campaignId,
    payload: {
      post: {
        id: postId,
        campaignId: item.campaignId,
        title: post?.title ?? null,
        url: post?.url ?? null,
        isPublic: post?.isPublic ?? null,
        isPaid: post?.isPaid ?? null,
        tierIds: post?.tierIds ?? [],
        publishedAt: post?.publishedAt?.toISOString() ?? null,
        deleted: post?.deletedAt != null,
      },
    },
  });
}

export type WebhookApplier = ReturnType<typeof createWebhookApplier>;
