import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { sendProblem } from '../http/error-handler.js';
import { createFailureLog } from '../http/failure-log.js';
import { okThrough, plainFirst } from '../http/hot-route.js';
import { problemResponses } from '../http/problem.js';
import { AppError } from '../shared/errors.js';
import { refusalOf } from './delivery-check.js';
import {
  WebhookEventUnknownError,
  WebhookNotFoundError,
  WebhookSignatureError,
  WebhookStoreUnavailableError,
} from './errors.js';
import { resourceOf } from './resource-of.js';
import { dedupeKey } from './signature.js';
import { isTrigger, TRIGGERS } from './triggers.js';

// Lowercase only, as we register it: the id is also the key its secret is sealed under, and a
// capitalised spelling would reach the row (uuid equality) but not open the secret (a 503).
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** Seconds Patreon is asked to wait before retrying when we cannot store. */
const RETRY_AFTER_SECONDS = 5;
const WEBHOOK_ID_MAX = 64;

const params = z.object({ webhookId: z.string().max(WEBHOOK_ID_MAX) });
const receipt = z.object({
  id: z.string().describe('Our id of the stored event.'),
  duplicate: z.boolean().describe('True when these exact bytes were stored before.'),
});

/** What `params` passes unchanged: the router gives an object with the one path parameter. */
const plainParams = (data: unknown) => {
  const id = (data as { webhookId?: unknown } | null)?.webhookId;
  return typeof id === 'string' && id.length <= WEBHOOK_ID_MAX;
};

/** The 200 answer, written field by field (two fields, both always present). */
const writeReceipt = ({ id, duplicate }: z.output<typeof receipt>) =>
  `{"id":${JSON.stringify(id)},"duplicate":${duplicate === true}}`;

/**
 * `POST /webhooks/patreon/{webhookId}`: Patreon's deliveries. The body is taken as raw bytes (no
 * JSON parser runs, nothing is re-serialised), the signature is checked on exactly those bytes,
 * and the answer is 200 only once the event is committed.
 */
export const webhookIngestRoutes: FastifyPluginAsyncZod<{ bodyLimit: number }> = async (
  app,
  { bodyLimit },
) => {
  const { secrets, writer } = app.webhooks;
  const results = app.metrics.webhookDeliveries;
  const outage = createFailureLog(app.log, 'webhook deliveries cannot be stored');
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit }, (_request, body, done) =>
    done(null, body),
  );

  app.post(
    '/webhooks/patreon/:webhookId',
    {
      bodyLimit,
      // Deliveries come in bursts and each one is recorded in webhook_events: no info lines per
      // request (bench:webhooks: logging was a quarter of the ingest CPU). Warnings still log.
      logLevel: 'warn',
      // Every delivery passes here: zod's parse and encode were ~5% of a request's CPU.
      validatorCompiler: plainFirst(plainParams),
      serializerCompiler: okThrough(writeReceipt),
      schema: {
        operationId: 'receivePatreonWebhook',
        tags: ['webhooks'],
        // Not the API key: the signature of the body with the webhook's secret authenticates.
        security: [],
        summary: 'Receive a delivery from Patreon (called by Patreon, not by the host)',
        description: `The URI we register at Patreon for one campaign; \`webhookId\` is our own unguessable id. The raw body must carry \`X-Patreon-Signature\` (hex HMAC-MD5 of the exact bytes with that webhook's secret) and a known \`X-Patreon-Event\` (${TRIGGERS.map((t) => `\`${t}\``).join(', ')}). The event is stored (its bytes, as received) before the 200; a redelivery of the same bytes is acknowledged and stored once. A signed delivery is never refused for its content: one that can never apply (a resource of the wrong type, an id Patreon does not issue, a body that is not a member or post) is stored \`failed\` with a reason code and still answered 200, so Patreon neither retries it nor pauses the webhook. 503 with \`Retry-After\` only when the store is unavailable, so Patreon retries.`,
        params,
        response: {
          200: receipt,
          ...problemResponses(400, 404, 413, 503),
          401: {
            ...problemResponses(401)[401],
            description: 'Missing or wrong `X-Patreon-Signature`: nothing is stored.',
          },
        },
      },
    },
    async (request, reply) => {
      const { webhookId } = request.params;
      const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
      if (!UUID.test(webhookId)) {
        results.unknown_webhook.inc();
        throw new WebhookNotFoundError(`No webhook ${webhookId}.`);
      }
      try {
        const verdict = await secrets.verify(
          webhookId,
          body,
          request.headers['x-patreon-signature'],
        );
        if (verdict === 'unknown') {
          results.unknown_webhook.inc();
          throw new WebhookNotFoundError(`No webhook ${webhookId}.`);
        }
        if (verdict === 'bad-signature') {
          results.bad_signature.inc();
          request.log.warn({ webhookId }, 'webhook delivery with a bad signature');
          throw new WebhookSignatureError(
            'X-Patreon-Signature is missing or does not match the body.',
          );
        }
        const event = request.headers['x-patreon-event'];
        if (!isTrigger(event)) {
          results.unknown_event.inc();
          throw new WebhookEventUnknownError(
            `X-Patreon-Event must be one of ${TRIGGERS.join(', ')}.`,
          );
        }
        const resource = resourceOf(body);
        // What Patreon signed is stored whatever it holds; a reference we cannot trust is not.
        const refusal = refusalOf(event, resource);
        const stored = await writer.store({
          webhookId,
          event,
          dedupeKey: dedupeKey(webhookId, event, body),
          body,
          resourceType: refusal ? null : resource.type,
          resourceId: refusal ? null : resource.id,
          refusal,
        });
        outage.succeeded();
        if (stored.refusal && !stored.duplicate) {
          request.log.warn(
            { webhookId, event, eventId: stored.id, code: stored.refusal.code },
            'webhook delivery stored as failed',
          );
        }
        (stored.duplicate ? results.duplicate : results.stored).inc();
        return { id: String(stored.id), duplicate: stored.duplicate };
      } catch (error) {
        if (error instanceof AppError) throw error;
        // Not stored: Patreon must try again later, so never a 2xx. Logged per storm, not per
        // delivery (a short outage is thousands of them).
        outage.failed(error, { webhookId });
        results.unavailable.inc();
        reply.header('retry-after', String(RETRY_AFTER_SECONDS));
        const { status, code, title, message } = new WebhookStoreUnavailableError(
          'The event store is unavailable; retry later.',
        );
        return sendProblem(request, reply, { status, code, title, detail: message });
      }
    },
  );
};
