import type { FastifyBaseLogger } from 'fastify';
import type PgBoss from 'pg-boss';
import type { Db } from '../db/database.js';
import { connectionStatuses } from '../db/schema/index.js';
import type { Metrics } from './metrics.js';
import { type OperationalCounts, readOperationalCounts } from './repository.js';

/** A scrape must answer even when the database does not: its reads give up after this. */
const SOURCE_TIMEOUT_MS = 2_000;
function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Reads a source once per scrape: prom-client collects every gauge at once, so the gauges of one
 * scrape share the read in flight. A failure is logged and yields undefined.
 */
function perScrape<T>(source: string, read: () => Promise<T>, log: FastifyBaseLogger) {
  let inFlight: Promise<T | undefined> | undefined;
  return () => {
    inFlight ??= withTimeout(read(), SOURCE_TIMEOUT_MS)
      .catch((error: unknown) => {
        log.warn({ err: error, source }, 'metrics source unavailable; its gauges are skipped');
        return undefined;
      })
      .finally(() => {
        inFlight = undefined;
      });
    return inFlight;
  };
}

/**
 * Gauges computed when Prometheus scrapes: connections by status, open outbound deliveries and
 * the age of the oldest, webhook events not yet applied and the age of the oldest, and the depth
 * of each job queue. A source that fails or is slow is skipped (its gauges are left out of that
 * scrape and `metrics_source_up` says 0), so the scrape itself still answers.
 */
export function addScrapeGauges(
  metrics: Metrics,
  deps: { db: Db; queue: () => PgBoss | undefined; log: FastifyBaseLogger },
) {
  const counts = perScrape('database', () => readOperationalCounts(deps.db), deps.log);
  const queueDepths = perScrape(
    'queue',
    async () => {
      const queue = deps.queue();
      if (!queue) return undefined;
      const depths = new Map<string, number>();
      for (const { name } of await queue.getQueues()) {
        depths.set(name, (await queue.getQueueSize(name)) ?? 0);
      }
      return depths;
    },
    deps.log,
  );

  const fromCounts = (name: string, help: string, value: (counts: OperationalCounts) => number) =>
    metrics.scrapeGauge(name, help, [], async (gauge) => {
      const current = await counts();
      if (current) gauge.set(value(current));
      else gauge.reset();
    });

  metrics.scrapeGauge(
    'metrics_source_up',
    'Whether a source of the scrape-time gauges answered this scrape (1) or was skipped (0).',
    ['source'],
    async (gauge) => {
      const [database, queue] = await Promise.all([counts(), queueDepths()]);
      gauge.labels('database').set(database ? 1 : 0);
      gauge.labels('queue').set(queue ? 1 : 0);
    },
  );
  metrics.scrapeGauge(
    'connections',
    'Patreon connections, by status.',
    ['status'],
    async (gauge) => {
      const current = await counts();
      gauge.reset();
      if (!current) return;
      for (const status of connectionStatuses) {
        gauge.labels(status).set(current.connectionsByStatus[status] ?? 0);
      }
    },
  );
  fromCounts(
    'event_backlog_deliveries',
    'Event deliveries not yet delivered (pending, or failed and waiting to retry).',
    (current) => current.eventBacklog,
  );
  fromCounts(
    'event_oldest_undelivered_age_seconds',
    'Age of the oldest event delivery not yet delivered (0 when none).',
    (current) => current.oldestUndeliveredSeconds,
  );
  fromCounts(
    'webhook_events_unapplied',
    'Patreon webhook deliveries stored but not yet applied.',
    (current) => current.webhookUnapplied,
  );
  fromCounts(
    'webhook_oldest_unapplied_age_seconds',
    'Age of the oldest stored webhook delivery not yet applied (0 when none).',
    (current) => current.oldestUnappliedSeconds,
  );
  metrics.scrapeGauge(
    'queue_depth',
    'Jobs waiting in each job queue (created or waiting to retry; not those running).',
    ['queue'],
    async (gauge) => {
      const depths = await queueDepths();
      gauge.reset();
      for (const [queue, depth] of depths ?? []) gauge.labels(queue).set(depth);
    },
  );
}
