import { type FastifyReply, type FastifyRequest, LogController } from 'fastify';
import pino, { type DestinationStream, type Logger, type LoggerOptions } from 'pino';

/** Query parameters that carry secrets through browser redirects (OAuth) and must never be logged. */
const SECRET_QUERY_PARAMS = new Set([
  'code',
  'state',
  'ticket',
  'token',
  'access_token',
  'refresh_token',
  'client_secret',
]);

/** Object keys whose values are secrets wherever they appear in a log line (error codes stay). */
const SECRET_KEYS = [
  'authorization',
  'cookie',
  'accessToken',
  'refreshToken',
  'access_token',
  'refresh_token',
  'clientSecret',
  'client_secret',
  'secret',
  'authorizationCode',
  'oauthState',
  'ticket',
  'token',
  'apiKey',
  'password',
  'signature',
];

/** Headers our own request and response serializers could one day include. */
export const redactPaths = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-patreon-signature"]',
  'req.headers["webhook-signature"]',
  'res.headers["set-cookie"]',
];

const CENSOR = '[REDACTED]';
const SECRETS = new Set(SECRET_KEYS);
/** How deep secret keys are looked for in a log line's object (`{ a: { b: { token } } }` is 3). */
const MAX_DEPTH = 8;

/**
 * Plain objects, arrays and errors are looked into; instances of other classes (a request, a
 * socket, a client) are not: they have serializers of their own or are not logged.
 */
function walkable(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const prototype = Object.getPrototypeOf(value);
  return (
    prototype === Object.prototype ||
    prototype === null ||
    Array.isArray(value) ||
    value instanceof Error
  );
}

function holdsSecret(value: Record<string, unknown>, depth: number): boolean {
  for (const key in value) {
    if (SECRETS.has(key)) return true;
    const child = value[key];
    if (depth < MAX_DEPTH && walkable(child) && holdsSecret(child, depth + 1)) return true;
  }
  return false;
}

function censored(value: Record<string, unknown>, depth: number): Record<string, unknown> {
  // An error keeps what pino's error serializer would show, as a plain object.
  const copy: Record<string, unknown> = Array.isArray(value)
    ? ([] as unknown as Record<string, unknown>)
    : value instanceof Error
      ? { type: value.name, message: value.message, stack: value.stack }
      : {};
  for (const key in value) {
    const child = value[key];
    copy[key] = SECRETS.has(key)
      ? CENSOR
      : depth < MAX_DEPTH && walkable(child)
        ? censored(child, depth + 1)
        : child;
  }
  return copy;
}

/**
 * Masks the values of secret keys at any depth of a log line's object. A scan that allocates
 * nothing for the common line with no secret key; only a line that has one is copied. (Pino's
 * wildcard redaction did the same for a fixed depth, but also ran on every request's child
 * logger, at a cost comparable to the rest of an entitlement lookup.)
 */
export function censorSecrets(object: Record<string, unknown>): Record<string, unknown> {
  return holdsSecret(object, 1) ? censored(object, 1) : object;
}

/** A query that may name a secret parameter: one of their names, or any percent-encoding. */
const MAYBE_SECRET_QUERY = new RegExp(
  `%|(?:^|[?&;])(?:${[...SECRET_QUERY_PARAMS].join('|')})=`,
  'i',
);

export function redactUrl(url: string): string {
  const queryStart = url.indexOf('?');
  // Logged for every request: most queries name no secret and are returned as they came.
  if (queryStart === -1 || !MAYBE_SECRET_QUERY.test(url.slice(queryStart))) return url;
  const params = new URLSearchParams(url.slice(queryStart + 1));
  for (const name of [...params.keys()]) {
    if (SECRET_QUERY_PARAMS.has(name.toLowerCase())) params.set(name, '[REDACTED]');
  }
  return `${url.slice(0, queryStart)}?${params.toString()}`;
}

export function loggerOptions(level: string): LoggerOptions {
  return {
    level,
    redact: { paths: redactPaths, censor: CENSOR },
    formatters: { log: censorSecrets },
    serializers: {
      req: (request: FastifyRequest) => ({
        method: request.method,
        url: redactUrl(request.url),
        remoteAddress: request.ip,
      }),
    },
  };
}

/** JSON lines by default; pretty-printed when writing to a terminal. */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  if (destination) return pino(loggerOptions(level), destination);
  if (process.stdout.isTTY) {
    return pino({
      ...loggerOptions(level),
      transport: { target: 'pino-pretty', options: { translateTime: 'SYS:HH:MM:ss.l' } },
    });
  }
  // Buffered: lines go out in writes of about 4 KiB, and at least every second (one write per
  // line cost an entitlement lookup's worth of CPU at `info`). pino writes what is pending when
  // the process exits; only a kill -9 can lose the last second.
  const logger = pino(
    loggerOptions(level),
    pino.destination({ dest: 1, sync: false, minLength: 4096 }),
  );
  setInterval(() => logger.flush(), 1000).unref();
  return logger;
}

/**
 * One line per request, when it ends, naming the request and its outcome (Fastify writes two: one
 * when it arrives, one when it ends). At the route's own level: a route at `warn` writes none.
 */
export class OneLinePerRequest extends LogController {
  override incomingRequest() {}

  override requestCompleted(error: Error | null, request: FastifyRequest, reply: FastifyReply) {
    if (error) return super.requestCompleted(error, request, reply);
    reply.log.info(
      { req: request, res: { statusCode: reply.statusCode }, responseTime: reply.elapsedTime },
      'request completed',
    );
  }
}
