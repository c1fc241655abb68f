import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { pageOf } from '../http/pagination.js';
import { problemResponses } from '../http/problem.js';
import { connectionParams, connectionView, listConnectionsQuery } from './schemas.js';
import { createConnectionsService } from './service.js';

export const connectionRoutes: FastifyPluginAsyncZod = async (app) => {
  const connections = createConnectionsService({ db: app.database.db });

  app.get(
    '/connections',
    {
      schema: {
        operationId: 'listConnections',
        tags: ['connections'],
        summary: 'List connections',
        description: 'Newest first. Filter by your user id, role or status.',
        querystring: listConnectionsQuery,
        response: { 200: pageOf(connectionView), ...problemResponses(400, 401, 500) },
      },
    },
    async (request) => connections.list(request.query),
  );

  app.get(
    '/connections/:id',
    {
      schema: {
        operationId: 'getConnection',
        tags: ['connections'],
        summary: 'Get a connection',
        params: connectionParams,
        response: { 200: connectionView, ...problemResponses(400, 401, 404, 500) },
      },
    },
    async (request) => connections.get(request.params.id),
  );
};
