import type { FastifyInstance } from 'fastify';
import { problemResponses } from './problem.js';

type RouteSchema = { body?: unknown; response?: Record<string, unknown> } | undefined;

/**
 * Caps the request body of every route in the encapsulating plugin that sets no limit of its own
 * (413 problem beyond; a route without a body schema still gets the cap, so nobody can make it
 * parse a large body it ignores), and documents the 413 (too large) and 415 (not JSON) where a
 * body is taken.
 */
export function limitBodies(app: FastifyInstance, bytes: number) {
  app.addHook('onRoute', (route) => {
    route.bodyLimit ??= bytes;
    const schema = route.schema as RouteSchema;
    if (schema?.body && schema.response) {
      schema.response = { ...schema.response, ...problemResponses(413, 415) };
    }
  });
}
