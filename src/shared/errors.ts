/**
 * Every error a service throws on purpose: a stable `code` callers (and tests) decide on, the
 * HTTP status it maps to, and a short title. The message is the problem's `detail`, so it must be
 * safe to show: no tokens, no secrets, no SQL.
 */
export class AppError extends Error {
  constructor(
    readonly code: string,
    readonly status: number,
    readonly title: string,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(detail, options);
    this.name = 'AppError';
  }
}

type AppErrorClass = new (detail?: string, options?: { cause?: unknown }) => AppError;

/** Declares an error class with a fixed code, status and title (in the spirit of @fastify/error). */
export function defineError(code: string, status: number, title: string): AppErrorClass {
  const ErrorClass = class extends AppError {
    constructor(detail: string = title, options?: { cause?: unknown }) {
      super(code, status, title, detail, options);
      this.name = code;
    }
  };
  Object.defineProperty(ErrorClass, 'name', { value: code });
  return ErrorClass;
}

export const UnauthorizedError = defineError('UNAUTHORIZED', 401, 'Unauthorized');
export const InvalidCursorError = defineError('INVALID_CURSOR', 400, 'Invalid cursor');
export const NotFoundError = defineError('NOT_FOUND', 404, 'Not Found');

/** A campaign not synced here: named by every domain that takes a campaign id. */
export const CampaignNotFoundError = defineError('CAMPAIGN_NOT_FOUND', 404, 'Campaign not found');
