import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { Config } from '../config/config.js';
import { okThrough } from '../http/hot-route.js';
import { problemResponses } from '../http/problem.js';
import { ENTITLING_CHARGES, OVERRIDING_CHARGES } from './policy.js';
import { checkBody, checkResult, entitlementQuery, entitlementView } from './schemas.js';

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
  const service = app.entitlements;
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
