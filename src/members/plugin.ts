import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { Config } from '../config/config.js';
import { startClockReviews } from './clock-reviews.js';
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
    const loop = startClockReviews({
      db: app.database.db,
      review,
      pollMs: config.entitlements.schedulePollMs,
      batchSize: 200,
      log: app.log,
    });
    app.addHook('onClose', () => loop.close());
  },
  { name: 'members', dependencies: ['database'] },
);
