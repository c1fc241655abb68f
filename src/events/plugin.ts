import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { Config } from '../config/config.js';
import { createDeliveryWorker, type DeliveryWorker } from './delivery-worker.js';
import { createEndpointService, type EndpointService } from './endpoint-service.js';
import { createEventService, type EventService } from './event-service.js';
import { createEventSender } from './sender.js';
import { checkEndpointUrl } from './url-guard.js';

declare module 'fastify' {
  interface FastifyInstance {
    events: {
      endpoints: EndpointService;
      events: EventService;
      worker: DeliveryWorker;
    };
  }
}

/**
 * Events out to the host: endpoints (one from config), the delivery worker that every instance
 * runs (deliveries are fanned out when events are recorded: see record-event.ts), and the
 * services behind `/v1/event-endpoints` and `/v1/events`.
 */
export const eventsPlugin = fp(
  async (app: FastifyInstance, { config }: { config: Config }) => {
    const settings = config.events;
    const db = app.database.db;
    const sender = createEventSender({
      timeoutMs: settings.timeoutMs,
      allowPrivateUrls: settings.allowPrivateUrls,
    });
    const worker = createDeliveryWorker({
      db,
      cipher: app.cipher,
      sender,
      log: app.log,
      retryScheduleMs: settings.retryScheduleMs,
      timeoutMs: settings.timeoutMs,
      disableAfterMs: settings.disableAfterMs,
      concurrency: settings.concurrency,
      pollIntervalMs: settings.pollIntervalMs,
      metrics: app.metrics,
    });
    const endpoints = createEndpointService({
      db,
      cipher: app.cipher,
      log: app.log,
      allowPrivateUrls: settings.allowPrivateUrls,
      secretOverlapMs: settings.secretOverlapMs,
      wakeWorker: () => worker.notify(),
    });
    const events = createEventService({ db, wakeWorker: () => worker.notify() });
    app.decorate('events', { endpoints, events, worker });

    await endpoints.syncConfigEndpoint(settings.endpoint);
    if (settings.endpoint) {
      // The operator's URL is not refused at start (DNS may be down for a moment), but every
      // delivery to an internal address would be: say so now rather than in each attempt.
      const verdict = await checkEndpointUrl(settings.endpoint.url, {
        allowPrivate: settings.allowPrivateUrls,
      });
      if (!verdict.ok) {
        app.log.error(
          { reason: verdict.reason },
          'EVENTS_ENDPOINT_URL is refused by the SSRF guard; set EVENTS_ALLOW_PRIVATE_URLS=true to deliver to an internal address',
        );
      }
    }
    app.addHook('onReady', async () => worker.start());
    // Before the database closes: attempts in flight finish and their outcomes are saved.
    app.addHook('preClose', async () => {
      await worker.close();
      await sender.close();
    });
  },
  { name: 'events', dependencies: ['database', 'cipher', 'metrics'] },
);
