import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';

/** Read API for synced Patreon data (campaigns, tiers, members, posts, pledge events). */
export const campaignRoutes: FastifyPluginAsyncZod = async () => {};
