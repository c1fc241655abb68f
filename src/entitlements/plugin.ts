import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { Config } from '../config/config.js';
import { startChangeFeed } from '../db/change-feed.js';
import { createInvalidatingCache } from './cache.js';
import type { Found } from './repository.js';
import { createEntitlementService, type EntitlementService } from './service.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** The answer to "what may this user have?" (`GET /v1/entitlements` and the checks). */
    entitlements: EntitlementService;
  }
}

/** The channel migration 0009's triggers notify. */
export const ENTITLEMENT_CHANGES_CHANNEL = 'entitlement_changes';

/** The entitlement service, its lookup cache (fed by the change feed) and the cache's metrics. */
export const entitlementsPlugin = fp(
  async (app: FastifyInstance, { config }: { config: Config }) => {
    const cache = await cacheWithChangeFeed(app, config);
    // Exposed whatever the database, so dashboards read the same series everywhere (zero when off).
    app.metrics.entitlementCache(() =>
      cache
        ? { ...cache.stats, size: cache.size, enabled: cache.enabled }
        : { hits: 0, misses: 0, size: 0, enabled: false },
    );
    app.decorate(
      'entitlements',
      createEntitlementService({
        db: app.database.db,
        pool: app.database.pool,
        policy: { declinedGraceDays: config.entitlements.declinedGraceDays },
        cache,
        now: app.clock,
      }),
    );
  },
  { name: 'entitlements', dependencies: ['database', 'metrics'] },
);

/**
 * The lookup cache, on real PostgreSQL only: it needs the change feed, which the embedded database
 * (one process, one session) cannot serve. Off until the feed listens, and whenever it is lost.
 */
async function cacheWithChangeFeed(app: FastifyInstance, config: Config) {
  const { cacheEntries, cacheTtlMs } = config.entitlements;
  if (app.database.kind !== 'postgres' || cacheEntries === 0) return undefined;
  const cache = createInvalidatingCache<Found>({ maxEntries: cacheEntries, ttlMs: cacheTtlMs });
  const feed = startChangeFeed({
    connectionString: app.database.connectionString,
    channel: ENTITLEMENT_CHANGES_CHANNEL,
    log: app.log,
    onUp: () => cache.enable(),
    onDown: () => cache.disable(),
    onMessage(payload) {
      const tags = parseTags(payload);
      if (tags === undefined) app.log.warn('unreadable entitlement change; the cache is emptied');
      cache.invalidate(tags === undefined || tags.includes('*') ? 'all' : tags);
    },
  });
  app.addHook('onClose', () => feed.close());
  return cache;
}

function parseTags(payload: string): string[] | undefined {
  try {
    const tags: unknown = JSON.parse(payload);
    return Array.isArray(tags) && tags.every((tag) => typeof tag === 'string') ? tags : undefined;
  } catch {
    return undefined;
  }
}
