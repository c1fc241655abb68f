import type { FastifyInstance } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { Config } from '../config/config.js';
import { startChangeFeed } from '../db/change-feed.js';
import { okThrough } from '../http/hot-route.js';
import { problemResponses } from '../http/problem.js';
import { createInvalidatingCache } from './cache.js';
import { ENTITLING_CHARGES, OVERRIDING_CHARGES } from './policy.js';
import type { Found } from './repository.js';
import { checkBody, checkResult, entitlementQuery, entitlementView } from './schemas.js';
import { createEntitlementService } from './service.js';

/** The channel migration 0009's triggers notify. */
export const ENTITLEMENT_CHANGES_CHANNEL = 'entitlement_changes';

const policyText = (graceDays: number) =>
  [
    'The policy: only the asked campaign counts. A follower (`patron_status` null) or a `former_patron` is not entitled.',
    `An \`active_patron\` is entitled when the last charge is ${ENTITLING_CHARGES.map((c) => `\`${c}\``).join(', ')}, or the membership is gifted or a free trial. Otherwise the tiers Patreon lists as \`currently_entitled_tiers\` decide (no charge yet: a per-post campaign, or one charged on the 1st), unless the last charge is ${OVERRIDING_CHARGES.map((c) => `\`${c}\``).join(', ')} (\`charge_not_settled\`).`,
    `A \`declined_patron\` keeps access for ${graceDays} days after the declined charge (\`ENTITLEMENT_DECLINED_GRACE_DAYS\`).`,
    'Entitled tiers are Patreon’s `currently_entitled_tiers`, highest amount first (the first wins); a tier deleted at Patreon is honoured through pledge history until the period its last paid charge covered ends.',
    'Every answer carries `asOf`, when Patreon last confirmed the membership.',
    'The user is identified by the Patreon account they connected (never by an email); the membership comes from the creator’s synced member list, or else from the user’s own connection.',
  ].join(' ');

/** `/v1/entitlements`: what a host user may have in one campaign, and why. */
export const entitlementRoutes: FastifyPluginAsyncZod<{ config: Config }> = async (
  app,
  { config },
) => {
  const cache = await cacheWithChangeFeed(app, config);
  // Exposed whatever the database, so dashboards read the same series everywhere (zero when off).
  app.metrics.entitlementCache(() =>
    cache
      ? { ...cache.stats, size: cache.size, enabled: cache.enabled }
      : { hits: 0, misses: 0, size: 0, enabled: false },
  );
  const service = createEntitlementService({
    db: app.database.db,
    pool: app.database.pool,
    policy: { declinedGraceDays: config.entitlements.declinedGraceDays },
    cache,
    now: app.clock,
  });
  const policy = policyText(config.entitlements.declinedGraceDays);

  app.get(
    '/entitlements',
    {
      schema: {
        operationId: 'getEntitlement',
        tags: ['entitlements'],
        summary: 'What a user is entitled to in a campaign',
        description: `Active or not, entitled tiers and benefits, amount (with the monthly equivalent of annual pledges), status and since when, and the source. ${policy}`,
        querystring: entitlementQuery,
        response: { 200: entitlementView, ...problemResponses(400, 401, 404, 500) },
      },
      // The hot path: answers are written by the service's compiled stringifier, once per answer.
      serializerCompiler: okThrough(service.serialize),
    },
    async (request) => {
      const { externalUserId, campaignId, explain } = request.query;
      return service.get(externalUserId, campaignId, explain);
    },
  );

  app.post(
    '/entitlements/check',
    {
      schema: {
        operationId: 'checkEntitlement',
        tags: ['entitlements'],
        summary: 'Is the user entitled (to a tier, an amount or a benefit)?',
        description: `With \`tierId\`: that tier or a higher one. With \`minAmountCents\`: at least that much per month. With \`benefitId\`: a tier granting it. With none: entitled at all. ${policy}`,
        body: checkBody,
        response: { 200: checkResult, ...problemResponses(400, 401, 404, 500) },
      },
    },
    async (request) => service.check(request.body),
  );
};

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
