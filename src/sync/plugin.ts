import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { Config } from '../config/config.js';
import { createMembersPageDecoder } from './members-page-decoder.js';
import { createSyncRunner } from './runner.js';
import { createSyncService, SYNC_QUEUE, type SyncService } from './service.js';

declare module 'fastify' {
  interface FastifyInstance {
    sync: SyncService;
  }
}

const RECONCILE_ALL = 'sync-reconcile-all';

/**
 * Sync workers on the shared queue: each job runs in slices and requeues itself, so creators take
 * turns; a slice whose worker died expires and is retried from the last committed page. The
 * reconcile schedule is a pg-boss cron, which fires once per slot across all instances.
 */
export const syncPlugin = fp(
  async (
    app: FastifyInstance,
    {
      config,
      onReconcile,
    }: { config: Config; onReconcile: readonly ((connectionId: string) => Promise<unknown>)[] },
  ) => {
    const workerIds: string[] = [];
    const decoder = createMembersPageDecoder({ thread: true });
    app.addHook('onClose', () => decoder.close());
    const service = createSyncService({
      db: app.database.db,
      queue: app.queue,
      vault: app.connections.vault,
      patreon: app.patreon,
      log: app.log,
      wakeWorkers: () => {
        for (const id of workerIds) app.queue.notifyWorker(id);
      },
      onReconcile,
    });
    const runner = createSyncRunner({
      db: app.database.db,
      vault: app.connections.vault,
      patreon: app.patreon,
      usage: app.patreonUsage,
      log: app.log,
      sliceMs: config.sync.sliceSeconds * 1000,
      maxRowsPerTransaction: app.database.kind === 'embedded' ? 200 : Number.POSITIVE_INFINITY,
      decoder,
      entitlements: app.members,
      clock: app.clock,
      metrics: app.metrics,
    });
    app.decorate('sync', service);

    // `stately` makes the job id (the slice's singletonKey) admit one queued and one running
    // slice at most: a sync requested again while a slice runs must not start a second slice of
    // the same job beside it (under `standard`, pg-boss ignores singletonKey).
    const syncQueue = {
      name: SYNC_QUEUE,
      policy: 'stately' as const,
      retryLimit: 10,
      retryDelay: 5,
      retryBackoff: true,
    };
    await app.queue.createQueue(SYNC_QUEUE, syncQueue);
    // A queue created by an earlier version keeps its old policy unless updated.
    await app.queue.updateQueue(SYNC_QUEUE, syncQueue);
    await app.queue.createQueue(RECONCILE_ALL, { name: RECONCILE_ALL });
    await app.queue.schedule(RECONCILE_ALL, config.sync.reconcileCron, {}, { tz: 'UTC' });

    for (let worker = 0; worker < config.sync.concurrency; worker++) {
      const id = await app.queue.work<{ jobId: string }>(
        SYNC_QUEUE,
        { batchSize: 1, pollingIntervalSeconds: 1, includeMetadata: true },
        async ([job]) => {
          if (!job) return;
          const outcome = await runner.runSlice(job.data.jobId, { retry: job.retryCount > 0 });
          if (outcome === 'continue') await service.enqueue(job.data.jobId);
          else if (outcome !== 'done') {
            await service.enqueue(job.data.jobId, { startAfterMs: outcome.waitMs });
          }
        },
      );
      workerIds.push(id);
    }
    // Polled often enough that a scheduled pass starts within seconds of its cron slot.
    await app.queue.work(RECONCILE_ALL, { pollingIntervalSeconds: 5 }, async () => {
      const count = await service.reconcileAll();
      app.log.info({ connections: count }, 'scheduled reconcile queued');
    });
  },
  { name: 'sync', dependencies: ['members', 'queue', 'connections', 'patreon', 'metrics'] },
);
