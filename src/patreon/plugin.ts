import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { Config } from '../config/config.js';
import { createPatreonClient, type PatreonClient } from './client.js';

declare module 'fastify' {
  interface FastifyInstance {
    patreon: PatreonClient;
  }
}

/** The app's one Patreon client (one dispatcher, one governor), closed when the app closes. */
export const patreonPlugin = fp(
  async (app: FastifyInstance, { config }: { config: Config }) => {
    const client = createPatreonClient({
      baseUrl: config.patreon.baseUrl,
      clientId: config.patreon.clientId,
      clientSecret: config.patreon.clientSecret,
    });
    app.decorate('patreon', client);
    app.addHook('onClose', () => client.close());
  },
  { name: 'patreon' },
);
