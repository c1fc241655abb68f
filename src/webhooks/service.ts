import type { Db } from '../db/database.js';
import { cursorCodec, cursorParts } from '../shared/cursor.js';
import { CampaignNotFoundError } from '../shared/errors.js';
import { toPage } from '../shared/pagination.js';
import { NotACreatorCampaignError, WebhookEventNotFoundError } from './errors.js';
import type { WebhookRegistration } from './registration.js';
import {
  countDeliveries,
  findCampaignConnection,
  findWebhookEvent,
  listWebhookEvents,
  listWebhooks,
  resetWebhookEvent,
  type WebhookEventRow,
  type WebhookRow,
} from './repository.js';
import type {
  ListWebhookEventsQuery,
  ListWebhooksQuery,
  WebhookEventView,
  WebhookView,
} from './schemas.js';

const iso = (date: Date | null) => date?.toISOString() ?? null;

/** Deeper than any Patreon body; a deeper one would overflow the serialiser's stack. */
const PAYLOAD_DEPTH_MAX = 64;

/** Nesting depth of a JSON text, brackets inside strings not counted. */
function depthOf(text: string): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '{' || c === '[') deepest = Math.max(deepest, ++depth);
    else if (c === '}' || c === ']') depth--;
  }
  return deepest;
}

/** The body as JSON when it is JSON of a depth we can answer with, else as the text received. */
function payloadOf(body: Buffer): unknown {
  const text = body.toString('utf8');
  if (depthOf(text) > PAYLOAD_DEPTH_MAX) return text;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** Webhooks, newest first: (created_at, id). */
const webhookCursor = cursorCodec('webhooks', [cursorParts.timestamptz, cursorParts.uuid]);
/** Deliveries, newest first: their id. */
const webhookEventCursor = cursorCodec('webhook-events', [cursorParts.int8]);

/** The host's view of our Patreon webhooks and of what they delivered. */
export function createWebhookService(deps: {
  db: Db;
  registration: WebhookRegistration;
  notifyApplier: () => void;
}) {
  const { db } = deps;

  async function deliveryCounts(ids: string[]) {
    if (ids.length === 0)
      return new Map<string, WebhookView['deliveries'] & { last: Date | null }>();
    const rows = await countDeliveries(db, ids);
    return new Map(
      rows.map(({ webhookId, last, ...counts }) => [
        webhookId,
        { ...counts, last: last ? new Date(last) : null },
      ]),
    );
  }

  function eventView(row: WebhookEventRow, campaignId: string): WebhookEventView {
    return {
      id: String(row.id),
      webhookId: row.webhookId,
      campaignId,
      event: row.event as WebhookEventView['event'],
      status: row.status,
      resource: { type: row.resourceType, id: row.resourceId },
      changes: row.result?.changes ?? [],
      ignoredReason: row.result?.ignored ?? null,
      attempts: row.attempts,
      lastError:
        row.errorCode === null ? null : { code: row.errorCode, message: row.lastError ?? '' },
      duplicateCount: row.duplicateCount,
      receivedAt: row.receivedAt.toISOString(),
      appliedAt: iso(row.appliedAt),
    };
  }

  async function findEvent(id: string) {
    const found = await findWebhookEvent(db, Number(id));
    if (!found) throw new WebhookEventNotFoundError(`No webhook event ${id}.`);
    return found;
  }

  return {
    async list(query: ListWebhooksQuery) {
      const rows = await listWebhooks(
        db,
        { campaignId: query.campaignId },
        {
          limit: query.limit + 1,
          after: query.cursor ? webhookCursor.decode(query.cursor) : undefined,
        },
      );
      const counts = await deliveryCounts(rows.map((row) => row.webhook.id));
      return toPage(
        rows,
        query.limit,
        (row) => webhookCursor.encode([row.key, row.webhook.id]),
        (row) => webhookView(row.webhook, counts.get(row.webhook.id)),
      );
    },

    /** Reconciles the campaign's webhook at Patreon now (see WebhookRegistration). */
    async reconcileCampaign(campaignId: string) {
      const campaign = await findCampaignConnection(db, campaignId);
      if (!campaign) throw new CampaignNotFoundError(`No campaign ${campaignId}.`);
      if (!campaign.connectionId) {
        throw new NotACreatorCampaignError(
          `Campaign ${campaignId} has no creator connection to register webhooks with.`,
        );
      }
      return deps.registration.reconcile(campaign.connectionId, campaignId);
    },

    async listEvents(query: ListWebhookEventsQuery) {
      const rows = await listWebhookEvents(
        db,
        { status: query.status, event: query.event, campaignId: query.campaignId },
        {
          limit: query.limit + 1,
          after: query.cursor ? Number(webhookEventCursor.decode(query.cursor)[0]) : undefined,
        },
      );
      const views = rows.map((row) => eventView(row.event, row.campaignId));
      return toPage(
        views,
        query.limit,
        (view) => webhookEventCursor.encode([view.id]),
        (view) => view,
      );
    },

    async getEvent(id: string) {
      const found = await findEvent(id);
      return { ...eventView(found.event, found.campaignId), payload: payloadOf(found.event.body) };
    },

    /** Applies the event again (from scratch: attempts reset). Re-applying changes nothing new. */
    async retryEvent(id: string) {
      await findEvent(id);
      await resetWebhookEvent(db, Number(id));
      deps.notifyApplier();
      const found = await findEvent(id);
      return eventView(found.event, found.campaignId);
    },
  };
}

function webhookView(
  row: WebhookRow,
  counts: (WebhookView['deliveries'] & { last: Date | null }) | undefined,
): WebhookView {
  return {
    id: row.id,
    campaignId: row.campaignId,
    connectionId: row.connectionId,
    patreonWebhookId: row.patreonWebhookId,
    uri: row.uri,
    triggers: row.triggers,
    paused: row.paused,
    numConsecutiveTimesFailed: row.numConsecutiveTimesFailed,
    lastAttemptedAt: iso(row.lastAttemptedAt),
    lastReconciledAt: iso(row.lastReconciledAt),
    lastDeliveryAt: iso(counts?.last ?? null),
    deliveries: {
      received: counts?.received ?? 0,
      applied: counts?.applied ?? 0,
      ignored: counts?.ignored ?? 0,
      failed: counts?.failed ?? 0,
      duplicates: counts?.duplicates ?? 0,
    },
    createdAt: row.createdAt.toISOString(),
  };
}

export type WebhookService = ReturnType<typeof createWebhookService>;
