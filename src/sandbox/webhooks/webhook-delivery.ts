import { createHmac } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Agent, request } from 'undici';
import type { Counters, DeliveryResult } from '../world/counters.js';
import type { DeliveryOptions } from '../world/options.js';
import type { QueuedEvent, WebhookRecord } from '../world/webhook-store.js';

const TIMEOUT_CODES = new Set([
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_CONNECT_TIMEOUT',
]);

/** docs/patreon-api.md §9.2: lowercase hex HMAC-MD5 of the exact body bytes, keyed by the webhook's secret. */
export function signature(secret: string, body: string): string {
  return createHmac('md5', secret).update(body).digest('hex');
}

/**
 * Outgoing webhook deliveries. Each webhook has one queue worked strictly in
 * order; failures are retried on the backoff schedule, and after
 * `pauseAfterFailures` consecutive failures the webhook pauses with its queue
 * kept until `PATCH paused=false` (docs/patreon-api.md §9.4 and the sandbox table).
 */
export function createDeliveries(deps: {
  options: () => DeliveryOptions;
  clock: () => number;
  counters: Counters;
  isLive: (webhook: WebhookRecord) => boolean;
}) {
  const agent = new Agent({ connect: { timeout: deps.options().timeoutMs } });
  const running = new Map<string, Promise<void>>();
  let aborter = new AbortController();

  async function attempt(
    webhook: WebhookRecord,
    event: QueuedEvent,
    signal: AbortSignal,
  ): Promise<DeliveryResult> {
    const { timeoutMs } = deps.options();
    try {
      const response = await request(webhook.uri, {
        method: 'POST',
        dispatcher: agent,
        signal,
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
        headers: {
          'content-type': 'application/json',
          'user-agent': 'Patreon-Webhooks',
          'x-patreon-event': event.trigger,
          'x-patreon-signature': signature(webhook.secret, event.body),
        },
        body: Buffer.from(event.body, 'utf8'),
      });
      await response.body.dump();
      return response.statusCode >= 200 && response.statusCode < 300 ? 'delivered' : 'http_error';
    } catch (error) {
      const code = (error as { code?: string }).code;
      return code !== undefined && TIMEOUT_CODES.has(code) ? 'timeout' : 'network_error';
    }
  }

  async function work(webhook: WebhookRecord, signal: AbortSignal): Promise<void> {
    while (!signal.aborted && deps.isLive(webhook) && !webhook.paused) {
      const event = webhook.queue[0];
      if (!event) return;
      const result = await attempt(webhook, event, signal);
      if (signal.aborted) return;
      webhook.lastAttemptedAt = deps.clock();
      deps.counters.delivery(result);
      if (result === 'delivered') {
        webhook.numConsecutiveTimesFailed = 0;
        webhook.queue.shift();
        continue;
      }
      webhook.numConsecutiveTimesFailed++;
      const { backoffMs, pauseAfterFailures } = deps.options();
      if (webhook.numConsecutiveTimesFailed >= pauseAfterFailures) {
        webhook.paused = true;
        return;
      }
      const wait =
        backoffMs[Math.min(webhook.numConsecutiveTimesFailed - 1, backoffMs.length - 1)] ?? 0;
      await sleep(wait, undefined, { signal }).catch(() => undefined);
    }
  }

  /** Starts the webhook's worker unless one is already running. */
  function kick(webhook: WebhookRecord): void {
    if (running.has(webhook.id) || webhook.paused || webhook.queue.length === 0) return;
    const { signal } = aborter;
    const worker = work(webhook, signal).finally(() => {
      running.delete(webhook.id);
      // An event queued while the worker was finishing must not be stranded.
      if (!signal.aborted && deps.isLive(webhook)) kick(webhook);
    });
    running.set(webhook.id, worker);
  }

  return {
    enqueue(webhook: WebhookRecord, event: QueuedEvent): void {
      webhook.queue.push(event);
      kick(webhook);
    },
    kick,
    /** Resolves once no delivery is in flight or waiting to retry (paused queues count as settled). */
    async idle(): Promise<void> {
      while (running.size > 0) await Promise.all([...running.values()]);
    },
    /** Drops in-flight work, e.g. on reset. */
    async cancelAll(): Promise<void> {
      aborter.abort();
      await Promise.all([...running.values()]);
      aborter = new AbortController();
    },
    async close(): Promise<void> {
      aborter.abort();
      await Promise.all([...running.values()]);
      await agent.close();
    },
  };
}

export type Deliveries = ReturnType<typeof createDeliveries>;
