import { z } from 'zod';
import { deliveryStatuses, endpointSources } from '../db/schema/index.js';
import { EVENT_TYPES } from '../shared/event-types.js';
import { pageQuery } from '../shared/pagination.js';
import { isoTimeInput } from '../shared/time-input.js';

const iso = z.string().describe('ISO 8601 time.');
const isoInput = isoTimeInput.describe('ISO 8601 time, e.g. `2026-11-01T00:00:00Z`.');

export const eventType = z.enum(EVENT_TYPES);

const endpointUrl = z
  .string()
  .trim()
  .min(1)
  .max(2000)
  .describe(
    'Where events are POSTed: an http(s) URL. Internal addresses (loopback, private, link-local…) are refused unless `EVENTS_ALLOW_PRIVATE_URLS` is set.',
  );
const eventTypes = z
  .array(eventType)
  .max(EVENT_TYPES.length)
  .describe('Event types sent to this endpoint; empty: all.');
const description = z.string().trim().max(500);

export const endpointView = z
  .object({
    id: z.uuid(),
    url: z.string(),
    description: z.string().nullable(),
    eventTypes: z.array(eventType),
    enabled: z.boolean(),
    disabledReason: z
      .string()
      .nullable()
      .describe('Why it was disabled automatically (every delivery failing for too long).'),
    disabledAt: iso.nullable(),
    failingSince: iso
      .nullable()
      .describe('First failed attempt since the last delivered one; null when healthy.'),
    source: z
      .enum(endpointSources)
      .describe(
        '`config`: from `EVENTS_ENDPOINT_URL` (only `enabled` can change through the API).',
      ),
    previousSecretsExpireAt: iso
      .nullable()
      .describe('After a rotation, the old secret signs too until then (two signatures sent).'),
    createdAt: iso,
    updatedAt: iso,
  })
  .meta({ id: 'EventEndpoint' });

export const endpointWithSecret = endpointView
  .extend({
    secret: z
      .string()
      .describe(
        'The signing secret (`whsec_…`, Standard Webhooks). Shown only in this response: store it now.',
      ),
  })
  .meta({ id: 'EventEndpointWithSecret' });

export const createEndpointBody = z.object({
  url: endpointUrl,
  eventTypes: eventTypes.default([]),
  enabled: z.boolean().default(true),
  description: description.optional(),
});

export const updateEndpointBody = z
  .object({
    url: endpointUrl.optional(),
    eventTypes: eventTypes.optional(),
    enabled: z
      .boolean()
      .optional()
      .describe('`true` also clears an automatic disable and makes waiting deliveries due now.'),
    description: description.nullable().optional(),
  })
  .refine((body) => Object.keys(body).length > 0, { message: 'nothing to change' });

export const rotateSecretBody = z
  .object({
    overlapSeconds: z
      .number()
      .int()
      .min(0)
      .max(7 * 86_400)
      .optional()
      .describe('How long the old secret keeps signing too; default `EVENTS_SECRET_OVERLAP`.'),
  })
  .nullish();

export const recoverBody = z.object({
  since: isoInput.describe('Deliveries of events recorded at or after this time.'),
});

export const recoverOutcome = z.object({
  requeued: z
    .number()
    .int()
    .describe('Failed or dead deliveries to this endpoint queued to be sent again now.'),
});

export const endpointParams = z.object({ id: z.uuid() });
export const eventParams = z.object({ id: z.uuid() });

export const listEndpointsQuery = pageQuery;

export const deliveryStatus = z.enum(deliveryStatuses);

export const attemptView = z.object({
  attemptedAt: iso,
  statusCode: z.number().int().nullable(),
  error: z
    .string()
    .nullable()
    .describe('Why there was no answer: `timeout`, `ECONNREFUSED`, `EVENTS_ADDRESS_BLOCKED`, …'),
  durationMs: z.number().int(),
});

export const deliveryView = z
  .object({
    endpointId: z.uuid(),
    status: deliveryStatus.describe(
      '`pending` (not tried yet or being sent), `delivered` (a 2xx), `failed` (will retry at `nextAttemptAt`), `dead` (every retry failed; replay or recover to send again).',
    ),
    attemptCount: z.number().int().describe('Attempts since it was last (re)queued.'),
    nextAttemptAt: iso.nullable(),
    lastAttemptAt: iso.nullable(),
    lastStatusCode: z.number().int().nullable(),
    lastError: z.string().nullable(),
    deliveredAt: iso.nullable(),
    attempts: z.array(attemptView).describe('Every attempt, oldest first.'),
  })
  .meta({ id: 'EventDelivery' });

export const eventView = z
  .object({
    id: z.uuid().describe('Also the `webhook-id` header of every delivery of it.'),
    type: eventType,
    timestamp: iso.describe('When it happened; the body’s `timestamp`.'),
    createdAt: iso,
    resourceKey: z
      .string()
      .nullable()
      .describe('What it is about (`member:<id>`, `post:<id>` …); delivery is ordered per key.'),
    campaignId: z.string().nullable(),
    connectionId: z.uuid().nullable(),
    externalUserId: z.string().nullable(),
    deliveries: z.array(deliveryView),
  })
  .meta({ id: 'Event' });

export const eventDetail = eventView
  .extend({ data: z.record(z.string(), z.unknown()).describe('The body’s `data`.') })
  .meta({ id: 'EventDetail' });

export const listEventsQuery = pageQuery.extend({
  type: eventType.optional(),
  status: deliveryStatus.optional().describe('Events with at least one delivery in this status.'),
  since: isoInput.optional().describe('Events recorded at or after this time.'),
  endpointId: z.uuid().optional().describe('Events with a delivery to this endpoint.'),
});

export const replayBody = z
  .object({
    endpointId: z
      .uuid()
      .optional()
      .describe(
        'Only to this endpoint (even if its filter excludes the type); default: every enabled endpoint whose filter matches.',
      ),
  })
  .nullish();

export type EndpointView = z.infer<typeof endpointView>;
export type CreateEndpointBody = z.infer<typeof createEndpointBody>;
export type UpdateEndpointBody = z.infer<typeof updateEndpointBody>;
export type EventView = z.infer<typeof eventView>;
export type DeliveryView = z.infer<typeof deliveryView>;
export type ListEventsQuery = z.infer<typeof listEventsQuery>;
