import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';

const readiness = z
  .object({
    status: z.enum(['ready', 'unavailable']),
    checks: z.object({
      database: z.enum(['ok', 'unreachable']),
      migrations: z.enum(['current', 'pending', 'unknown']),
    }),
  })
  .meta({ id: 'Readiness' });

export const healthRoutes: FastifyPluginAsyncZod = async (app) => {
  app.get(
    '/healthz',
    {
      logLevel: 'warn',
      schema: {
        operationId: 'getHealth',
        tags: ['operations'],
        security: [],
        summary: 'Liveness: the process is up',
        response: { 200: z.object({ status: z.literal('ok') }) },
      },
    },
    async () => ({ status: 'ok' as const }),
  );

  app.get(
    '/readyz',
    {
      logLevel: 'warn',
      schema: {
        operationId: 'getReadiness',
        tags: ['operations'],
        security: [],
        summary: 'Readiness: the database is reachable and migrated',
        description: 'Answers 503 while the database is unreachable or migrations are pending.',
        response: { 200: readiness, 503: readiness },
      },
    },
    async (_request, reply) => {
      const check = await app.checkDatabase();
      const ready = check.database && check.migrations;
      return reply.code(ready ? 200 : 503).send({
        status: ready ? 'ready' : 'unavailable',
        checks: {
          database: check.database ? 'ok' : 'unreachable',
          migrations: !check.database ? 'unknown' : check.migrations ? 'current' : 'pending',
        },
      });
    },
  );
};
