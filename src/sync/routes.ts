import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { connectionParams } from '../connections/schemas.js';
import { problemResponses } from '../http/problem.js';
import { pageOf } from '../shared/pagination.js';
import { listSyncJobsQuery, startSyncBody, syncJobParams, syncJobView } from './schemas.js';

export const syncRoutes: FastifyPluginAsyncZod = async (app) => {
  app.post(
    '/connections/:id/sync',
    {
      schema: {
        operationId: 'startSync',
        tags: ['sync'],
        summary: 'Sync a creator connection now',
        description:
          '`full` re-reads everything; `reconcile` does the same and reports the drift (what webhooks had missed). One job per campaign; a job already queued or running is returned instead of a new one. Connecting a creator starts a full sync by itself, and every creator is reconciled on `SYNC_RECONCILE_CRON`.',
        params: connectionParams,
        body: startSyncBody,
        response: {
          202: z.object({ jobs: z.array(syncJobView) }),
          ...problemResponses(400, 401, 404, 409, 500, 503),
        },
      },
    },
    async (request, reply) =>
      reply
        .code(202)
        .send({ jobs: await app.sync.start(request.params.id, request.body.mode, 'manual') }),
  );

  app.get(
    '/sync-jobs',
    {
      schema: {
        operationId: 'listSyncJobs',
        tags: ['sync'],
        summary: 'List sync jobs',
        description: 'Newest first.',
        querystring: listSyncJobsQuery,
        response: { 200: pageOf(syncJobView), ...problemResponses(400, 401, 500) },
      },
    },
    async (request) => app.sync.list(request.query),
  );

  app.get(
    '/sync-jobs/:id',
    {
      schema: {
        operationId: 'getSyncJob',
        tags: ['sync'],
        summary: 'Get a sync job: status, progress, counts, drift, error',
        params: syncJobParams,
        response: { 200: syncJobView, ...problemResponses(400, 401, 404, 500) },
      },
    },
    async (request) => app.sync.get(request.params.id),
  );

  app.post(
    '/sync-jobs/:id/cancel',
    {
      schema: {
        operationId: 'cancelSyncJob',
        tags: ['sync'],
        summary: 'Cancel a queued or running sync job',
        description:
          'A running job stops after its current page. Finished jobs are returned unchanged.',
        params: syncJobParams,
        response: { 200: syncJobView, ...problemResponses(400, 401, 404, 500) },
      },
    },
    async (request) => app.sync.cancel(request.params.id),
  );
};
