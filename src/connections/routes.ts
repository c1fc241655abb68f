import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { problemResponses } from '../http/problem.js';
import { pageOf } from '../shared/pagination.js';
import {
  authorizeRequest,
  authorizeResponse,
  connectionParams,
  connectionView,
  disconnectQuery,
  listConnectionsQuery,
  membershipsView,
} from './schemas.js';

export const connectionRoutes: FastifyPluginAsyncZod = async (app) => {
  const { service, flow, memberships } = app.connections;

  app.post(
    '/connections/authorize',
    {
      schema: {
        operationId: 'authorizeConnection',
        tags: ['connections'],
        summary: 'Start connecting a user’s Patreon account',
        description:
          'Returns a one-time `authorizeUrl` to open in the user’s browser. After Patreon’s consent page the browser lands on `returnTo?connection=<id>` or `returnTo?error=<code>`. `returnTo` must match `RETURN_TO_ALLOWLIST`. Default scopes: creator `identity identity[email] campaigns campaigns.members campaigns.members[email] campaigns.posts w:campaigns.webhook`; patron `identity identity[email] identity.memberships`.',
        body: authorizeRequest,
        response: { 201: authorizeResponse, ...problemResponses(400, 401, 415, 422, 500) },
      },
    },
    async (request, reply) => reply.code(201).send(await flow.authorize(request.body)),
  );

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
    async (request) => service.list(request.query),
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
    async (request) => service.get(request.params.id),
  );

  app.post(
    '/connections/:id/refresh',
    {
      schema: {
        operationId: 'refreshConnection',
        tags: ['connections'],
        summary: 'Refresh the connection’s Patreon token now',
        description:
          'Tokens are refreshed automatically before they expire; this forces it. `409 CONNECTION_REVOKED` when Patreon no longer honours the grant; `503 CONNECTION_REFRESH_FAILED` while Patreon fails (retried with back-off).',
        params: connectionParams,
        response: { 200: connectionView, ...problemResponses(400, 401, 404, 409, 500, 503) },
      },
    },
    async (request) => service.refresh(request.params.id),
  );

  app.get(
    '/connections/:id/memberships',
    {
      schema: {
        operationId: 'listConnectionMemberships',
        tags: ['connections'],
        summary: 'The memberships a patron connection proves',
        description:
          'As last read from Patreon through the patron’s own token: at the connection, then every `PATRON_REFRESH_INTERVAL` and shortly after each `next_charge_date` (`PATRON_REFRESH_AFTER_CHARGE`), or when refreshed here. `asOf` is when Patreon last confirmed each one.',
        params: connectionParams,
        response: { 200: membershipsView, ...problemResponses(400, 401, 404, 500) },
      },
    },
    async (request) => ({ data: await memberships.list(request.params.id) }),
  );

  app.post(
    '/connections/:id/memberships/refresh',
    {
      schema: {
        operationId: 'refreshConnectionMemberships',
        tags: ['connections'],
        summary: 'Read a patron connection’s memberships from Patreon now',
        description:
          'Through the member pipeline, like the scheduled refresh: answers change and `entitlement.*` events are sent for what changed. `404` for a creator connection.',
        params: connectionParams,
        response: {
          200: membershipsView,
          ...problemResponses(400, 401, 404, 409, 500, 503),
        },
      },
    },
    async (request) => {
      await memberships.refresh(request.params.id);
      return { data: await memberships.list(request.params.id) };
    },
  );

  app.delete(
    '/connections/:id',
    {
      schema: {
        operationId: 'disconnectConnection',
        tags: ['connections'],
        summary: 'Disconnect',
        description:
          'Forgets the tokens, deletes the Patreon webhooks we registered for a creator and cancels its sync jobs. With `purge=true`, also deletes the data synced through it. Idempotent.',
        params: connectionParams,
        querystring: disconnectQuery,
        response: {
          204: z.null().describe('Disconnected.'),
          ...problemResponses(400, 401, 404, 500),
        },
      },
    },
    async (request, reply) => {
      await service.disconnect(request.params.id, request.query.purge);
      return reply.code(204).send(null);
    },
  );
};
