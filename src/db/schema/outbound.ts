import { sql } from 'drizzle-orm';
import {
  bigint,
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
export const outboundEndpoints = pgTable(
  'outbound_endpoints',
  {
    id: primaryUuid(),
    url: text('url').notNull(),
    description: text('description'),
    /** Event types delivered here; empty means all. */
    eventTypes: text('event_types').array().notNull().default([]),
    /** Signing secrets sealed by the token cipher; several during a rotation. */
    secretCiphertexts: text('secret_ciphertexts').array().notNull(),
    /** Until then the older secrets still sign too (rotation overlap); null: only the first signs. */
    previousSecretsExpireAt: timestamptz('previous_secrets_expire_at'),
    /** `api` (managed through /v1/event-endpoints) or `config` (EVENTS_ENDPOINT_URL, one at most). */
    source: text('source').$type<EndpointSource>().notNull().default('api'),
    enabled: boolean('enabled').notNull().default(true),
    disabledReason: text('disabled_reason'),
    disabledAt: timestamptz('disabled_at'),
    /** First failed attempt since the last success; an endpoint failing too long is disabled. */
    failingSince: timestamptz('failing_since'),
    ...rowTimes(),
  },
  (t) => [
    uniqueIndex('outbound_endpoints_config_key').on(t.source).where(sql`${t.source} = 'config'`),
    index('outbound_endpoints_created_at_idx').on(t.createdAt, t.id),
  ],
);

export const endpointSources = ['api', 'config'] as const;
export type EndpointSource = (typeof endpointSources)[number];

/** A normalised event, written in the same transaction as the change that caused it. */
export const outboundEvents = pgTable(
  'outbound_events',
  {
    id: primaryUuid(),
    /** Commit-independent recording order: events of one resource are delivered in this order. */
    seq: bigint('seq', { mode: 'number' }).notNull().generatedAlwaysAsIdentity(),
    type: text('type').notNull(),
    /** What the event is about (`member:<id>`, `post:<id>` …): delivery is ordered per key. */
    resourceKey: text('resource_key'),
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
    uniqueIndex('outbound_events_seq_key').on(t.seq),
    index('outbound_events_type_seq_idx').on(t.type, t.seq),
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
    /** The event's `seq` and `resource_key`, copied so the ordering check is one index probe. */
    eventSeq: bigint('event_seq', { mode: 'number' }).notNull(),
    resourceKey: text('resource_key'),
    status: text('status').$type<DeliveryStatus>().notNull().default('pending'),
    /**
     * The earliest open delivery of its resource at its endpoint (a hint that keeps the claim to
     * heads of line; the claim still checks the order itself). Set at fan-out, handed on when a
     * delivery completes, repaired by a periodic sweep.
     */
    ready: boolean('ready').notNull().default(false),
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
    index('outbound_deliveries_ready_idx')
      .on(t.nextAttemptAt)
      .where(sql`${t.status} in ('pending', 'failed') and ${t.ready}`),
    index('outbound_deliveries_endpoint_id_status_idx').on(t.endpointId, t.status, t.createdAt),
    index('outbound_deliveries_open_resource_idx')
      .on(t.endpointId, t.resourceKey, t.eventSeq)
      .where(sql`${t.status} in ('pending', 'failed')`),
  ],
);

/** One try at a delivery: kept for `GET /v1/events`, so the host sees every answer it gave. */
export const outboundAttempts = pgTable(
  'outbound_attempts',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    deliveryId: uuid('delivery_id')
      .notNull()
      .references(() => outboundDeliveries.id, { onDelete: 'cascade' }),
    attemptedAt: timestamptz('attempted_at').notNull(),
    statusCode: integer('status_code'),
    /** Why it failed without a status (`timeout`, `ECONNREFUSED`, `blocked address` …). */
    error: text('error'),
    durationMs: integer('duration_ms').notNull(),
    /** The start of the response body, for diagnosis. */
    responseBody: text('response_body'),
  },
  (t) => [index('outbound_attempts_delivery_id_idx').on(t.deliveryId, t.id)],
);
