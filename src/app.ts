import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import {
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from 'fastify-type-provider-zod';
import { analyticsPlugin } from './analytics/plugin.js';
import { analyticsRoutes } from './analytics/routes.js';
import { campaignsPlugin } from './campaigns/plugin.js';
import { campaignRoutes } from './campaigns/routes.js';
import type { Config } from './config/config.js';
import { oauthRoutes } from './connections/oauth-routes.js';
import { connectionsPlugin } from './connections/plugin.js';
import { connectionRoutes } from './connections/routes.js';
import { cipherPlugin } from './crypto/plugin.js';
import type { Database } from './db/database.js';
import { databasePlugin } from './db/plugin.js';
import { entitlementsPlugin } from './entitlements/plugin.js';
import { entitlementRoutes } from './entitlements/routes.js';
import { eventEndpointRoutes } from './events/endpoint-routes.js';
import { eventRoutes } from './events/event-routes.js';
import { eventsPlugin } from './events/plugin.js';
import { requireApiKey } from './http/api-key-auth.js';
import { limitBodies } from './http/body-limit.js';
import { answerClientErrors } from './http/client-error.js';
import { errorHandling, renderFrameworkError } from './http/error-handler.js';
import { gracefulClose } from './http/graceful-close.js';
import { healthRoutes } from './http/health-routes.js';
import { createLogger, OneLinePerRequest } from './http/logger.js';
import { refuseMissingHost } from './http/missing-host.js';
import { refuseNulCharacters } from './http/nul-guard.js';
import { openapi } from './http/openapi.js';
import { limitRequests } from './http/rate-limit.js';
import { queuePlugin } from './jobs/queue.js';
import { retentionPlugin } from './jobs/retention.js';
import { membersPlugin } from './members/plugin.js';
import { metricsPlugin } from './metrics/plugin.js';
import { metricsRoutes } from './metrics/routes.js';
import { patreonPlugin } from './patreon/plugin.js';
import { sandboxPlugin } from './sandbox/plugin.js';
import { type Clock, systemClock } from './shared/clock.js';
import { syncPlugin } from './sync/plugin.js';
import { syncRoutes } from './sync/routes.js';
import { webhookIngestRoutes } from './webhooks/ingest-routes.js';
import { webhooksPlugin } from './webhooks/plugin.js';
import { webhookRoutes } from './webhooks/routes.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** "Now" for Patreon's dates (see shared/clock.ts). */
    clock: Clock;
  }
}

export type BuildAppOptions = {
  config: Config;
  /** Defaults to a pino logger at `config.logLevel`. */
  logger?: FastifyBaseLogger;
  /** Defaults to opening the database the config names. The app closes it on close. */
  database?: Database;
  /** Defaults to the system clock; tests pin it (see shared/clock.ts). */
  clock?: Clock;
};

/** The largest `/v1` request is a few KB of JSON; the global limit is sized for webhooks. */
const API_BODY_LIMIT_BYTES = 64 * 1024;

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * A hop count trusts that many proxies nearest the service, whatever their address (Express's
 * meaning; Fastify itself now refuses a bare number).
 */
function trustProxyOption(trust: Config['server']['trustProxy']) {
  if (typeof trust === 'number') return (_address: string, hop: number) => hop < trust;
  return typeof trust === 'boolean' ? trust : [...trust];
}

/**
 * Builds the whole service without listening. Boot order: Fastify and its compilers, error
 * handling, the database, the API document, then routes. `main.ts` listens; tests inject.
 */
export async function buildApp({
  config,
  logger,
  database,
  clock = systemClock,
}: BuildAppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: logger ?? createLogger(config.logLevel),
    // A caller's request id is reused when it looks like one, so logs correlate across services.
    genReqId: (request) => {
      const given = request.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
    bodyLimit: config.server.bodyLimitBytes,
    trustProxy: trustProxyOption(config.server.trustProxy),
    requestTimeout: config.server.requestTimeoutMs,
    keepAliveTimeout: config.server.keepAliveTimeoutMs,
    connectionTimeout: config.server.requestTimeoutMs * 2,
    return503OnClosing: true,
    logController: new OneLinePerRequest(),
    frameworkErrors: renderFrameworkError,
    // What Node's HTTP parser refuses never reaches Fastify: answered as a problem all the same.
    clientErrorHandler: answerClientErrors(randomUUID),
    // Node would answer a missing Host itself (a bare 400, no body); refuseMissingHost does, as a
    // problem with a request id.
    http: { requireHostHeader: false },
    forceCloseConnections: 'idle',
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 200 },
  }).withTypeProvider<ZodTypeProvider>();

  app.decorate('clock', clock);
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.addHook('onRequest', (request, reply, done) => {
    reply.header('x-request-id', request.id);
    // No response of ours is meant to be sniffed into another type (HTML pages set more).
    reply.header('x-content-type-options', 'nosniff');
    done();
  });
  app.addHook('onRequest', refuseMissingHost);
  app.addHook('preValidation', refuseNulCharacters);

  await app.register(errorHandling);
  await app.register(gracefulClose);
  await app.register(databasePlugin, { config, database });
  // Before the modules it measures (and their routes), which record into it.
  await app.register(metricsPlugin);
  await app.register(openapi, { config });
  await app.register(patreonPlugin, { config });
  await app.register(membersPlugin, { config });
  await app.register(cipherPlugin, { config });
  // Who reacts to a creator connecting: its first sync, and its webhooks at Patreon. Both are
  // registered below; the OAuth flow calls these only once the app is ready.
  await app.register(connectionsPlugin, {
    config,
    onCreatorConnected: [
      (connectionId) => app.sync.start(connectionId, 'full', 'connect'),
      (connectionId) => app.webhooks.reconcileLater(connectionId),
    ],
  });
  await app.register(queuePlugin, { config });
  await app.register(webhooksPlugin, { config });
  // Every reconcile pass (scheduled or asked for) also repairs the webhooks, un-pausing them.
  await app.register(syncPlugin, { config, onReconcile: [app.webhooks.reconcileLater] });
  await app.register(eventsPlugin, { config });
  await app.register(campaignsPlugin);
  await app.register(analyticsPlugin);
  await app.register(entitlementsPlugin, { config });
  await app.register(retentionPlugin, { config });

  await app.register(healthRoutes);
  // Patreon's deliveries: signed by Patreon, not by an API key, and sized for webhooks.
  await app.register(webhookIngestRoutes, { bodyLimit: config.server.bodyLimitBytes });
  await app.register(metricsRoutes, { token: config.metrics.token });
  await app.register(async (browser) => {
    await limitRequests(browser, { perMinute: config.requestLimits.oauthPerMinute });
    await browser.register(oauthRoutes, { config });
  });
  if (config.patreon.mode === 'sandbox') {
    // Sandbox mode: a built-in Patreon at /sandbox, with our callback registered, so the whole
    // flow works with no credentials. Its routes are hidden from our API document.
    await app.register(sandboxPlugin, {
      prefix: '/sandbox',
      clientId: config.patreon.clientId,
      clientSecret: config.patreon.clientSecret,
      redirectUris: [config.patreon.redirectUri],
      publicBaseUrl: config.patreon.baseUrl,
      // The same "now" as the service's, so the sandbox's dates and our decisions agree.
      now: () => clock().getTime(),
    });
  }
  await app.register(
    async (v1) => {
      await requireApiKey(v1, config.apiKeys, { perMinute: config.requestLimits.apiPerMinute });
      limitBodies(v1, Math.min(API_BODY_LIMIT_BYTES, config.server.bodyLimitBytes));
      await v1.register(connectionRoutes);
      await v1.register(campaignRoutes);
      await v1.register(analyticsRoutes);
      await v1.register(syncRoutes);
      await v1.register(webhookRoutes);
      await v1.register(eventEndpointRoutes);
      await v1.register(eventRoutes);
      await v1.register(entitlementRoutes, { config });
    },
    { prefix: '/v1' },
  );

  return app;
}
