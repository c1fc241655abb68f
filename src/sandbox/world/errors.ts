import { randomUUID } from 'node:crypto';

/** The real 401 detail (docs/patreon-api.md §8, from Patreon/patreon-python#29). */
const UNAUTHORIZED_DETAIL =
  "The server could not verify that you are authorized to access the URL requested.  You either supplied the wrong credentials (e.g. a bad password), or your browser doesn't understand how to supply the credentials required.";
const THROTTLED_DETAIL = 'You have made too many attempts. Please try again later.';

export interface ErrorObject {
  code: number | null;
  code_name: string;
  detail: string;
  id: string;
  retry_after_seconds?: number;
  source?: { parameter: string };
  status: string;
  title: string;
}

/** An error rendered as a JSON:API error document (docs/patreon-api.md §8): `status` is a string. */
export class PatreonApiError extends Error {
  constructor(
    readonly status: number,
    readonly codeName: string,
    readonly title: string,
    readonly detail: string,
    readonly options: { code?: number | null; parameter?: string; retryAfterSeconds?: number } = {},
  ) {
    super(detail);
  }

  toBody(): { errors: ErrorObject[] } {
    const error: ErrorObject = {
      code: this.options.code ?? null,
      code_name: this.codeName,
      detail: this.detail,
      id: randomUUID(),
      status: String(this.status),
      title: this.title,
    };
    if (this.options.retryAfterSeconds !== undefined)
      error.retry_after_seconds = this.options.retryAfterSeconds;
    if (this.options.parameter !== undefined) error.source = { parameter: this.options.parameter };
    return { errors: [error] };
  }
}

export const apiErrors = {
  unauthorized: (detail = UNAUTHORIZED_DETAIL) =>
    new PatreonApiError(401, 'Unauthorized', 'Unauthorized', detail, { code: 1 }),
  // docs/patreon-api.md §1.8: a missing scope is a 401; the body is UNCONFIRMED, so reuse the real 401 shape.
  missingScope: (scope: string) =>
    new PatreonApiError(
      401,
      'Unauthorized',
      'Unauthorized',
      `This request requires the "${scope}" scope.`,
      { code: 1 },
    ),
  forbidden: (detail: string) => new PatreonApiError(403, 'Forbidden', 'Forbidden', detail),
  badRequest: (detail: string, parameter?: string) =>
    new PatreonApiError(
      400,
      'ParameterInvalid',
      'Bad Request',
      detail,
      parameter === undefined ? {} : { parameter },
    ),
  notFound: (detail = 'The requested resource was not found.') =>
    new PatreonApiError(404, 'NotFound', 'Not Found', detail),
  methodNotAllowed: (method: string) =>
    new PatreonApiError(
      405,
      'MethodNotAllowed',
      'Method Not Allowed',
      `The method ${method} is not allowed for the requested URL.`,
    ),
  unsupportedMediaType: (detail: string) =>
    new PatreonApiError(415, 'UnsupportedMediaType', 'Unsupported Media Type', detail),
  // docs/patreon-api.md §6: the documented 429 body, code null.
  throttled: (retryAfterSeconds: number) =>
    new PatreonApiError(429, 'RequestThrottled', THROTTLED_DETAIL, THROTTLED_DETAIL, {
      retryAfterSeconds,
    }),
  server: (status: number) =>
    status === 503
      ? new PatreonApiError(
          503,
          'ServiceUnavailable',
          'Service Unavailable',
          'Patreon is down for maintenance.',
        )
      : new PatreonApiError(
          status,
          'InternalServerError',
          'Internal Server Error',
          'An unexpected error occurred.',
        ),
};

/** Token endpoint errors are OAuth-style, not JSON:API (docs/patreon-api.md §1.6). */
export class OAuthError extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    readonly description?: string,
  ) {
    super(description ?? error);
  }

  toBody(): { error: string; error_description?: string } {
    return this.description === undefined
      ? { error: this.error }
      : { error: this.error, error_description: this.description };
  }
}

export const oauthErrors = {
  invalidGrant: () => new OAuthError(401, 'invalid_grant'),
  invalidClient: () => new OAuthError(401, 'invalid_client'),
  invalidRequest: (description: string) => new OAuthError(400, 'invalid_request', description),
  unsupportedGrantType: () => new OAuthError(400, 'unsupported_grant_type'),
};
