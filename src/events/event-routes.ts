import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { problemResponses } from '../http/problem.js';
import { pageOf } from '../shared/pagination.js';
import { eventDetail, eventParams, eventView, listEventsQuery, replayBody } from './schemas.js';

/** `/v1/events`: what was recorded for the host and how each delivery went. */
export const eventRoutes: FastifyPluginAsyncZod = async (app) => {
  app.get(
    '/events',
    {
      schema: {
        operationId: 'listEvents',
        tags: ['events'],
        summary: 'List events, with each delivery and its attempts',
        description: 'Newest first.',
        querystring: listEventsQuery,
        response: { 200: pageOf(eventView), ...problemResponses(400, 401, 500) },
      },
    },
    async (request) => app.events.events.list(request.query),
  );

  app.get(
    '/events/:id',
    {
      schema: {
        operationId: 'getEvent',
        tags: ['events'],
        summary: 'Get one event, with the data its deliveries carry',
        params: eventParams,
        response: { 200: eventDetail, ...problemResponses(400, 401, 404, 500) },
      },
    },
    async (request) => app.events.events.get(request.params.id),
  );

  app.post(
    '/events/:id/replay',
    {
      schema: {
        operationId: 'replayEvent',
        tags: ['events'],
        summary: 'Deliver an event again',
        description:
          'To one endpoint (`endpointId`), or to every enabled endpoint whose filter matches. Same `webhook-id` as before, so the host can recognise it.',
        params: eventParams,
        body: replayBody,
        response: { 202: eventDetail, ...problemResponses(400, 401, 404, 409, 500) },
      },
    },
    async (request, reply) =>
      reply
        .code(202)
        .send(await app.events.events.replay(request.params.id, request.body?.endpointId)),
  );
};
