import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { Config } from '../config/config.js';
import { createPatreonClient, type PatreonClient } from './client.js';

declare module 'fastify' {
  interface FastifyInstance {
    patreon: PatreonClient;
    /** Patreon calls and 429s per token key (connection id) since start; read by the sync. */
    patreonUsage: Map<string, { calls: number; rateLimited: number }>;
  }
}

/** The app's one Patreon client (one dispatcher, one governor), closed when the app closes. */
export const patreonPlugin = fp(
  async (app: FastifyInstance, { config }: { config: Config }) => {
    const usage = new Map<string, { calls: number; rateLimited: number }>();
    const client = createPatreonClient({
      baseUrl: config.patreon.baseUrl,
      clientId: config.patreon.clientId,
      clientSecret: config.patreon.clientSecret,
      limits: {
        client: { requests: config.rateLimits.clientPer2s, windowMs: 2_000 },
        token: { requests: config.rateLimits.tokenPerMinute, windowMs: 60_000 },
      },
      onCall: (event) => {
        const key = event.tokenKey;
        const entry = usage.get(key) ?? { calls: 0, rateLimited: 0 };
        entry.calls++;
        if (event.status === 429) entry.rateLimited++;
        usage.set(key, entry);
      },
    });
    app.decorate('patreon', client);
    app.decorate('patreonUsage', usage);
    app.addHook('onClose', () => client.close());
  },
  { name: 'patreon' },
);
