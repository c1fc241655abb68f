import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { syncJobKinds } from '../db/schema/sync-jobs.js';

/**
 * Every metric the service exposes, on a registry of its own (one per app: tests build many apps
 * in one process, and the global registry would mix them). Names follow Prometheus conventions:
 * one prefix, base units (`_seconds`), `_total` on counters. No label ever holds an id: routes
 * are patterns, Patreon endpoints are templates, everything else is a short fixed list.
 *
 * The hot paths (webhook ingest, entitlements) go through children bound once per label set,
 * so a request costs prom-client's increment and nothing else.
 */

const PREFIX = 'patreon_gateway_';

export const WEBHOOK_RESULTS = [
  'stored',
  'duplicate',
  'bad_signature',
  'unknown_webhook',
  'unknown_event',
  'unavailable',
] as const;
export type WebhookResult = (typeof WEBHOOK_RESULTS)[number];

export const TOKEN_REFRESH_RESULTS = ['refreshed', 'failed', 'revoked', 'backoff'] as const;
export type TokenRefreshResult = (typeof TOKEN_REFRESH_RESULTS)[number];

/** An attempt to deliver an event: a 2xx, another status, or no answer (timeout, refused …). */
export type EventAttemptResult = 'success' | 'http_error' | 'no_response';

/** Sync job counts (see SyncCounts) that are rows, as `resource` label values. */
const SYNC_ROW_RESOURCES: Record<string, string> = {
  campaigns: 'campaigns',
  tiers: 'tiers',
  benefits: 'benefits',
  goals: 'goals',
  members: 'members',
  users: 'users',
  pledgeEvents: 'pledge_events',
  posts: 'posts',
  membersTombstoned: 'members_tombstoned',
  postsTombstoned: 'posts_tombstoned',
};

/** Latency buckets for our own HTTP answers (ms to seconds). */
const HTTP_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** Calls across the network (Patreon, host endpoints). */
const REMOTE_BUCKETS = [0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
/** Waits and lags that may run from milliseconds to an hour. */
const LAG_BUCKETS = [0.01, 0.05, 0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600];
/** Whole sync jobs: seconds for a small campaign, hours for a huge one behind rate limits. */
const JOB_BUCKETS = [1, 5, 15, 30, 60, 300, 900, 1800, 3600, 7200, 21600];

/** Children of a labelled metric, bound once per label set and kept (binding hashes labels). */
function childCache<C>(bind: (labels: string[]) => C) {
  const children = new Map<string, C>();
  return (...labels: string[]) => {
    const key = labels.join('\0');
    let child = children.get(key);
    if (!child) {
      child = bind(labels);
      children.set(key, child);
    }
    return child;
  };
}

export function createMetrics() {
  const registry = new Registry();
  const registers = [registry];

  const httpRequests = new Counter({
    name: `${PREFIX}http_requests_total`,
    help: 'HTTP requests answered, by method, route pattern (unmatched: "unmatched") and status code.',
    labelNames: ['method', 'route', 'status_code'] as const,
    registers,
  });
  const httpDuration = new Histogram({
    name: `${PREFIX}http_request_duration_seconds`,
    help: 'Time from receiving a request to answering it, by method, route pattern and status code.',
    labelNames: ['method', 'route', 'status_code'] as const,
    buckets: HTTP_BUCKETS,
    registers,
  });

  const webhookDeliveries = new Counter({
    name: `${PREFIX}webhook_deliveries_total`,
    help: 'Webhook deliveries from Patreon, by what became of them.',
    labelNames: ['result'] as const,
    registers,
  });
  const webhookApplyLag = new Histogram({
    name: `${PREFIX}webhook_apply_lag_seconds`,
    help: 'Time from storing a Patreon webhook delivery to applying it.',
    buckets: LAG_BUCKETS,
    registers,
  });

  const syncJobs = new Counter({
    name: `${PREFIX}sync_jobs_total`,
    help: 'Sync jobs that ended, by kind and result (succeeded, failed).',
    labelNames: ['kind', 'result'] as const,
    registers,
  });
  const syncJobDuration = new Histogram({
    name: `${PREFIX}sync_job_duration_seconds`,
    help: 'Time from a sync job starting to it ending, waits and other creators’ turns included.',
    labelNames: ['kind', 'result'] as const,
    buckets: JOB_BUCKETS,
    registers,
  });
  const syncSliceErrors = new Counter({
    name: `${PREFIX}sync_slice_errors_total`,
    help: 'Sync job slices that failed with a retryable error (the queue runs them again).',
    labelNames: ['kind'] as const,
    registers,
  });
  const syncRows = new Counter({
    name: `${PREFIX}sync_rows_written_total`,
    help: 'Rows sync jobs stored (or found unchanged), by job kind and resource.',
    labelNames: ['kind', 'resource'] as const,
    registers,
  });
  const syncPatreonCalls = new Counter({
    name: `${PREFIX}sync_patreon_calls_total`,
    help: 'Calls sync jobs made to Patreon, retries included.',
    labelNames: ['kind'] as const,
    registers,
  });
  const syncRateLimited = new Counter({
    name: `${PREFIX}sync_rate_limited_total`,
    help: 'Answers 429 Patreon gave sync jobs.',
    labelNames: ['kind'] as const,
    registers,
  });
  const syncRateLimitWaits = new Counter({
    name: `${PREFIX}sync_rate_limit_waits_total`,
    help: 'Times a sync job paused to wait out Patreon’s rate limit.',
    labelNames: ['kind'] as const,
    registers,
  });

  const patreonRequests = new Counter({
    name: `${PREFIX}patreon_requests_total`,
    help: 'Requests sent to Patreon, by endpoint template, method and status ("error": no answer).',
    labelNames: ['endpoint', 'method', 'status'] as const,
    registers,
  });
  const patreonDuration = new Histogram({
    name: `${PREFIX}patreon_request_duration_seconds`,
    help: 'Time Patreon took to answer, by endpoint template and method.',
    labelNames: ['endpoint', 'method'] as const,
    buckets: REMOTE_BUCKETS,
    registers,
  });
  const governorWait = new Histogram({
    name: `${PREFIX}patreon_governor_wait_seconds`,
    help: 'Time a request waited in the rate governor before it could be sent to Patreon.',
    labelNames: ['priority'] as const,
    buckets: LAG_BUCKETS,
    registers,
  });

  const tokenRefreshes = new Counter({
    name: `${PREFIX}token_refreshes_total`,
    help: 'Patreon token refreshes, by result (refreshed, failed, revoked, backoff: not tried while backing off).',
    labelNames: ['result'] as const,
    registers,
  });

  const eventAttempts = new Counter({
    name: `${PREFIX}event_delivery_attempts_total`,
    help: 'Attempts to deliver an event to a host endpoint, by result (success, http_error, no_response).',
    labelNames: ['result'] as const,
    registers,
  });
  const eventAttemptDuration = new Histogram({
    name: `${PREFIX}event_delivery_attempt_duration_seconds`,
    help: 'Time a host endpoint took to answer an event delivery.',
    buckets: REMOTE_BUCKETS,
    registers,
  });
  const eventDeliveries = new Counter({
    name: `${PREFIX}event_deliveries_total`,
    help: 'Event deliveries that ended, by result (delivered, dead: every attempt failed, a dead letter).',
    labelNames: ['result'] as const,
    registers,
  });
  const eventAttemptsPerDelivery = new Histogram({
    name: `${PREFIX}event_attempts_per_delivery`,
    help: 'Attempts an event delivery took before it ended (delivered or dead).',
    buckets: [1, 2, 3, 4, 5, 6, 8, 10],
    registers,
  });

  const patreonCount = childCache((labels) => patreonRequests.labels(...labels));
  const patreonTimer = childCache((labels) => patreonDuration.labels(...labels));
  const webhookResults = Object.fromEntries(
    WEBHOOK_RESULTS.map((result) => [result, webhookDeliveries.labels(result)]),
  ) as Record<WebhookResult, Counter.Internal>;
  const tokenResults = Object.fromEntries(
    TOKEN_REFRESH_RESULTS.map((result) => [result, tokenRefreshes.labels(result)]),
  ) as Record<TokenRefreshResult, Counter.Internal>;
  // Series at zero from the start: rates and alerts then see a change from the first event on.
  for (const child of [...Object.values(webhookResults), ...Object.values(tokenResults)]) {
    child.inc(0);
  }
  for (const result of ['success', 'http_error', 'no_response'])
    eventAttempts.labels(result).inc(0);
  for (const result of ['delivered', 'dead']) eventDeliveries.labels(result).inc(0);
  for (const kind of syncJobKinds) {
    for (const result of ['succeeded', 'failed']) syncJobs.labels(kind, result).inc(0);
    syncSliceErrors.labels(kind).inc(0);
    syncRateLimitWaits.labels(kind).inc(0);
    syncRateLimited.labels(kind).inc(0);
  }

  return {
    registry,

    /**
     * Records one answer of a route. Called with the route's pattern, so each route keeps its own
     * children per status code.
     */
    httpRoute(method: string, route: string) {
      const byStatus = new Map<
        number,
        { count: Counter.Internal; timer: Histogram.Internal<string> }
      >();
      return (statusCode: number, seconds: number) => {
        let children = byStatus.get(statusCode);
        if (!children) {
          const status = String(statusCode);
          children = {
            count: httpRequests.labels(method, route, status),
            timer: httpDuration.labels(method, route, status),
          };
          byStatus.set(statusCode, children);
        }
        children.count.inc();
        children.timer.observe(seconds);
      };
    },

    webhookDeliveries: webhookResults,
    /** Seconds from receipt to being applied, one per applied delivery. */
    webhookApplied(lagSeconds: readonly number[]) {
      for (const lag of lagSeconds) webhookApplyLag.observe(lag);
    },

    syncJobEnded(kind: string, result: 'succeeded' | 'failed', startedAt: Date | null) {
      syncJobs.labels(kind, result).inc();
      if (startedAt) {
        syncJobDuration.labels(kind, result).observe((Date.now() - startedAt.getTime()) / 1000);
      }
    },
    syncSliceFailed: (kind: string) => syncSliceErrors.labels(kind).inc(),
    syncRateLimitWait: (kind: string) => syncRateLimitWaits.labels(kind).inc(),
    /** What a job's counts grew by at one save: rows per resource, Patreon calls and 429s. */
    syncCounted(kind: string, delta: Record<string, number>) {
      for (const [key, value] of Object.entries(delta)) {
        if (value <= 0) continue;
        if (key === 'patreonCalls') syncPatreonCalls.labels(kind).inc(value);
        else if (key === 'rateLimited') syncRateLimited.labels(kind).inc(value);
        else {
          const resource = SYNC_ROW_RESOURCES[key];
          if (resource) syncRows.labels(kind, resource).inc(value);
        }
      }
    },

    /** One request to Patreon (`endpoint` is a template such as `/campaigns/{id}/members`). */
    patreonCall(event: {
      endpoint: string;
      method: string;
      status: number | 'error';
      durationMs: number;
    }) {
      patreonCount(event.endpoint, event.method, String(event.status)).inc();
      patreonTimer(event.endpoint, event.method).observe(event.durationMs / 1000);
    },
    governorWaited(event: { priority: string; waitedMs: number }) {
      governorWait.labels(event.priority).observe(event.waitedMs / 1000);
    },

    tokenRefreshes: tokenResults,

    eventAttempted(result: EventAttemptResult, durationMs: number) {
      eventAttempts.labels(result).inc();
      eventAttemptDuration.observe(durationMs / 1000);
    },
    eventDeliveryEnded(result: 'delivered' | 'dead', attempts: number) {
      eventDeliveries.labels(result).inc();
      eventAttemptsPerDelivery.observe(attempts);
    },

    /** The entitlement cache's counts, read when Prometheus scrapes. */
    entitlementCache(read: () => { hits: number; misses: number; size: number; enabled: boolean }) {
      new Counter({
        name: `${PREFIX}entitlement_cache_lookups_total`,
        help: 'Entitlement lookups asked of the in-memory cache, by result (hit, miss).',
        labelNames: ['result'] as const,
        registers,
        collect() {
          const stats = read();
          this.reset();
          this.labels('hit').inc(stats.hits);
          this.labels('miss').inc(stats.misses);
        },
      });
      new Gauge({
        name: `${PREFIX}entitlement_cache_entries`,
        help: 'Entitlement lookups held in memory (0 while the cache is off: no change feed).',
        registers,
        collect() {
          const stats = read();
          this.set(stats.enabled ? stats.size : 0);
        },
      });
    },

    /** A gauge whose value is read when Prometheus scrapes (see scrape-gauges.ts). */
    scrapeGauge<L extends string>(
      name: string,
      help: string,
      labelNames: readonly L[],
      collect: (gauge: Gauge<L>) => Promise<void>,
    ) {
      return new Gauge<L>({
        name: `${PREFIX}${name}`,
        help,
        labelNames,
        registers,
        async collect() {
          await collect(this);
        },
      });
    },
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
