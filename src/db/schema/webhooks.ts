import { sql } from 'drizzle-orm';
import {
  bigserial,
  boolean,
  customType,
  index,
  integer,
  jsonb,
  pgTable,
  text,
  uuid,
} from 'drizzle-orm/pg-core';
import { campaigns } from './campaigns.js';
import { primaryUuid, rowTimes, timestamptz } from './columns.js';
import { connections } from './connections.js';

const bytea = customType<{ data: Buffer; driverData: Buffer }>({
  dataType: () => 'bytea',
});

/**
 * A webhook we registered at Patreon for one campaign. Our own `id` is the unguessable path
 * segment of its URI (`/webhooks/patreon/{id}`); the secret Patreon returned is sealed like tokens.
 */
export const patreonWebhooks = pgTable(
  'patreon_webhooks',
  {
    id: primaryUuid(),
    patreonWebhookId: text('patreon_webhook_id').unique(),
    connectionId: uuid('connection_id').references(() => connections.id, {
      onDelete: 'set null',
    }),
    campaignId: text('campaign_id')
      .notNull()
      .references(() => campaigns.id, { onDelete: 'cascade' }),
    uri: text('uri').notNull(),
    triggers: text('triggers').array().notNull(),
    secretCiphertext: text('secret_ciphertext'),
    paused: boolean('paused').notNull().default(false),
    numConsecutiveTimesFailed: integer('num_consecutive_times_failed').notNull().default(0),
    lastAttemptedAt: timestamptz('last_attempted_at'),
    lastDeliveryAt: timestamptz('last_delivery_at'),
    lastReconciledAt: timestamptz('last_reconciled_at'),
    deletedAt: timestamptz('deleted_at'),
    ...rowTimes(),
  },
  (t) => [
    index('patreon_webhooks_campaign_id_idx').on(t.campaignId),
    index('patreon_webhooks_connection_id_idx').on(t.connectionId),
  ],
);

export type WebhookEventResult = { changes: string[]; ignored?: string };

export const webhookEventStatuses = ['received', 'applied', 'ignored', 'failed'] as const;
export type WebhookEventStatus = (typeof webhookEventStatuses)[number];

/**
 * Every verified delivery from Patreon, stored raw before we answer 2xx. The body is kept as the
 * exact bytes received. `dedupe_key` is a hash of webhook id + event + body: a delivery with the
 * key of the latest stored delivery of its resource on its webhook is a redelivery, counted on
 * that row and not stored again (src/webhooks/event-writer.ts); the same bytes after a different
 * delivery are news (a change back) and are stored.
 */
export const webhookEvents = pgTable(
  'webhook_events',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    webhookId: uuid('webhook_id')
      .notNull()
      .references(() => patreonWebhooks.id, { onDelete: 'cascade' }),
    event: text('event').notNull(),
    dedupeKey: text('dedupe_key').notNull(),
    body: bytea('body').notNull(),
    /** Member or post id read from the body, so events for one resource apply in arrival order. */
    resourceType: text('resource_type'),
    resourceId: text('resource_id'),
    status: text('status').$type<WebhookEventStatus>().notNull().default('received'),
    attempts: integer('attempts').notNull().default(0),
    /** After a failed attempt: not before this time (later events of the resource wait too). */
    nextAttemptAt: timestamptz('next_attempt_at'),
    /** Why it failed (or was refused at ingest): a stable code and a short message, no SQL. */
    errorCode: text('error_code'),
    lastError: text('last_error'),
    /** What applying it meant: the semantic changes derived, or why it was ignored. */
    result: jsonb('result').$type<WebhookEventResult>(),
    receivedAt: timestamptz('received_at').notNull().defaultNow(),
    duplicateCount: integer('duplicate_count').notNull().default(0),
    appliedAt: timestamptz('applied_at'),
  },
  (t) => [
    index('webhook_events_pending_idx').on(t.id).where(sql`${t.status} = 'received'`),
    index('webhook_events_webhook_id_received_at_idx').on(t.webhookId, t.receivedAt),
    index('webhook_events_resource_idx').on(t.resourceType, t.resourceId, t.id),
    // A delivery whose resource could not be read is deduplicated on its bytes alone.
    index('webhook_events_webhook_id_dedupe_key_idx').on(t.webhookId, t.dedupeKey),
  ],
);
