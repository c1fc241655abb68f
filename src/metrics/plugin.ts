import type { FastifyInstance, onResponseHookHandler } from 'fastify';
import fp from 'fastify-plugin';
import { collectDefaultMetrics } from 'prom-client';
import { createMetrics, type Metrics } from './metrics.js';
import { addScrapeGauges } from './scrape-gauges.js';

declare module 'fastify' {
  interface FastifyInstance {
    metrics: Metrics;
  }
}

/** The `route` label of requests no route matched (404, 405): one series, whatever the path. */
export const UNMATCHED_ROUTE = 'unmatched';

/**
 * The app's metrics (its own registry), process metrics on it, and HTTP request metrics. Each
 * route gets its own response hook, bound to its pattern when the route is added, so a request
 * pays no label lookup; requests no route matched are counted under one `unmatched` route.
 * Registered before the modules it measures; the scrape-time gauges read the database and the
 * job queue only when scraped.
 */
export const metricsPlugin = fp(
  async (app: FastifyInstance) => {
    const metrics = createMetrics();
    collectDefaultMetrics({ register: metrics.registry });
    addScrapeGauges(metrics, {
      db: app.database.db,
      queue: () => (app.hasDecorator('queue') ? app.queue : undefined),
      log: app.log,
    });
    app.decorate('metrics', metrics);

    app.addHook('onRoute', (route) => {
      const methods = Array.isArray(route.method) ? route.method : [route.method];
      const recorders = new Map(methods.map((m) => [m, metrics.httpRoute(m, route.url)]));
      const hook: onResponseHookHandler = (request, reply, done) => {
        recorders.get(request.method)?.(reply.statusCode, reply.elapsedTime / 1000);
        done();
      };
      const existing = route.onResponse;
      route.onResponse = [
        ...(Array.isArray(existing) ? existing : existing ? [existing] : []),
        hook,
      ];
    });

    const unmatched = new Map<string, ReturnType<Metrics['httpRoute']>>();
    app.addHook('onResponse', (request, reply, done) => {
      if (request.is404) {
        let record = unmatched.get(request.method);
        if (!record) {
          record = metrics.httpRoute(request.method, UNMATCHED_ROUTE);
          unmatched.set(request.method, record);
        }
        record(reply.statusCode, reply.elapsedTime / 1000);
      }
      done();
    });
  },
  { name: 'metrics', dependencies: ['database'] },
);
