import type { FastifyReply, FastifyRequest } from 'fastify';
import { sendProblem } from './error-handler.js';

type Part = 'params' | 'query' | 'body';

/** The dotted path of the first string (value or key) holding U+0000, if any. */
function findNul(value: unknown, path: string[] = []): string | undefined {
  if (typeof value === 'string') return value.includes('\u0000') ? path.join('.') : undefined;
  if (typeof value !== 'object' || value === null || Buffer.isBuffer(value)) return undefined;
  for (const [key, item] of Object.entries(value)) {
    const found = key.includes('\u0000') ? [...path, key].join('.') : findNul(item, [...path, key]);
    if (found !== undefined) return found;
  }
  return undefined;
}

/**
 * PostgreSQL text and jsonb cannot hold U+0000, so a NUL anywhere in a request's parameters,
 * query or JSON body would fail in the database (a 500) rather than here. Refused before
 * validation, for every route at once. Raw bodies (webhook deliveries) are bytes and pass.
 */
export async function refuseNulCharacters(request: FastifyRequest, reply: FastifyReply) {
  for (const part of ['params', 'query', 'body'] as Part[]) {
    const path = findNul(request[part]);
    if (path === undefined) continue;
    return sendProblem(request, reply, {
      status: 400,
      code: 'VALIDATION_FAILED',
      title: 'Validation failed',
      detail: 'The request has 1 invalid field.',
      errors: [{ in: part, path, message: 'must not contain the NUL character (U+0000)' }],
    });
  }
}
