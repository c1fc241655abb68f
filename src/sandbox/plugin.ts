import { randomUUID } from 'node:crypto';
import type {
  FastifyError,
  FastifyInstance,
  FastifyPluginAsync,
  FastifyRequest,
  FastifySchema,
} from 'fastify';
import { createApiGuard } from './api/api-guard.js';
import { registerApiRoutes } from './api/api-routes.js';
import { registerControlRoutes } from './control/control-routes.js';
import { registerOAuthRoutes } from './oauth/oauth-routes.js';
import { registerWebhookRoutes } from './webhooks/webhook-routes.js';
import { apiErrors, OAuthError, PatreonApiError } from './world/errors.js';
import type { SandboxConfigInput } from './world/options.js';
import type { SandboxState } from './world/state.js';
import { createSandboxState } from './world/state.js';

export type { SandboxState } from './world/state.js';
export { createSandboxState } from './world/state.js';

/**
 * Either a ready `state` (its creator closes it) or the options to create one
 * (the plugin then closes it with the app).
 */
export interface SandboxOptions extends SandboxConfigInput {
  state?: SandboxState;
}

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;

/** Patreon's paths and their methods; any other method gets a 405 (docs/patreon-api.md §2). */
const PATREON_PATHS: Record<string, readonly string[]> = {
  '/oauth2/authorize': ['GET'],
  '/api/oauth2/token': ['POST'],
  '/api/oauth2/v2/identity': ['GET'],
  '/api/oauth2/v2/campaigns': ['GET'],
  '/api/oauth2/v2/campaigns/:id': ['GET'],
  '/api/oauth2/v2/campaigns/:id/members': ['GET'],
  '/api/oauth2/v2/members/:id': ['GET'],
  '/api/oauth2/v2/campaigns/:id/posts': ['GET'],
  '/api/oauth2/v2/posts/:id': ['GET'],
  '/api/oauth2/v2/webhooks': ['GET', 'POST'],
  '/api/oauth2/v2/webhooks/:id': ['PATCH', 'DELETE'],
};

const CODE_NAMES: Record<number, [string, string]> = {
  400: ['ParameterInvalid', 'Bad Request'],
  404: ['NotFound', 'Not Found'],
  406: ['NotAcceptable', 'Not Acceptable'],
  413: ['RequestTooLarge', 'Payload Too Large'],
  415: ['UnsupportedMediaType', 'Unsupported Media Type'],
};

const FASTIFY_REGISTER_KEYS = new Set(['prefix', 'logLevel', 'logSerializers']);

function isTokenRoute(request: FastifyRequest): boolean {
  return request.routeOptions.url?.endsWith('/api/oauth2/token') ?? false;
}

/** Its own parsers, error and not-found handlers, so the plugin behaves the same in any host app. */
function installPlumbing(app: FastifyInstance): void {
  const types = [
    'application/x-www-form-urlencoded',
    'application/json',
    'application/vnd.api+json',
  ];
  for (const type of types) {
    if (app.hasContentTypeParser(type)) app.removeContentTypeParser(type);
  }
  app.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string' },
    (_request, body, done) => {
      done(null, Object.fromEntries(new URLSearchParams(body as string)));
    },
  );
  // An empty body is no body: clients send the JSON content type on every call, a bodiless DELETE
  // included, and Patreon answers those (204). Otherwise Fastify's parser, poisoning checks and all.
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.addContentTypeParser(
    ['application/json', 'application/vnd.api+json'],
    { parseAs: 'string' },
    (request, body, done) => {
      if (body === '') return done(null, undefined);
      // Its 400 errors are shaped by the error handler: OAuth's on the token route, JSON:API's elsewhere.
      parseJson(request, body as string, done);
    },
  );

  app.setErrorHandler((error: FastifyError | Error, request, reply) => {
    if (error instanceof OAuthError || error instanceof PatreonApiError)
      return reply.code(error.status).send(error.toBody());
    const statusCode = 'statusCode' in error ? error.statusCode : undefined;
    const status =
      statusCode !== undefined && statusCode >= 400 && statusCode < 500 ? statusCode : 500;
    if (status === 500) request.log.error({ err: error }, 'sandbox request failed');
    if (isTokenRoute(request)) {
      return reply
        .code(status)
        .send(
          status === 500
            ? { error: 'server_error' }
            : { error: 'invalid_request', error_description: error.message },
        );
    }
    const [codeName, title] = CODE_NAMES[status] ?? ['BadRequest', 'Bad Request'];
    const body =
      status === 500
        ? apiErrors.server(500)
        : new PatreonApiError(status, codeName, title, error.message);
    return reply.code(status).send(body.toBody());
  });

  app.setNotFoundHandler((request, reply) => {
    reply
      .code(404)
      .send(
        apiErrors.notFound(`No route for ${request.method} ${request.url.split('?')[0]}.`).toBody(),
      );
  });

  for (const [path, allowed] of Object.entries(PATREON_PATHS)) {
    const others = METHODS.filter((method) => !allowed.includes(method));
    app.route({
      method: others,
      url: path,
      handler: async (request, reply) => {
        reply.header('allow', allowed.join(', '));
        throw apiErrors.methodNotAllowed(request.method);
      },
    });
  }
}

/**
 * The sandbox Patreon as a Fastify plugin. Register it without fastify-plugin
 * so its hooks and handlers stay inside its own encapsulation context:
 * `app.register(sandboxPlugin, { prefix: '/sandbox', publicBaseUrl: 'http://localhost:3000/sandbox' })`.
 */
export const sandboxPlugin: FastifyPluginAsync<SandboxOptions> = async (app, options) => {
  const { state: given, ...rest } = options;
  const config = Object.fromEntries(
    Object.entries(rest).filter(([key]) => !FASTIFY_REGISTER_KEYS.has(key)),
  );
  const state = given ?? createSandboxState(config as SandboxConfigInput);
  if (!given) app.addHook('onClose', () => state.close());
  const prefix = app.prefix;

  // Patreon's API is not the host's: keep these routes out of the host's OpenAPI document.
  app.addHook('onRoute', (route) => {
    route.schema = { ...route.schema, hide: true } as FastifySchema;
  });
  installPlumbing(app);
  app.addHook('onRequest', async (request) => {
    if (!state.config.publicBaseUrl)
      state.learnBaseUrl(`${request.protocol}://${request.host}${prefix}`);
  });

  registerOAuthRoutes(app, state);
  await app.register(
    async (api) => {
      // docs/patreon-api.md §3: responses carry a request id in `x-patreon-uuid`.
      api.addHook('onRequest', async (_request, reply) => {
        reply.header('x-patreon-uuid', randomUUID());
      });
      api.addHook('onRequest', createApiGuard(state));
      api.addHook('onResponse', async (request, reply) => {
        const route = (request.routeOptions.url ?? '').slice(prefix.length);
        state.counters.apiCall(request.method, route, reply.statusCode);
      });
      registerApiRoutes(api, state);
      registerWebhookRoutes(api, state);
    },
    { prefix: '/api/oauth2/v2' },
  );
  await app.register(async (control) => registerControlRoutes(control, state), {
    prefix: '/_control',
  });
};
