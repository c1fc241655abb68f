import { z } from 'zod';
import { webhookEventStatuses } from '../db/schema/index.js';
import { pageQuery } from '../shared/pagination.js';
import { patreonId } from '../shared/schemas.js';
import { TRIGGERS } from './triggers.js';

const iso = z.string().describe('ISO 8601 time.');

export const webhookView = z
  .object({
    id: z.uuid().describe('Our id; the last segment of the URI registered at Patreon.'),
    campaignId: z.string(),
    connectionId: z.uuid().nullable(),
    patreonWebhookId: z
      .string()
      .nullable()
      .describe('Patreon’s id; null until Patreon confirmed the registration.'),
    uri: z.string(),
    triggers: z.array(z.string()),
    paused: z
      .boolean()
      .describe('Patreon paused it after failed deliveries (as of `lastReconciledAt`).'),
    numConsecutiveTimesFailed: z.number().int(),
    lastAttemptedAt: iso.nullable().describe('Patreon’s last delivery attempt.'),
    lastReconciledAt: iso.nullable(),
    lastDeliveryAt: iso.nullable().describe('Last delivery we stored.'),
    deliveries: z
      .object({
        received: z.number().int().describe('Stored, not applied yet.'),
        applied: z.number().int(),
        ignored: z.number().int().describe('Stored, but older news than what we had.'),
        failed: z.number().int(),
        duplicates: z.number().int().describe('Redeliveries of bytes stored before.'),
      })
      .describe('Counts of stored deliveries by status.'),
    createdAt: iso,
  })
  .meta({ id: 'Webhook' });

export const listWebhooksQuery = pageQuery.extend({
  campaignId: patreonId.optional(),
});

export const reconcileOutcome = z.object({
  campaignId: z.string(),
  webhookId: z.uuid(),
  action: z
    .enum(['created', 'recreated', 'updated', 'unpaused', 'unchanged'])
    .describe('`unpaused`: Patreon had paused it; it now resends what it queued.'),
  orphansDeleted: z
    .number()
    .int()
    .describe('Webhooks of ours at Patreon that no row knew (from a lost create), deleted.'),
});

export const webhookEventStatus = z.enum(webhookEventStatuses);

export const webhookEventView = z
  .object({
    id: z.string(),
    webhookId: z.uuid(),
    campaignId: z.string(),
    event: z.enum(TRIGGERS),
    status: webhookEventStatus.describe(
      '`received` (waiting to apply), `applied`, `ignored` (older than what we had), `failed` (gave up; see `lastError`).',
    ),
    resource: z
      .object({ type: z.string().nullable(), id: z.string().nullable() })
      .describe('The member or post it is about.'),
    changes: z
      .array(z.string())
      .describe(
        'What applying it meant: `member_created`, `new_patron`, `upgrade`, `downgrade`, `cancelled`, `charge_declined`, `charge_recovered`, `post_published`, …',
      ),
    ignoredReason: z.string().nullable(),
    attempts: z.number().int(),
    lastError: z
      .object({
        code: z
          .string()
          .describe(
            'Stable reason: `BODY_NOT_JSON`, `INVALID_BODY`, `WRONG_RESOURCE_TYPE`, `INVALID_RESOURCE_ID`, `WRONG_CAMPAIGN`, `UNSTORABLE_RESOURCE`, a `PATREON_*` code, or `APPLY_FAILED` (the service log has the cause under the event id).',
          ),
        message: z.string().describe('A short sentence; never database text.'),
      })
      .nullable()
      .describe('Why the last attempt failed (or why it was refused when it arrived).'),
    duplicateCount: z.number().int(),
    receivedAt: iso,
    appliedAt: iso.nullable(),
  })
  .meta({ id: 'WebhookEvent' });

export const webhookEventDetail = webhookEventView
  .extend({
    payload: z.unknown().describe('The JSON body Patreon sent, as received.'),
  })
  .meta({ id: 'WebhookEventDetail' });

export const listWebhookEventsQuery = pageQuery.extend({
  status: webhookEventStatus.optional(),
  campaignId: patreonId.optional(),
  event: z.enum(TRIGGERS).optional(),
});

export const webhookEventParams = z.object({
  id: z.string().regex(/^\d{1,18}$/, 'must be an event id'),
});

export type WebhookView = z.infer<typeof webhookView>;
export type WebhookEventView = z.infer<typeof webhookEventView>;
export type ListWebhooksQuery = z.infer<typeof listWebhooksQuery>;
export type ListWebhookEventsQuery = z.infer<typeof listWebhookEventsQuery>;
