import type { FastifyRequest } from 'fastify';
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

export const redactPaths = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-patreon-signature"]',
  'req.headers["webhook-signature"]',
  'res.headers["set-cookie"]',
  ...SECRET_KEYS.flatMap((key) => [key, `*.${key}`, `*.*.${key}`]),
];

export function redactUrl(url: string): string {
  const queryStart = url.indexOf('?');
  if (queryStart === -1) return url;
  const params = new URLSearchParams(url.slice(queryStart + 1));
  for (const name of [...params.keys()]) {
    if (SECRET_QUERY_PARAMS.has(name.toLowerCase())) params.set(name, '[REDACTED]');
  }
  return `${url.slice(0, queryStart)}?${params.toString()}`;
}

export function loggerOptions(level: string): LoggerOptions {
  return {
    level,
    redact: { paths: redactPaths, censor: '[REDACTED]' },
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
  return pino(loggerOptions(level));
}
