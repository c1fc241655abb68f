import { and, eq, inArray, sql } from 'drizzle-orm';
import type { FastifyBaseLogger } from 'fastify';
import type { TokenVault } from '../connections/token-vault.js';
import type { Db, DbOrTx } from '../db/database.js';
import {
  patreonWebhooks,
  posts,
  type WebhookEventResult,
  webhookEvents,
} from '../db/schema/index.js';
import { upsertRows } from '../db/upsert.js';
import { recordEvent } from '../events/record-event.js';
import type { EntitlementReview } from '../members/entitlement-review.js';
import type { Metrics } from '../metrics/metrics.js';
import type { PatreonClient } from '../patreon/client.js';
import { isPatreonError } from '../patreon/errors.js';
import { decodeOne } from '../patreon/json-api.js';
import type { Post } from '../patreon/resources.js';
import { storedError } from '../shared/stored-error.js';
import { defined, postRow } from '../sync/resource-rows.js';
import {
  applyMemberDeliveries,
  type Confirmation,
  decodeDelivery,
  type MemberDelivery,
  PermanentApplyError,
} from './member-batch.js';
import {
  findNewerAppliedPostEvent,
  findPost,
  findPostState,
  insertDeletedPost,
  markPostDeleted,
} from './repository.js';
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
  receivedAt: Date;
  /** The same bytes as an earlier delivery of the resource that another one followed. */
  repeatsEarlier: boolean;
};

const APPLY_LOCK = 'patreon-gateway:webhook-apply';

/** What is stored for a failure that is not ours to name (a database or runtime error). */
const APPLY_FAILED = {
  code: 'APPLY_FAILED',
  message: 'Applying the delivery failed; the service log has the cause under this event id.',
};

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
  /** The member pipeline's entitlement review, run in each batch's transaction. */
  entitlements: EntitlementReview;
  log: FastifyBaseLogger;
  batchSize: number;
  maxAttempts: number;
  pollMs: number;
  /**
   * True while deliveries are being stored: applying then waits (up to `yieldMs` per batch) so
   * that answering Patreon quickly comes first; stored events are applied once the burst eases.
   */
  ingestBusy?: () => boolean;
  yieldMs?: number;
  /** The batch size while deliveries are being stored: a batch holds the event loop meanwhile. */
  busyBatchSize?: number;
  metrics?: Pick<Metrics, 'webhookApplied'>;
}) {
  const { db } = deps;
  let running: Promise<void> | undefined;
  let again = false;
  let closed = false;
  let retryTimer: NodeJS.Timeout | undefined;
  const poll = setInterval(() => notify(), deps.pollMs);
  poll.unref();

  /** Until when another instance holds the apply lock (as far as we last saw). */
  let lockedOutUntil = 0;

  function later(ms: number) {
    if (retryTimer || closed) return;
    retryTimer = setTimeout(() => {
      retryTimer = undefined;
      notify();
    }, ms);
    retryTimer.unref();
  }

  function notify() {
    if (closed) return;
    if (running) {
      again = true;
      return;
    }
    // Another instance is applying: look again shortly, not on every delivery stored meanwhile.
    const wait = lockedOutUntil - Date.now();
    if (wait > 0) {
      later(wait);
      return;
    }
    running = (async () => {
      do {
        again = false;
        try {
          await yieldToIngest();
          const outcome = await applyBatch();
          if (outcome === 'busy') {
            lockedOutUntil = Date.now() + 200;
            later(200);
            break;
          }
          if (outcome > 0) again = true;
        } catch (error) {
          if (!closed) deps.log.warn({ err: error }, 'applying webhook events failed; will retry');
        }
      } while (again && !closed);
    })().finally(() => {
      running = undefined;
    });
  }

  async function yieldToIngest() {
    const until = Date.now() + (deps.yieldMs ?? 0);
    while (deps.ingestBusy?.() && Date.now() < until && !closed) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
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
      received_at: string;
      repeats_earlier: boolean;
    }>(sql`
      select e.id, e.event, e.body, e.resource_type, e.resource_id, e.attempts,
             w.campaign_id, w.connection_id, to_json(e.received_at)#>>'{}' as received_at,
             exists (
               select 1 from ${webhookEvents} p
               where p.resource_type = e.resource_type and p.resource_id = e.resource_id
                 and p.id < e.id and p.webhook_id = e.webhook_id and p.dedupe_key = e.dedupe_key
             ) as repeats_earlier
      from ${webhookEvents} e join ${patreonWebhooks} w on w.id = e.webhook_id
      where e.status = 'received' and (e.next_attempt_at is null or e.next_attempt_at <= now())
        and not exists (
          select 1 from ${webhookEvents} b
          where b.status = 'received' and b.resource_type = e.resource_type
            and b.resource_id = e.resource_id and b.id < e.id and b.next_attempt_at > now())
      order by e.id limit ${deps.ingestBusy?.() ? (deps.busyBatchSize ?? deps.batchSize) : deps.batchSize}`);
    return rows.rows.map((row) => ({
      id: Number(row.id),
      event: row.event,
      body: row.body,
      resourceType: row.resource_type,
      resourceId: row.resource_id,
      attempts: row.attempts,
      campaignId: row.campaign_id,
      connectionId: row.connection_id,
      receivedAt: new Date(row.received_at),
      repeatsEarlier: row.repeats_earlier,
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

  /**
   * Patreon's deliveries carry no time, and `last_charge_date` orders two states only when it
   * moved. A member delivery that repeats the bytes of an earlier one after another delivery of
   * that member may be a change back or a late retry of old news: rather than guess, the member
   * is read from Patreon (once per member per batch, through the governor) and what Patreon says
   * now is applied. Without a connection to ask with, arrival order decides.
   */
  async function confirmAmbiguous(batch: Pending[]) {
    const confirmed = new Map<number, Confirmation>();
    const asked = new Map<string, Promise<Confirmation>>();
    for (const item of batch) {
      if (!item.repeatsEarlier || !isMemberTrigger(item.event) || !item.connectionId) continue;
      const memberId = item.resourceId as string;
      const connectionId = item.connectionId;
      let answer = asked.get(memberId);
      if (!answer) {
        answer = deps.vault
          .withAccessToken(connectionId, (credentials) =>
            deps.patreon.member(credentials, memberId),
          )
          .then(
            (member): Confirmation => ({ member }),
            (error: unknown): Confirmation =>
              isPatreonError(error, 'PATREON_NOT_FOUND') ? 'gone' : (error as Error),
          );
        asked.set(memberId, answer);
      }
      confirmed.set(item.id, await answer);
    }
    return confirmed;
  }

  async function applyBatch(): Promise<number | 'busy'> {
    const batch = await due();
    if (batch.length === 0) return 0;
    const fetched = await fetchThinPosts(batch);
    const confirmed = await confirmAmbiguous(batch);
    let lags: number[] = [];
    const outcome = await db.transaction(async (tx) => {
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
      const live = batch.filter((item) => still.has(item.id));
      const outcomes = new Map<number, WebhookEventResult | Error>();
      // Members: the whole batch in a few statements; if that fails, one by one (so one bad
      // delivery holds back only its own member, and the others still apply).
      const blocked = new Set<string>();
      const memberItems: (Pending & MemberDelivery)[] = [];
      for (const item of live) {
        if (!isMemberTrigger(item.event)) continue;
        const resource = `${item.resourceType}:${item.resourceId}`;
        if (blocked.has(resource)) continue;
        const confirmation = confirmed.get(item.id);
        if (confirmation instanceof Error) {
          // Patreon could not be asked: retried later, the member's later deliveries wait.
          outcomes.set(item.id, confirmation);
          blocked.add(resource);
        } else {
          memberItems.push({ ...item, confirmed: confirmation });
        }
      }
      if (memberItems.length > 0) {
        try {
          const results = await tx.transaction((savepoint) =>
            applyMemberDeliveries(savepoint, memberItems, deps.entitlements),
          );
          for (const [id, result] of results) outcomes.set(id, result);
        } catch {
          for (const item of memberItems) {
            if (blocked.has(`${item.resourceType}:${item.resourceId}`)) continue;
            try {
              const results = await tx.transaction((savepoint) =>
                applyMemberDeliveries(savepoint, [item], deps.entitlements),
              );
              outcomes.set(item.id, results.get(item.id) as WebhookEventResult);
            } catch (error) {
              outcomes.set(item.id, error as Error);
              blocked.add(`${item.resourceType}:${item.resourceId}`);
            }
          }
        }
      }
      for (const item of live) {
        if (isMemberTrigger(item.event)) continue;
        const resource = `${item.resourceType}:${item.resourceId}`;
        if (blocked.has(resource)) continue;
        try {
          outcomes.set(
            item.id,
            await tx.transaction(async (savepoint) => {
              const thin = fetched.get(item.id);
              if (thin instanceof Error) throw thin;
              return applyPostDelivery(savepoint, item, thin);
            }),
          );
        } catch (error) {
          outcomes.set(item.id, error as Error);
          blocked.add(resource);
        }
      }

      const done: { id: number; status: 'applied' | 'ignored'; result: WebhookEventResult }[] = [];
      for (const item of live) {
        const outcome = outcomes.get(item.id);
        if (outcome === undefined) continue;
        if (!(outcome instanceof Error)) {
          done.push({
            id: item.id,
            status: outcome.ignored ? 'ignored' : 'applied',
            result: outcome,
          });
          continue;
        }
        const attempts = item.attempts + 1;
        const permanent = outcome instanceof PermanentApplyError || attempts >= deps.maxAttempts;
        const stored = storedError(outcome, APPLY_FAILED);
        // The cause (with any database text) is logged here, under the event id, and only here.
        deps.log.warn(
          { eventId: item.id, event: item.event, attempts, code: stored.code, err: outcome },
          permanent ? 'webhook event failed' : 'webhook event will be retried',
        );
        await tx
          .update(webhookEvents)
          .set({
            status: permanent ? 'failed' : 'received',
            attempts,
            errorCode: stored.code,
            lastError: stored.message,
            nextAttemptAt: permanent
              ? null
              : sql`now() + ${`${Math.min(300, 2 ** attempts)} seconds`}::interval`,
          })
          .where(eq(webhookEvents.id, item.id));
      }
      if (done.length > 0) {
        const applied = await tx.execute<{ lag: number }>(sql`
          update ${webhookEvents} e
          set status = u.status, result = u.result, attempts = e.attempts + 1,
              applied_at = now(), error_code = null, last_error = null, next_attempt_at = null
          from jsonb_to_recordset(${JSON.stringify(done)}::jsonb)
            as u(id bigint, status text, result jsonb)
          where e.id = u.id
          returning extract(epoch from e.applied_at - e.received_at)::float8 as lag`);
        lags = applied.rows.map((row) => Number(row.lag));
      }
      return batch.length;
    });
    deps.metrics?.webhookApplied(lags);
    return outcome;
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

async function applyPostDelivery(
  tx: DbOrTx,
  item: Pending,
  thinPost: Post | 'gone' | undefined,
): Promise<WebhookEventResult> {
  const sent = decodeDelivery(item.body, 'post');
  // A later delivery for the same post was applied already: this one is older news.
  const newer = await findNewerAppliedPostEvent(tx, sent.id, item.id);
  if (newer) return { changes: [], ignored: `superseded by event ${newer.id}` };
  const before = await findPostState(tx, sent.id);
  const deleted = item.event === 'posts:delete' || thinPost === 'gone';
  if (deleted) {
    if (before && !before.deletedAt) {
      await markPostDeleted(tx, sent.id);
    } else if (!before) {
      await insertDeletedPost(tx, sent.id, item.campaignId);
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
  const post = await findPost(tx, postId);
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
