import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { callerOf, requireScope, viewerOf } from '../api/api-guard.js';
import { buildDocument, parseQuery } from '../api/json-api.js';
import { RESOURCE_SCHEMAS } from '../api/resource-schema.js';
import { webhookResource } from '../api/resources.js';
import { apiErrors } from '../world/errors.js';
import type { SandboxState } from '../world/state.js';
import type { WebhookRecord } from '../world/webhook-store.js';
import { TRIGGERS } from '../world/webhook-store.js';

const SCOPE = 'w:campaigns.webhook';
const uri = z.url({ protocol: /^https?$/ });
const triggers = z.array(z.enum(TRIGGERS)).min(1);

// docs/patreon-api.md §2.1: the documented write bodies.
const createBody = z.object({
  data: z.object({
    type: z.literal('webhook'),
    attributes: z.object({ triggers, uri }),
    relationships: z.object({
      campaign: z.object({ data: z.object({ type: z.literal('campaign'), id: z.string() }) }),
    }),
  }),
});

// The DOCS sample sends `"paused": "false"`: accept booleans and tolerate the strings.
const pausedValue = z.union([
  z.boolean(),
  z.enum(['true', 'false']).transform((value) => value === 'true'),
]);
const updateBody = z.object({
  data: z.object({
    id: z.string().optional(),
    type: z.literal('webhook'),
    attributes: z.object({
      triggers: triggers.optional(),
      uri: uri.optional(),
      paused: pausedValue.optional(),
    }),
  }),
});

function parseBody<T>(schema: z.ZodType<T>, body: unknown): T {
  const result = schema.safeParse(body);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const path = issue?.path.join('.') ?? '';
  throw apiErrors.badRequest(
    `Invalid request body${path ? ` at ${path}` : ''}: ${issue?.message ?? 'malformed'}.`,
    path || undefined,
  );
}

const everyWebhookField = {
  fields: new Map([['webhook', new Set(RESOURCE_SCHEMAS.webhook?.attributes)]]),
  include: [],
};

export function registerWebhookRoutes(api: FastifyInstance, state: SandboxState): void {
  /** docs/patreon-api.md §2.1: a client sees and changes only the webhooks it created. */
  function ownWebhook(request: FastifyRequest<{ Params: { id: string } }>): WebhookRecord {
    const webhook = state.world.webhooks.get(request.params.id);
    if (!webhook || webhook.clientId !== callerOf(request).clientId)
      throw apiErrors.notFound(`No webhook ${request.params.id}.`);
    return webhook;
  }

  api.get('/webhooks', async (request) => {
    const caller = callerOf(request);
    requireScope(caller, SCOPE);
    const query = parseQuery(request.url, 'webhook', ['client', 'campaign']);
    const viewer = viewerOf(state, request);
    const mine = state.world.webhooks.list().filter((w) => w.clientId === caller.clientId);
    return buildDocument(
      mine.map((w) => webhookResource(w, viewer)),
      query,
      { meta: { pagination: { cursors: { next: null }, total: mine.length } } },
    );
  });

  // Sandbox table: 201 with the webhook resource, generated secret included.
  api.post('/webhooks', async (request, reply) => {
    const caller = callerOf(request);
    requireScope(caller, SCOPE);
    const { data } = parseBody(createBody, request.body);
    const campaignId = data.relationships.campaign.data.id;
    const campaign = state.world.catalog.campaigns.get(campaignId);
    if (!campaign) throw apiErrors.notFound(`No campaign ${campaignId}.`);
    if (campaign.creatorId !== caller.userId)
      throw apiErrors.forbidden('You can only add webhooks to your own campaign.');
    const webhook = state.world.webhooks.create({
      clientId: caller.clientId,
      campaignId,
      uri: data.attributes.uri,
      triggers: [...new Set(data.attributes.triggers)],
      scopes: caller.scopes,
    });
    return reply
      .code(201)
      .send(buildDocument(webhookResource(webhook, viewerOf(state, request)), everyWebhookField));
  });

  api.patch<{ Params: { id: string } }>('/webhooks/:id', async (request) => {
    requireScope(callerOf(request), SCOPE);
    const webhook = ownWebhook(request);
    const { data } = parseBody(updateBody, request.body);
    if (data.id !== undefined && data.id !== webhook.id)
      throw apiErrors.badRequest('data.id does not match the URL.', 'data.id');
    const { attributes } = data;
    if (attributes.triggers) webhook.triggers = [...new Set(attributes.triggers)];
    if (attributes.uri) webhook.uri = attributes.uri;
    if (attributes.paused !== undefined) {
      webhook.paused = attributes.paused;
      // docs/patreon-api.md §2.1/§9.4: un-pausing resends every queued, unsent event, in order.
      if (!webhook.paused) state.deliveries.kick(webhook);
    }
    return buildDocument(webhookResource(webhook, viewerOf(state, request)), everyWebhookField);
  });

  api.delete<{ Params: { id: string } }>('/webhooks/:id', async (request, reply) => {
    requireScope(callerOf(request), SCOPE);
    const webhook = ownWebhook(request);
    state.world.webhooks.delete(webhook.id);
    webhook.queue.length = 0;
    return reply.code(204).send();
  });
}
