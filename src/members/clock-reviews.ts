import type { FastifyBaseLogger } from 'fastify';
import type { Db } from '../db/database.js';
import type { EntitlementReview } from './entitlement-review.js';

/**
 * The loop around `review.due`: every `pollMs`, announce the answers whose `until` has passed,
 * a batch per transaction until none is left. Every instance runs one; `SKIP LOCKED` shares the
 * rows out, so each change is announced once whoever finds it, and the schedule survives restarts
 * (it is the `due_at` column).
 */
export function startClockReviews(deps: {
  db: Db;
  review: EntitlementReview;
  pollMs: number;
  batchSize: number;
  log: FastifyBaseLogger;
}) {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let closed = false;

  async function drain() {
    try {
      let reviewed: number;
      do {
        reviewed = await deps.db.transaction((tx) => deps.review.due(tx, deps.batchSize));
      } while (reviewed === deps.batchSize && !closed);
    } catch (error) {
      if (!closed) deps.log.warn({ err: error }, 'clock review failed; will retry');
    }
  }

  function schedule() {
    if (closed) return;
    timer = setTimeout(() => {
      running = drain().finally(() => {
        running = undefined;
        schedule();
      });
    }, deps.pollMs);
    timer.unref();
  }
  schedule();

  return {
    /** Waits for the review under way, then stops. */
    async close() {
      closed = true;
      clearTimeout(timer);
      await running;
    },
  };
}
