import { hash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { UnauthorizedError } from '../shared/errors.js';
import { limitRequests } from './rate-limit.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** A hash naming the API key the request presented, when it is a configured one. */
    apiKeyId: string | null;
  }
}

// The one-shot `hash` (Node ≥ 20.12): a fraction of createHash's cost, paid on every request.
const digest = (value: string) => hash('sha256', value, 'buffer');

/**
 * `Authorization: Bearer <key>` against the configured keys: the matching key's id (a prefix of
 * its SHA-256, never the key), or undefined. Both sides are hashed to a fixed length and every
 * key is compared, so timing reveals neither the key nor which one matched.
 */
export function createApiKeyCheck(keys: readonly string[]) {
  const expected = keys.map(digest);
  const ids = expected.map((hash) => hash.toString('base64url', 0, 12));
  return (header: string | undefined): string | undefined => {
    const match = /^Bearer[ ]+(\S+)\s*$/i.exec(header ?? '');
    const given = digest(match?.[1] ?? '');
    let id: string | undefined;
    for (let i = 0; i < expected.length; i++) {
      const equal = timingSafeEqual(expected[i] as Buffer, given);
      id = equal ? ids[i] : id;
    }
    return match === null ? undefined : id;
  };
}

/**
 * Adds the API-key check to every route of the encapsulating plugin (used for `/v1`), with a
 * per-key request budget when `perMinute` is set. The budget is counted before the key is
 * rejected, so guessing keys is limited too: a request without a valid key counts against its
 * client IP.
 */
export async function requireApiKey(
  app: FastifyInstance,
  keys: readonly string[],
  { perMinute }: { perMinute: number },
) {
  const identify = createApiKeyCheck(keys);
  app.decorateRequest('apiKeyId', null);
  // Callback hooks: no promise per request.
  app.addHook('onRequest', (request, _reply, done) => {
    request.apiKeyId = identify(request.headers.authorization) ?? null;
    done();
  });
  await limitRequests(app, {
    perMinute,
    keyOf: (request) => (request.apiKeyId ? `key:${request.apiKeyId}` : `ip:${request.ip}`),
  });
  app.addHook('onRequest', (request, reply, done) => {
    if (request.apiKeyId) return done();
    reply.header('www-authenticate', 'Bearer realm="patreon-gateway"');
    done(
      new UnauthorizedError(
        request.headers.authorization
          ? 'The API key is not valid.'
          : 'Send the service API key as `Authorization: Bearer <key>`.',
      ),
    );
  });
}
