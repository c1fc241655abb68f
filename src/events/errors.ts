import { defineError } from '../shared/errors.js';

export const EventEndpointNotFoundError = defineError(
  'EVENT_ENDPOINT_NOT_FOUND',
  404,
  'Event endpoint not found',
);
export const EventEndpointUrlRejectedError = defineError(
  'EVENT_ENDPOINT_URL_REJECTED',
  400,
  'Endpoint URL not allowed',
);
export const EventEndpointFromConfigError = defineError(
  'EVENT_ENDPOINT_FROM_CONFIG',
  409,
  'Endpoint is managed by configuration',
);
export const EventEndpointDisabledError = defineError(
  'EVENT_ENDPOINT_DISABLED',
  409,
  'Event endpoint is disabled',
);
export const EventNotFoundError = defineError('EVENT_NOT_FOUND', 404, 'Event not found');
