import type { FastifyInstance } from 'fastify';
import createRouter, { type HTTPMethod } from 'find-my-way';

/**
 * Fastify answers an unknown method on a known path with 404. To answer 405 with an `Allow`
 * header instead, every route is mirrored here as it is registered, and the not-found handler asks
 * which methods the path does have.
 */
export function createMethodIndex(app: FastifyInstance) {
  const router = createRouter({ ignoreTrailingSlash: false });
  const methods = new Set<HTTPMethod>();
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat().map((m) => m.toUpperCase() as HTTPMethod)) {
      methods.add(method);
      if (!router.hasRoute(method, route.url)) router.on(method, route.url, () => {});
    }
  });
  return {
    allowed(path: string): string[] {
      return [...methods].filter((method) => router.find(method, path) !== null).sort();
    },
  };
}
