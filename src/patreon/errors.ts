import { AppError } from '../shared/errors.js';

export type PatreonErrorCode =
  | 'PATREON_INVALID_GRANT'
  | 'PATREON_UNAUTHORIZED'
  | 'PATREON_FORBIDDEN'
  | 'PATREON_NOT_FOUND'
  | 'PATREON_BAD_REQUEST'
  | 'PATREON_RATE_LIMITED'
  | 'PATREON_UNAVAILABLE'
  | 'PATREON_BAD_RESPONSE';

/** How each failure surfaces through our own API: Patreon's trouble is a gateway problem. */
const statuses: Record<PatreonErrorCode, [number, string]> = {
  PATREON_INVALID_GRANT: [502, 'Patreon rejected the grant'],
  PATREON_UNAUTHORIZED: [502, 'Patreon refused the credentials'],
  PATREON_FORBIDDEN: [502, 'Patreon forbade the request'],
  PATREON_NOT_FOUND: [404, 'Not found at Patreon'],
  PATREON_BAD_REQUEST: [502, 'Patreon rejected the request'],
  PATREON_RATE_LIMITED: [503, 'Patreon rate limit reached'],
  PATREON_UNAVAILABLE: [503, 'Patreon is unavailable'],
  PATREON_BAD_RESPONSE: [502, 'Unexpected response from Patreon'],
};

/**
 * Every failure talking to Patreon. Callers decide on `code`; `httpStatus` is Patreon's status
 * (when there was a response), `retryAfterMs` is set for rate limits and outages when known.
 * Messages never contain tokens, codes or secrets.
 */
export class PatreonError extends AppError {
  constructor(
    override readonly code: PatreonErrorCode,
    detail: string,
    readonly details: {
      httpStatus?: number;
      endpoint?: string;
      retryAfterMs?: number;
      /** JSON path of a missing or malformed field, for PATREON_BAD_RESPONSE. */
      path?: string;
      cause?: unknown;
    } = {},
  ) {
    const [status, title] = statuses[code];
    super(code, status, title, detail, { cause: details.cause });
    this.name = 'PatreonError';
  }
}

export const isPatreonError = (error: unknown, code?: PatreonErrorCode): error is PatreonError =>
  error instanceof PatreonError && (code === undefined || error.code === code);
