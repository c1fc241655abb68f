import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { problemResponses } from '../http/problem.js';
import { UnauthorizedError } from '../shared/errors.js';

const digest = (value: string) => createHash('sha256').update(value).digest();

/**
 * `Authorization: Bearer <token>` against the metrics token, hashed to a fixed length and
 * compared in constant time. Kept apart from the API keys: the scraper gets no API access.
 */
function createTokenCheck(token: string) {
  const expected = digest(token);
  return (header: string | undefined) => {
    const match = /^Bearer[ ]+(\S+)\s*$/i.exec(header ?? '');
    return timingSafeEqual(expected, digest(match?.[1] ?? '')) && match !== null;
  };
}

/** `GET /metrics`: the Prometheus text format, behind `METRICS_TOKEN` when one is set. */
export const metricsRoutes: FastifyPluginAsyncZod<{ token: string | undefined }> = async (
  app,
  { token },
) => {
  const isValid = token ? createTokenCheck(token) : () => true;
  app.get(
    '/metrics',
    {
      // Scraped every few seconds: no info line per scrape.
      logLevel: 'warn',
      schema: {
        operationId: 'getMetrics',
        tags: ['operations'],
        security: [],
        summary: 'Prometheus metrics (for the scraper, not the host)',
        description:
          'Metrics in the Prometheus text format: HTTP requests, webhook deliveries and apply lag, sync jobs, Patreon calls and rate-limit waits, token refreshes, connections by status, job queue depth, event deliveries and backlog, process metrics. When `METRICS_TOKEN` is set, send it as `Authorization: Bearer <token>` (API keys are not accepted here). Gauges read from the database are left out of a scrape while the database does not answer.',
        response: {
          200: {
            description: 'The metrics.',
            content: { 'text/plain; version=0.0.4': { schema: z.string() } },
          },
          401: {
            ...problemResponses(401)[401],
            description: 'Missing or invalid metrics token (only when `METRICS_TOKEN` is set).',
          },
        },
      },
    },
    async (request, reply) => {
      if (!isValid(request.headers.authorization)) {
        reply.header('www-authenticate', 'Bearer realm="patreon-gateway metrics"');
        throw new UnauthorizedError(
          request.headers.authorization
            ? 'The metrics token is not valid.'
            : 'Send the metrics token as `Authorization: Bearer <token>`.',
        );
      }
      const text = await app.metrics.registry.metrics();
      return reply.type(app.metrics.registry.contentType).send(text);
    },
  );
};
