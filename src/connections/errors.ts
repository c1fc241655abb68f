import { defineError } from '../shared/errors.js';

export const ConnectionNotFoundError = defineError(
  'CONNECTION_NOT_FOUND',
  404,
  'Connection not found',
);
export const ConnectionRevokedError = defineError('CONNECTION_REVOKED', 409, 'Connection revoked');
export const ConnectionDisconnectedError = defineError(
  'CONNECTION_DISCONNECTED',
  409,
  'Connection disconnected',
);
export const ConnectionRefreshFailedError = defineError(
  'CONNECTION_REFRESH_FAILED',
  503,
  'Token refresh failing',
);
export const ReturnToNotAllowedError = defineError(
  'RETURN_TO_NOT_ALLOWED',
  422,
  'returnTo not allowed',
);
