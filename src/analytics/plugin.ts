import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { type AnalyticsService, createAnalyticsService } from './service.js';

declare module 'fastify' {
  interface FastifyInstance {
    analytics: AnalyticsService;
  }
}

/** Campaign analytics, over the synced campaigns. */
export const analyticsPlugin = fp(
  async (app: FastifyInstance) => {
    app.decorate(
      'analytics',
      createAnalyticsService({
        db: app.database.db,
        clock: app.clock,
        requireCampaign: app.campaigns.requireCampaign,
      }),
    );
  },
  { name: 'analytics', dependencies: ['database', 'campaigns'] },
);
