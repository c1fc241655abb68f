import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { problemResponses } from '../http/problem.js';
import { campaignParams } from '../shared/schemas.js';
import { analyticsQuery, analyticsView } from './schemas.js';

export const analyticsRoutes: FastifyPluginAsyncZod = async (app) => {
  app.get(
    '/campaigns/:id/analytics',
    {
      schema: {
        operationId: 'getCampaignAnalytics',
        tags: ['campaigns'],
        summary: 'MRR, patrons, churn and charges per day, week or month',
        description:
          'Per period (UTC, weeks start on Monday): MRR by currency and per tier, active patrons at the end, new, reactivated and churned pledges, upgrades, downgrades, declined and recovered charges, and what was charged; plus totals now (active patrons, lifetime support). Computed from the synced pledge history: a member’s pledge at a moment is its last start, upgrade, downgrade or delete before then, at its monthly amount, so annual pledges count per month. At most 400 periods.',
        params: campaignParams,
        querystring: analyticsQuery,
        response: { 200: analyticsView, ...problemResponses(400, 401, 404, 500) },
      },
    },
    async (request) => {
      return app.analytics.campaign(request.params.id, request.query);
    },
  );
};
