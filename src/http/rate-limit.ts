import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { defineError } from '../shared/errors.js';
import { problemResponses } from './problem.js';

export const RateLimitedError = defineError('RATE_LIMITED', 429, 'Too Many Requests');

const WINDOW_MS = 60_000;

type RouteSchema = { response?: Record<string, unknown> } | undefined;

/**
 * Limits every route of the encapsulating plugin to `perMinute` requests per key (default: the
 * client IP) and instance; 0 registers nothing, so an unlimited scope pays nothing per request.
 * Scoped on purpose: Patreon's webhook bursts must never meet a limiter. The 429 is a problem
 * with `Retry-After` and the draft-standard `RateLimit-*` headers; it is documented on every
 * route of the scope whether or not a limit is set, so the API document never depends on config.
 */
export async function limitRequests(
  app: FastifyInstance,
  options: { perMinute: number; keyOf?: (request: FastifyRequest) => string },
) {
  app.addHook('onRoute', (route) => {
    const schema = route.schema as RouteSchema;
    if (schema?.response) schema.response = { ...schema.response, ...problemResponses(429) };
  });
  if (options.perMinute <= 0) return;
  await app.register(rateLimit, {
    global: false,
    max: options.perMinute,
    timeWindow: WINDOW_MS,
    enableDraftSpec: true,
    ...(options.keyOf ? { keyGenerator: options.keyOf } : {}),
    errorResponseBuilder: (_request, context) =>
      new RateLimitedError(`Too many requests; retry in ${context.after}.`),
  });
  // A hook of the scope rather than the plugin's per-route one, which would run after every hook
  // of the scope: requests that then fail the API-key check must count too.
  app.addHook('onRequest', app.rateLimit());
}
