import { Agent, type Dispatcher, request } from 'undici';
import { guardedLookup, isBlockedLiteral } from './url-guard.js';

/** What one delivery attempt got back. */
export type AttemptOutcome = {
  ok: boolean;
  statusCode: number | null;
  /** Why there was no usable answer (`timeout`, `ECONNREFUSED`, …); null when one came. */
  error: string | null;
  durationMs: number;
  /** The start of the answer's body, for diagnosis. */
  responseBody: string | null;
  /** From `Retry-After` on a 429 or 503. */
  retryAfterMs: number | null;
};

const RESPONSE_BODY_LIMIT = 1024;
const RETRY_AFTER_STATUSES = new Set([429, 503]);

/** `Retry-After` as seconds or an HTTP date, in ms from now; null when absent or unreadable. */
export function parseRetryAfter(value: string | string[] | undefined, now = Date.now()) {
  const text = Array.isArray(value) ? value[0] : value;
  if (!text) return null;
  if (/^\d{1,10}$/.test(text.trim())) return Number(text.trim()) * 1000;
  const date = Date.parse(text);
  return Number.isNaN(date) ? null : Math.max(0, date - now);
}

async function readStart(body: Dispatcher.ResponseData['body']): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    chunks.push(chunk as Buffer);
    size += (chunk as Buffer).length;
    if (size >= RESPONSE_BODY_LIMIT) break;
  }
  // Breaking out of the iterator destroys the rest of the body; the socket is not reused then.
  return Buffer.concat(chunks).subarray(0, RESPONSE_BODY_LIMIT).toString('utf8');
}

/**
 * POSTs signed events to host endpoints over one undici Agent (a pool per origin, keep-alive),
 * with one timeout for connect, headers and body, no redirects followed, and, unless private
 * URLs are allowed, a DNS lookup that refuses internal addresses.
 */
export function createEventSender(options: {
  timeoutMs: number;
  allowPrivateUrls: boolean;
  /** Tests and benchmarks may swap the dispatcher. */
  dispatcher?: Dispatcher;
}) {
  const dispatcher =
    options.dispatcher ??
    new Agent({
      connect: {
        timeout: options.timeoutMs,
        ...(options.allowPrivateUrls ? {} : { lookup: guardedLookup }),
      },
      headersTimeout: options.timeoutMs,
      bodyTimeout: options.timeoutMs,
      keepAliveTimeout: 10_000,
    });

  return {
    async send(url: string, headers: Record<string, string>, body: string) {
      const started = performance.now();
      const elapsed = () => Math.round(performance.now() - started);
      const failed = (error: string): AttemptOutcome => ({
        ok: false,
        statusCode: null,
        error,
        durationMs: elapsed(),
        responseBody: null,
        retryAfterMs: null,
      });
      if (!options.allowPrivateUrls && isBlockedLiteral(new URL(url))) {
        return failed('EVENTS_ADDRESS_BLOCKED');
      }
      try {
        const response = await request(url, {
          method: 'POST',
          dispatcher,
          headers: {
            ...headers,
            'content-type': 'application/json',
            'user-agent': 'patreon-gateway-events',
          },
          body,
          signal: AbortSignal.timeout(options.timeoutMs),
        });
        const responseBody = await readStart(response.body).catch(() => null);
        const ok = response.statusCode >= 200 && response.statusCode < 300;
        return {
          ok,
          statusCode: response.statusCode,
          error: null,
          durationMs: elapsed(),
          responseBody: responseBody || null,
          retryAfterMs: RETRY_AFTER_STATUSES.has(response.statusCode)
            ? parseRetryAfter(response.headers['retry-after'])
            : null,
        };
      } catch (error) {
        return failed(errorName(error));
      }
    },

    /** Aborts requests still in flight (their deliveries are retried when their lease ends). */
    close: () => dispatcher.destroy(),
  };
}

function errorName(error: unknown): string {
  const e = error as { name?: string; code?: string; cause?: { code?: string } };
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError') return 'timeout';
  return e?.cause?.code ?? e?.code ?? e?.name ?? 'request failed';
}

export type EventSender = ReturnType<typeof createEventSender>;
