import { sql } from 'drizzle-orm';
import {
  boolean,
  index,
  integer,
  jsonb,
  pgTable,
  text,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
import { primaryUuid, rowTimes, timestamptz } from './columns.js';

/** A host endpoint that receives our Standard Webhooks-signed events. */
export const outboundEndpoints = pgTable('outbound_endpoints', {
  id: primaryUuid(),
  url: text('url').notNull(),
  description: text('description'),
  /** Event types delivered here; empty means all. */
  eventTypes: text('event_types').array().notNull().default([]),
  /** Signing secrets sealed by the token cipher; several during a rotation. */
  secretCiphertexts: text('secret_ciphertexts').array().notNull(),
  enabled: boolean('enabled').notNull().default(true),
  disabledReason: text('disabled_reason'),
  ...rowTimes(),
});

/** A normalised event, written in the same transaction as the change that caused it. */
export const outboundEvents = pgTable(
  'outbound_events',
  {
    id: primaryUuid(),
    type: text('type').notNull(),
    /** Stable idempotency key derived from the cause, so a replayed cause emits nothing new. */
    dedupeKey: text('dedupe_key').notNull().unique(),
    campaignId: text('campaign_id'),
    connectionId: uuid('connection_id'),
    externalUserId: text('external_user_id'),
    payload: jsonb('payload').$type<Record<string, unknown>>().notNull(),
    occurredAt: timestamptz('occurred_at').notNull(),
    createdAt: timestamptz('created_at').notNull().defaultNow(),
  },
  (t) => [
    index('outbound_events_created_at_idx').on(t.createdAt, t.id),
    index('outbound_events_type_created_at_idx').on(t.type, t.createdAt),
    index('outbound_events_campaign_id_idx').on(t.campaignId, t.createdAt),
  ],
);

export const deliveryStatuses = ['pending', 'delivered', 'failed', 'dead'] as const;
export type DeliveryStatus = (typeof deliveryStatuses)[number];

export const outboundDeliveries = pgTable(
  'outbound_deliveries',
  {
    id: primaryUuid(),
    eventId: uuid('event_id')
      .notNull()
      .references(() => outboundEvents.id, { onDelete: 'cascade' }),
    endpointId: uuid('endpoint_id')
      .notNull()
      .references(() => outboundEndpoints.id, { onDelete: 'cascade' }),
    status: text('status').$type<DeliveryStatus>().notNull().default('pending'),
    attempts: integer('attempts').notNull().default(0),
    nextAttemptAt: timestamptz('next_attempt_at').notNull().defaultNow(),
    lastAttemptAt: timestamptz('last_attempt_at'),
    lastStatusCode: integer('last_status_code'),
    lastError: text('last_error'),
    lastResponse: jsonb('last_response').$type<{
      headers?: Record<string, string>;
      body?: string;
    }>(),
    deliveredAt: timestamptz('delivered_at'),
    ...rowTimes(),
  },
  (t) => [
    uniqueIndex('outbound_deliveries_event_id_endpoint_id_key').on(t.eventId, t.endpointId),
    index('outbound_deliveries_due_idx')
      .on(t.nextAttemptAt)
      .where(sql`${t.status} in ('pending', 'failed')`),
    index('outbound_deliveries_endpoint_id_status_idx').on(t.endpointId, t.status, t.createdAt),
  ],
);
