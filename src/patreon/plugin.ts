import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { Config } from '../config/config.js';
import { createPatreonClient, type PatreonClient } from './client.js';
import { createRateGovernor, patreonLimits } from './rate-governor.js';
import { createRateSlotStore } from './rate-slots.js';
import { withSharedBudget } from './shared-governor.js';
import { usageScope } from './usage.js';

declare module 'fastify' {
  interface FastifyInstance {
    patreon: PatreonClient;
    /**
     * Patreon calls and 429s since start, per usage scope (a sync job's id, see usage.ts) or,
     * outside any scope, per token key (connection id).
     */
    patreonUsage: Map<string, { calls: number; rateLimited: number }>;
  }
}

/** The app's one Patreon client (one dispatcher, one governor), closed when the app closes. */
export const patreonPlugin = fp(
  async (app: FastifyInstance, { config }: { config: Config }) => {
    const usage = new Map<string, { calls: number; rateLimited: number }>();
    const limits = {
      client: { requests: config.rateLimits.clientPer2s, windowMs: 2_000 },
      token: { requests: config.rateLimits.tokenPerMinute, windowMs: 60_000 },
      headroom: patreonLimits.headroom,
    };
    // On a shared Postgres, instances share Patreon's budget; the embedded database has one.
    let governor = createRateGovernor({ ...limits, onWait: app.metrics.governorWaited });
    if (app.database.kind === 'postgres') {
      const store = createRateSlotStore(app.database.db);
      governor = withSharedBudget(governor, store, limits);
      const pruner = setInterval(() => store.prune(60_000).catch(() => {}), 60_000);
      pruner.unref();
      app.addHook('onClose', async () => clearInterval(pruner));
    }
    const client = createPatreonClient({
      governor,
      baseUrl: config.patreon.baseUrl,
      clientId: config.patreon.clientId,
      clientSecret: config.patreon.clientSecret,
      onCall: (event) => {
        app.metrics.patreonCall(event);
        const key = usageScope.getStore() ?? event.tokenKey;
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
  { name: 'patreon', dependencies: ['database', 'metrics'] },
);
