import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { problemResponses } from '../http/problem.js';
import { pageOf } from '../shared/pagination.js';
import {
  createEndpointBody,
  endpointParams,
  endpointView,
  endpointWithSecret,
  listEndpointsQuery,
  recoverBody,
  recoverOutcome,
  rotateSecretBody,
  updateEndpointBody,
} from './schemas.js';

const SIGNING =
  'Each delivery is a POST of `{ type, timestamp, data }` signed per Standard Webhooks: `webhook-id` (the event id, the same on every retry), `webhook-timestamp` (unix seconds), `webhook-signature` (`v1,<base64 HMAC-SHA256 of id.timestamp.body>`, keyed by the base64-decoded part of the secret after `whsec_`; during a rotation, two space-separated signatures). Verify with any Standard Webhooks library.';

/** `/v1/event-endpoints`: where the host receives events. */
export const eventEndpointRoutes: FastifyPluginAsyncZod = async (app) => {
  const endpoints = () => app.events.endpoints;

  app.post(
    '/event-endpoints',
    {
      schema: {
        operationId: 'createEventEndpoint',
        tags: ['events'],
        summary: 'Add an endpoint that receives events',
        description: `Answers the signing secret, once. ${SIGNING}`,
        body: createEndpointBody,
        response: { 201: endpointWithSecret, ...problemResponses(400, 401, 500) },
      },
    },
    async (request, reply) => reply.code(201).send(await endpoints().create(request.body)),
  );

  app.get(
    '/event-endpoints',
    {
      schema: {
        operationId: 'listEventEndpoints',
        tags: ['events'],
        summary: 'List event endpoints, with their health',
        description: 'Newest first. Secrets are never shown again.',
        querystring: listEndpointsQuery,
        response: { 200: pageOf(endpointView), ...problemResponses(400, 401, 500) },
      },
    },
    async (request) => endpoints().list(request.query),
  );

  app.get(
    '/event-endpoints/:id',
    {
      schema: {
        operationId: 'getEventEndpoint',
        tags: ['events'],
        summary: 'Get one event endpoint',
        params: endpointParams,
        response: { 200: endpointView, ...problemResponses(400, 401, 404, 500) },
      },
    },
    async (request) => endpoints().get(request.params.id),
  );

  app.patch(
    '/event-endpoints/:id',
    {
      schema: {
        operationId: 'updateEventEndpoint',
        tags: ['events'],
        summary: 'Change an endpoint’s URL, event types, description, or enable it again',
        params: endpointParams,
        body: updateEndpointBody,
        response: { 200: endpointView, ...problemResponses(400, 401, 404, 409, 500) },
      },
    },
    async (request) => endpoints().update(request.params.id, request.body),
  );

  app.delete(
    '/event-endpoints/:id',
    {
      schema: {
        operationId: 'deleteEventEndpoint',
        tags: ['events'],
        summary: 'Remove an endpoint and its deliveries',
        params: endpointParams,
        response: {
          204: z.null().describe('Deleted.'),
          ...problemResponses(400, 401, 404, 409, 500),
        },
      },
    },
    async (request, reply) => {
      await endpoints().remove(request.params.id);
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/event-endpoints/:id/rotate-secret',
    {
      schema: {
        operationId: 'rotateEventEndpointSecret',
        tags: ['events'],
        summary: 'Replace the signing secret',
        description:
          'Answers the new secret, once. Until `previousSecretsExpireAt` both the old and the new secret sign each delivery, so the host can switch over without dropping one.',
        params: endpointParams,
        body: rotateSecretBody,
        response: { 200: endpointWithSecret, ...problemResponses(400, 401, 404, 409, 500) },
      },
    },
    async (request) => {
      const overlapSeconds = request.body?.overlapSeconds;
      return endpoints().rotateSecret(
        request.params.id,
        overlapSeconds === undefined ? undefined : overlapSeconds * 1000,
      );
    },
  );

  app.post(
    '/event-endpoints/:id/recover',
    {
      schema: {
        operationId: 'recoverEventEndpoint',
        tags: ['events'],
        summary: 'Send again every delivery to this endpoint that failed since a time',
        description:
          'Failed (still retrying) and dead deliveries of events recorded at or after `since` start over now, in order per resource. For after an outage of the host.',
        params: endpointParams,
        body: recoverBody,
        response: { 202: recoverOutcome, ...problemResponses(400, 401, 404, 500) },
      },
    },
    async (request, reply) =>
      reply
        .code(202)
        .send(await endpoints().recover(request.params.id, new Date(request.body.since))),
  );
};
