import { setTimeout as sleep } from 'node:timers/promises';
import { Agent, type Dispatcher, request } from 'undici';
import { packageInfo } from '../package-info.js';
import { PatreonError } from './errors.js';
import { parseBody } from './json-api.js';
import type { Priority, RateGovernor } from './rate-governor.js';

export type TransportOptions = {
  baseUrl: string;
  governor: RateGovernor;
  /** Swap the dispatcher (e.g. a MockAgent) in tests; defaults to one keep-alive Agent. */
  dispatcher?: Dispatcher;
  timeouts?: { connectMs?: number; headersMs?: number; bodyMs?: number };
  retry?: { attempts?: number; baseDelayMs?: number; maxDelayMs?: number };
  /** How many 429s one call waits out before giving up with PATREON_RATE_LIMITED. */
  rateLimitRetries?: number;
  onCall?: (event: CallEvent) => void;
};

export type CallEvent = {
  /** Route template, e.g. `/campaigns/{id}/members`: bounded, safe as a metric label. */
  endpoint: string;
  method: string;
  /** The rate window the call counted against (a connection id, or a token hash). */
  tokenKey: string;
  status: number | 'error';
  durationMs: number;
  attempt: number;
};

export type Call = {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  /** Path under the base URL, with query string. */
  path: string;
  endpoint: string;
  /** Key of the token's rate window; the token endpoint uses none (it counts per client). */
  tokenKey: string;
  priority?: Priority;
  headers?: Record<string, string>;
  body?: string;
  /** Safe to repeat after a 5xx or a network failure (never for token grants: they rotate). */
  idempotent: boolean;
  /** A 2xx body comes back as the text it was, unparsed: the caller decodes it elsewhere. */
  raw?: boolean;
};

export type Response = { status: number; headers: Record<string, unknown>; body: unknown };

export const userAgent = `${packageInfo.name}/${packageInfo.version} (+https://github.com/patreon-gateway; node ${process.version})`;

const RETRYABLE_STATUS = new Set([500, 502, 503, 504]);
const RETRYABLE_ERRORS = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);

/** Seconds from `Retry-After` (delta or HTTP date) or the body's `retry_after_seconds`. */
export function retryAfterMs(headers: Record<string, unknown>, body: unknown): number | undefined {
  const header = headers['retry-after'];
  if (typeof header === 'string' && header.trim() !== '') {
    const seconds = Number(header);
    if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
    const date = Date.parse(header);
    if (!Number.isNaN(date)) return Math.max(0, date - Date.now());
  }
  const errors = (body as { errors?: { retry_after_seconds?: unknown }[] } | null)?.errors;
  const seconds = Array.isArray(errors) ? errors[0]?.retry_after_seconds : undefined;
  return typeof seconds === 'number' && Number.isFinite(seconds) ? seconds * 1000 : undefined;
}

/** A 429 that names no wait: 1 s, 2 s, 4 s … plus up to half again, so callers spread out. */
const throttleBackoff = (attempt: number) => {
  const base = Math.min(60_000, 1_000 * 2 ** (attempt - 1));
  return Math.round(base + Math.random() * base * 0.5);
};

/** Full jitter: a random wait up to the exponential ceiling (AWS architecture blog's advice). */
const backoff = (attempt: number, baseMs: number, maxMs: number) =>
  Math.round(Math.random() * Math.min(maxMs, baseMs * 2 ** attempt));

/**
 * The HTTP layer under the client: one dispatcher, the governor before every send, 429s waited
 * out, bounded retries with jittered backoff for idempotent calls, and every failure mapped to a
 * PatreonError. Bodies are parsed as JSON when they are JSON.
 */
export function createTransport(options: TransportOptions) {
  const dispatcher =
    options.dispatcher ??
    new Agent({
      keepAliveTimeout: 30_000,
      connections: 16,
      connect: { timeout: options.timeouts?.connectMs ?? 10_000 },
      headersTimeout: options.timeouts?.headersMs ?? 30_000,
      bodyTimeout: options.timeouts?.bodyMs ?? 60_000,
    });
  const attempts = options.retry?.attempts ?? 3;
  const baseDelayMs = options.retry?.baseDelayMs ?? 250;
  const maxDelayMs = options.retry?.maxDelayMs ?? 8_000;
  const rateLimitRetries = options.rateLimitRetries ?? 5;

  async function send(call: Call): Promise<Response> {
    let failures = 0;
    let throttled = 0;
    for (let attempt = 1; ; attempt++) {
      const release = await options.governor.acquire(call.tokenKey, call.priority);
      const started = performance.now();
      let status: number | 'error' = 'error';
      try {
        const response = await request(`${options.baseUrl}${call.path}`, {
          dispatcher,
          method: call.method,
          headers: { 'user-agent': userAgent, accept: 'application/json', ...call.headers },
          body: call.body,
        });
        status = response.statusCode;
        const text = await response.body.text().finally(release);
        if (call.raw && status >= 200 && status < 300) {
          return { status, headers: response.headers, body: text };
        }
        const body = parseBody(text, response.headers['content-type']);
        if (status === 429) {
          const waitMs = retryAfterMs(response.headers, body) ?? throttleBackoff(throttled + 1);
          // A 429 was not processed, so any method may be retried after waiting.
          if (++throttled > rateLimitRetries) {
            throw new PatreonError(
              'PATREON_RATE_LIMITED',
              `${call.endpoint}: rate limited by Patreon`,
              {
                httpStatus: 429,
                endpoint: call.endpoint,
                retryAfterMs: waitMs,
              },
            );
          }
          options.governor.pause(call.tokenKey, waitMs);
          continue;
        }
        if (RETRYABLE_STATUS.has(status) && call.idempotent && ++failures < attempts) {
          await sleep(backoff(failures, baseDelayMs, maxDelayMs));
          continue;
        }
        return { status, headers: response.headers, body };
      } catch (error) {
        release();
        if (error instanceof PatreonError) throw error;
        const code = (error as { code?: string }).code ?? 'UNKNOWN';
        if (RETRYABLE_ERRORS.has(code) && call.idempotent && ++failures < attempts) {
          await sleep(backoff(failures, baseDelayMs, maxDelayMs));
          continue;
        }
        throw new PatreonError(
          'PATREON_UNAVAILABLE',
          `${call.endpoint}: ${code} talking to Patreon`,
          {
            endpoint: call.endpoint,
            cause: error,
          },
        );
      } finally {
        options.onCall?.({
          endpoint: call.endpoint,
          method: call.method,
          tokenKey: call.tokenKey,
          status,
          durationMs: performance.now() - started,
          attempt,
        });
      }
    }
  }

  return {
    send,
    close: () => dispatcher.close(),
  };
}

export type Transport = ReturnType<typeof createTransport>;
