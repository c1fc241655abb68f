import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { problemResponses } from '../http/problem.js';
import { pageOf } from '../shared/pagination.js';
import { campaignParams } from '../shared/schemas.js';
import {
  listWebhookEventsQuery,
  listWebhooksQuery,
  reconcileOutcome,
  webhookEventDetail,
  webhookEventParams,
  webhookEventView,
  webhookView,
} from './schemas.js';

/** `/v1` routes over our Patreon webhooks and the events they delivered. */
export const webhookRoutes: FastifyPluginAsyncZod = async (app) => {
  app.get(
    '/webhooks',
    {
      schema: {
        operationId: 'listWebhooks',
        tags: ['webhooks'],
        summary: 'List the webhooks registered at Patreon, with their delivery health',
        description:
          'One per campaign of each creator connection. `paused`, `numConsecutiveTimesFailed` and `lastAttemptedAt` are Patreon’s, as of the last reconcile; the delivery counts are ours.',
        querystring: listWebhooksQuery,
        response: { 200: pageOf(webhookView), ...problemResponses(400, 401, 500) },
      },
    },
    async (request) => app.webhooks.service.list(request.query),
  );

  app.post(
    '/campaigns/:id/webhooks/reconcile',
    {
      schema: {
        operationId: 'reconcileWebhooks',
        tags: ['webhooks'],
        summary: 'Make the campaign’s Patreon webhook right now',
        description:
          'Creates it if Patreon does not have it, fixes its triggers and URI, and un-pauses it if Patreon paused it (Patreon then resends the deliveries it queued). Also done on connect and with every scheduled reconcile.',
        params: campaignParams,
        response: {
          200: z.object({ webhooks: z.array(reconcileOutcome) }),
          ...problemResponses(400, 401, 404, 409, 500, 503),
        },
      },
    },
    async (request) => ({
      webhooks: await app.webhooks.service.reconcileCampaign(request.params.id),
    }),
  );

  app.get(
    '/webhook-events',
    {
      schema: {
        operationId: 'listWebhookEvents',
        tags: ['webhooks'],
        summary: 'List deliveries received from Patreon and how each was applied',
        description: 'Newest first.',
        querystring: listWebhookEventsQuery,
        response: { 200: pageOf(webhookEventView), ...problemResponses(400, 401, 500) },
      },
    },
    async (request) => app.webhooks.service.listEvents(request.query),
  );

  app.get(
    '/webhook-events/:id',
    {
      schema: {
        operationId: 'getWebhookEvent',
        tags: ['webhooks'],
        summary: 'Get one delivery, with the payload Patreon sent',
        params: webhookEventParams,
        response: { 200: webhookEventDetail, ...problemResponses(400, 401, 404, 500) },
      },
    },
    async (request) => app.webhooks.service.getEvent(request.params.id),
  );

  app.post(
    '/webhook-events/:id/retry',
    {
      schema: {
        operationId: 'retryWebhookEvent',
        tags: ['webhooks'],
        summary: 'Apply a delivery again',
        description:
          'Queues the event to be applied again, e.g. after a failure was fixed. Applying an event twice changes nothing; an event older than what was applied since is ignored.',
        params: webhookEventParams,
        response: { 202: webhookEventView, ...problemResponses(400, 401, 404, 500) },
      },
    },
    async (request, reply) =>
      reply.code(202).send(await app.webhooks.service.retryEvent(request.params.id)),
  );
};
