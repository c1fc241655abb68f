import { defineError } from '../shared/errors.js';

export const WebhookNotFoundError = defineError('WEBHOOK_NOT_FOUND', 404, 'Webhook not found');
export const WebhookSignatureError = defineError(
  'WEBHOOK_SIGNATURE_INVALID',
  401,
  'Invalid webhook signature',
);
export const WebhookEventUnknownError = defineError(
  'WEBHOOK_EVENT_UNKNOWN',
  400,
  'Unknown webhook event',
);
export const WebhookStoreUnavailableError = defineError(
  'WEBHOOK_STORE_UNAVAILABLE',
  503,
  'Cannot store the delivery now',
);
export const WebhookEventNotFoundError = defineError(
  'WEBHOOK_EVENT_NOT_FOUND',
  404,
  'Webhook event not found',
);
export const NotACreatorCampaignError = defineError(
  'CAMPAIGN_WITHOUT_CREATOR',
  409,
  'Campaign has no creator connection',
);
