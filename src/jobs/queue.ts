import { createRequire } from 'node:module';
import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import PgBoss from 'pg-boss';
import type { Config } from '../config/config.js';
import type { Database } from '../db/database.js';

export type Queue = PgBoss & {
  /** Stops the workers (running jobs finish); sending still works, for requests in flight. */
  stopWorkers(timeoutMs: number): Promise<void>;
  /** Refuses further statements and waits for those in flight, so the database can close. */
  close(): Promise<void>;
};

declare module 'fastify' {
  interface FastifyInstance {
    queue: Queue;
  }
}

/**
 * pg-boss 10 calls `complete()` / `fail()` after a job's handler without awaiting them
 * (src/manager.js, `onFetch`). When the database is away at that moment (a restart), the
 * rejection is unhandled and Node ends the process. Those promises are marked handled and the
 * error goes to the queue's `error` event; the job stays active until it expires and is retried,
 * as after a crash.
 */
function handleUnawaitedCompletions(): void {
  type Manager = { prototype: Record<string, unknown> };
  const manager = createRequire(import.meta.url)('pg-boss/src/manager.js') as Manager;
  for (const name of ['complete', 'fail']) {
    const original = manager.prototype[name] as ((...args: unknown[]) => Promise<unknown>) & {
      handled?: true;
    };
    if (original.handled) continue;
    const wrapped = function (this: NodeJS.EventEmitter, ...args: unknown[]) {
      const result = original.apply(this, args);
      result.catch((error: unknown) => {
        if (this.listenerCount('error') > 0) this.emit('error', error);
      });
      return result;
    };
    manager.prototype[name] = Object.assign(wrapped, { handled: true as const });
  }
}

/**
 * Instances starting together create pg-boss's queues at once, and each queue is a partition
 * (DDL): Postgres can pick one as a deadlock victim and roll its statement back, so it is safe to
 * send again. Without this, one of two instances started together could fail to start.
 */
async function retryDeadlocks<T>(send: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await send();
    } catch (error) {
      if ((error as { code?: string }).code !== '40P01' || attempt >= 5) throw error;
      await sleep(Math.round(50 + Math.random() * 200 * attempt));
    }
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
): Queue {
  handleUnawaitedCompletions();
  // pg-boss's stop() returns while its workers may still be polling: queries they send after it
  // are refused, and close() waits for those in flight, so the database can then close cleanly.
  const inFlight = new Set<Promise<unknown>>();
  let closing = false;
  const executeSql = (text: string, values: unknown[]) => {
    if (closing) return Promise.reject(new Error('the job queue is stopping'));
    const send = () =>
      values && values.length > 0 ? database.pool.query(text, values) : database.pool.query(text);
    const query = retryDeadlocks(send);
    inFlight.add(query);
    return query.finally(() => inFlight.delete(query));
  };
  const boss = new PgBoss({
    db: { executeSql },
    schema: 'pgboss',
    expireInSeconds: options.expireSeconds,
    // Expired jobs (their worker died) are found by maintenance: look often enough to retry
    // them within about half their expiry.
    maintenanceIntervalSeconds: Math.max(1, Math.min(120, Math.round(options.expireSeconds / 2))),
    retryLimit: 5,
    retryDelay: 5,
    retryBackoff: true,
    schedule: options.schedule,
    // Completed jobs are of no use once sync_jobs holds the outcome.
    deleteAfterDays: 7,
  });
  return Object.assign(boss, {
    async stopWorkers(timeoutMs: number) {
      await boss.stop({ graceful: true, wait: true, timeout: timeoutMs });
    },
    async close() {
      closing = true;
      await Promise.allSettled([...inFlight]);
    },
  });
}

/** Starts the queue with the app (workers are added by the domains) and stops it gracefully. */
export const queuePlugin = fp(
  async (app: FastifyInstance, { config }: { config: Config }) => {
    let stopping = false;
    const open = async () => {
      const queue = createQueue(app.database, {
        expireSeconds: config.sync.expireSeconds,
        schedule: true,
      });
      queue.on('error', (error: unknown) => {
        if (!stopping) app.log.error({ err: error }, 'job queue error');
      });
      await queue.start();
      return queue;
    };
    let queue: Queue;
    try {
      queue = await open();
    } catch (error) {
      // Instances starting together on a fresh database race to install pg-boss's schema: the
      // one that loses fails on a duplicate (pg-boss cannot start the same object twice), and a
      // new queue finds the schema in place.
      if ((error as { code?: string }).code !== '23505') throw error;
      app.log.warn({ err: error }, 'job queue schema created by another instance; starting again');
      queue = await open();
    }
    app.decorate('queue', queue);
    // Before the database closes: running jobs finish their current page.
    app.addHook('preClose', async () => {
      stopping = true;
      await queue.stopWorkers(config.server.shutdownTimeoutMs);
    });
    // Requests still in flight while the server drains may queue work (a sync asked for just
    // before SIGTERM): the queue refuses statements only once they are done, before the
    // database closes (its onClose runs after this one).
    app.addHook('onClose', () => queue.close());
  },
  { name: 'queue', dependencies: ['database'] },
);
