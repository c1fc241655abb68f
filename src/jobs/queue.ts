import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import PgBoss from 'pg-boss';
import type { Config } from '../config/config.js';
import type { Database } from '../db/database.js';

declare module 'fastify' {
  interface FastifyInstance {
    queue: PgBoss;
  }
}

/**
 * pg-boss over the app's own pool: one Postgres-backed queue shared by every instance (SKIP
 * LOCKED), identical on the embedded database (whose single connection it shares) and a real
 * server. Statements without parameters go out as simple queries, because pg-boss sends its
 * schema as multi-statement scripts.
 */
export function createQueue(
  database: Database,
  options: { expireSeconds: number; schedule: boolean },
) {
  return new PgBoss({
    db: {
      executeSql: (text: string, values: unknown[]) =>
        values && values.length > 0 ? database.pool.query(text, values) : database.pool.query(text),
    },
    schema: 'pgboss',
    expireInSeconds: options.expireSeconds,
    retryLimit: 5,
    retryDelay: 5,
    retryBackoff: true,
    schedule: options.schedule,
    // Completed jobs are of no use once sync_jobs holds the outcome.
    deleteAfterDays: 7,
  });
}

/** Starts the queue with the app (workers are added by the domains) and stops it gracefully. */
export const queuePlugin = fp(
  async (app: FastifyInstance, { config }: { config: Config }) => {
    const queue = createQueue(app.database, {
      expireSeconds: config.sync.expireSeconds,
      schedule: true,
    });
    queue.on('error', (error) => app.log.error({ err: error }, 'job queue error'));
    await queue.start();
    app.decorate('queue', queue);
    // Before the database closes: let running jobs finish their current step.
    app.addHook('preClose', async () => {
      await queue.stop({ graceful: true, wait: true, timeout: config.server.shutdownTimeoutMs });
    });
  },
  { name: 'queue', dependencies: ['database'] },
);
