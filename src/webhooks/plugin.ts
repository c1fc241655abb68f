import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { Config } from '../config/config.js';
import { createWebhookApplier, type WebhookApplier } from './apply.js';
import { createEventWriter, type EventWriter } from './event-writer.js';
import { createWebhookRegistration, type WebhookRegistration } from './registration.js';
import { createWebhookSecrets, type WebhookSecrets } from './secrets.js';
import { createWebhookService, type WebhookService } from './service.js';

declare module 'fastify' {
  interface FastifyInstance {
    webhooks: {
      service: WebhookService;
      registration: WebhookRegistration;
      applier: WebhookApplier;
      /** The ingest route's two steps: verify a delivery's signature, store it durably. */
      secrets: WebhookSecrets;
      writer: EventWriter;
      /** Queues a repair of the connection's webhooks at Patreon (one job per connection). */
      reconcileLater: (connectionId: string) => Promise<void>;
    };
  }
}

export const WEBHOOK_RECONCILE_QUEUE = 'webhooks-reconcile';

/**
 * Patreon's webhooks into the gateway: registration at Patreon (on connect, on the reconcile
 * schedule, on demand), what the ingest route uses (verify, store durably), and the applier that
 * turns stored deliveries into rows and host events.
 */
export const webhooksPlugin = fp(
  async (app: FastifyInstance, { config }: { config: Config }) => {
    const db = app.database.db;
    const secrets = createWebhookSecrets({ db, cipher: app.cipher });
    const applier = createWebhookApplier({
      db,
      patreon: app.patreon,
      vault: app.connections.vault,
      entitlements: app.members,
      log: app.log,
      // The embedded database has one connection: a batch is one transaction holding it and
      // deliveries wait behind it, so there batches stay small (bench:webhooks, under load: 100
      // → 5 took ingest from ~170 to ~1,200 req/s and p99 from ~380 to ~80 ms).
      batchSize: app.database.kind === 'embedded' ? 5 : 100,
      maxAttempts: 8,
      pollMs: 1000,
      ingestBusy: () => writer.busy(),
      yieldMs: 1000,
      busyBatchSize: 20,
      metrics: app.metrics,
    });
    const writer = createEventWriter(app.database.pool, {
      maxBatch: 500,
      // One statement at a time on both databases; the next batch gathers while it commits.
      // More in flight only made smaller batches (more server CPU per row) and lets two batches
      // race on one dedupe key: bench:webhooks measured 1 ahead of 2 and 4 in req/s and p99.
      maxInFlight: 1,
      onStored: () => applier.notify(),
      prepared: app.database.kind === 'postgres',
    });
    const registration = createWebhookRegistration({
      db,
      vault: app.connections.vault,
      patreon: app.patreon,
      cipher: app.cipher,
      secrets,
      publicUrl: config.server.publicUrl,
      log: app.log,
    });
    const service = createWebhookService({
      db,
      registration,
      notifyApplier: () => applier.notify(),
    });
    // Registration talks to Patreon: a queued job (retried on failure), one per connection.
    await app.queue.createQueue(WEBHOOK_RECONCILE_QUEUE, {
      name: WEBHOOK_RECONCILE_QUEUE,
      retryLimit: 8,
      retryDelay: 10,
      retryBackoff: true,
    });
    const reconcileLater = async (connectionId: string) => {
      await app.queue.send(
        WEBHOOK_RECONCILE_QUEUE,
        { connectionId },
        { singletonKey: connectionId },
      );
    };
    app.decorate('webhooks', { service, registration, applier, secrets, writer, reconcileLater });
    await app.queue.work<{ connectionId: string }>(
      WEBHOOK_RECONCILE_QUEUE,
      { batchSize: 1, pollingIntervalSeconds: 1 },
      async ([job]) => {
        if (!job) return;
        await registration.reconcile(job.data.connectionId);
      },
    );
    app.addHook('onReady', async () => applier.notify());
    // Before the database closes: the applier finishes its batch and stops.
    app.addHook('preClose', async () => applier.close());
  },
  {
    name: 'webhooks',
    dependencies: ['members', 'queue', 'cipher', 'connections', 'patreon', 'database', 'metrics'],
  },
);
