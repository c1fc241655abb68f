import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { Config } from '../config/config.js';
import { startPollLoop } from '../jobs/poll-loop.js';
import { createEntitlementReview, type EntitlementReview } from './entitlement-review.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** The member pipeline's entitlement review, for every writer of members (sync, webhooks, OAuth). */
    members: EntitlementReview;
  }
}

/** The entitlement review, and the clock review loop that announces what time changes. */
export const membersPlugin = fp(
  async (app: FastifyInstance, { config }: { config: Config }) => {
    const review = createEntitlementReview({
      policy: { declinedGraceDays: config.entitlements.declinedGraceDays },
      clock: app.clock,
    });
    app.decorate('members', review);
    // Announces what the clock changes: answers whose `until` has passed, a batch per
    // transaction; `SKIP LOCKED` shares them out among instances.
    const batchSize = 200;
    const loop = startPollLoop({
      everyMs: config.entitlements.schedulePollMs,
      step: async () =>
        (await app.database.db.transaction((tx) => review.due(tx, batchSize))) === batchSize,
      log: app.log,
      what: 'clock review',
    });
    app.addHook('onClose', () => loop.close());
  },
  { name: 'members', dependencies: ['database'] },
);
