import type { Db } from '../db/database.js';
import type { Clock } from '../shared/clock.js';
import { defineError } from '../shared/errors.js';
import { countPeriods, readAnalytics } from './repository.js';
import type { AnalyticsQuery, AnalyticsView } from './schemas.js';

export const TooManyPeriodsError = defineError(
  'ANALYTICS_TOO_MANY_PERIODS',
  400,
  'Too many periods',
);

const MAX_PERIODS = 400;

type Amount = { currency: string | null; cents: number };

/**
 * Campaign analytics computed in SQL (repository.ts) from pledge history (what happened when)
 * and members (what is true now), per day, week or month up to `to` (default: now).
 */
export function createAnalyticsService(deps: {
  db: Db;
  clock: Clock;
  /** Throws CAMPAIGN_NOT_FOUND unless the campaign is synced here. */
  requireCampaign: (id: string) => Promise<unknown>;
}) {
  return {
    async campaign(campaignId: string, query: AnalyticsQuery): Promise<AnalyticsView> {
      await deps.requireCampaign(campaignId);
      const to = query.to ?? deps.clock().toISOString();
      const { count, from } = await countPeriods(deps.db, query, to);
      if (count > MAX_PERIODS) {
        throw new TooManyPeriodsError(`At most ${MAX_PERIODS} ${query.interval}s per request.`);
      }
      const row = await readAnalytics(deps.db, campaignId, query.interval, { from, to });
      return {
        campaignId,
        interval: query.interval,
        periods: row?.periods ?? [],
        totals: row?.totals ?? { activePatrons: 0, lifetimeSupport: [] as Amount[] },
      };
    },
  };
}

export type AnalyticsService = ReturnType<typeof createAnalyticsService>;
