import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { type CampaignsService, createCampaignsService } from './service.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** The synced Patreon data (campaigns, tiers, benefits, members, posts, pledge events). */
    campaigns: CampaignsService;
  }
}

export const campaignsPlugin = fp(
  async (app: FastifyInstance) => {
    app.decorate('campaigns', createCampaignsService({ db: app.database.db }));
  },
  { name: 'campaigns', dependencies: ['database'] },
);
