import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { UnauthorizedError } from './errors.js';

const digest = (value: string) => createHash('sha256').update(value).digest();

/**
 * `Authorization: Bearer <key>` against the configured keys. Both sides are hashed to a fixed
 * length and every key is compared, so timing reveals neither the key nor which one matched.
 */
export function createApiKeyCheck(keys: readonly string[]) {
  const expected = keys.map(digest);
  return (header: string | undefined): boolean => {
    const match = /^Bearer[ ]+(\S+)\s*$/i.exec(header ?? '');
    const given = digest(match?.[1] ?? '');
    let ok = false;
    for (const key of expected) ok = timingSafeEqual(key, given) || ok;
    return ok && match !== null;
  };
}

/** Adds the API-key check to every route of the encapsulating plugin (used for `/v1`). */
export function requireApiKey(app: FastifyInstance, keys: readonly string[]) {
  const isValid = createApiKeyCheck(keys);
  app.addHook('onRequest', async (request, reply) => {
    if (isValid(request.headers.authorization)) return;
    reply.header('www-authenticate', 'Bearer realm="patreon-gateway"');
    throw new UnauthorizedError(
      request.headers.authorization
        ? 'The API key is not valid.'
        : 'Send the service API key as `Authorization: Bearer <key>`.',
    );
  });
}
