import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { jsonSchemaTransform, jsonSchemaTransformObject } from 'fastify-type-provider-zod';
import type { Config } from '../config/config.js';
import { packageInfo } from '../package-info.js';

/**
 * swagger-ui needs nothing but its own files and the document (`/docs/json`), plus inline style
 * attributes it writes while rendering (styles only; scripts stay strict).
 */
const DOCS_CSP =
  "default-src 'self'; script-src 'self'; script-src-attr 'none'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'";

const DOCS_HEADERS = {
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
};

/**
 * The OpenAPI 3.1 document is generated from the routes' zod schemas; `npm run openapi` writes it
 * to openapi.yaml and `npm run openapi:check` fails when the two differ.
 */
export const openapi = fp(
  async (app: FastifyInstance, { config }: { config: Config }) => {
    await app.register(swagger, {
      openapi: {
        openapi: '3.1.0',
        info: {
          title: 'patreon-gateway',
          version: packageInfo.version,
          description:
            'Integrate Patreon over plain HTTP: connect Patreon accounts with OAuth, sync campaigns, ' +
            'tiers, members, posts and payments, receive verified webhooks, and ask who is entitled ' +
            'to what. Every error is an RFC 9457 `application/problem+json` document with a stable `code`. ' +
            'Lists are paginated with `?limit=&cursor=` and answer `{ data, nextCursor }`.',
          license: { name: 'MIT', identifier: 'MIT' },
        },
        servers: [{ url: config.server.publicUrl }],
        tags: [
          { name: 'connections', description: 'Patreon accounts connected by your users.' },
          {
            name: 'oauth',
            description:
              'Browser steps of connecting an account (no API key: single-use ticket and state).',
          },
          {
            name: 'sync',
            description: 'Jobs that bring a creator’s Patreon data into the gateway.',
          },
          {
            name: 'entitlements',
            description: 'What a user may have: one documented policy, with its reasons.',
          },
          {
            name: 'events',
            description:
              'Signed events to your endpoints (Standard Webhooks): endpoints, deliveries, replay.',
          },
          {
            name: 'webhooks',
            description:
              'Patreon’s webhooks into the gateway: registration, deliveries, and how each was applied.',
          },
          { name: 'operations', description: 'Health and readiness probes.' },
        ],
        // Every operation needs the API key unless it says otherwise (the health probes).
        security: [{ apiKey: [] }],
        components: {
          securitySchemes: {
            apiKey: {
              type: 'http',
              scheme: 'bearer',
              description:
                'A service API key from `API_KEYS`, sent as `Authorization: Bearer <key>`.',
            },
          },
        },
      },
      transform: jsonSchemaTransform,
      transformObject: (document) =>
        withOptionalBodies(withoutUnusedSchemas(jsonSchemaTransformObject(document))),
    });

    // Assets are served from the package itself (no CDN), so the page may load only its own.
    await app.register(async (docs) => {
      docs.addHook('onRequest', async (_request, reply) => {
        reply.headers(DOCS_HEADERS);
      });
      await docs.register(swaggerUi, {
        routePrefix: '/docs',
        uiConfig: {
          docExpansion: 'list',
          deepLinking: true,
          defaultModelsExpandDepth: 1,
          // No call to swagger.io's online validator.
          validatorUrl: null,
        },
        theme: { title: 'patreon-gateway API reference' },
        // No upgrade-insecure-requests: the service may be reached over plain http on a private
        // network.
        staticCSP: DOCS_CSP,
      });
    });

    app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  },
  { name: 'openapi' },
);

type OpenApiDocument = ReturnType<typeof jsonSchemaTransformObject>;
type WithComponents = { paths?: unknown; components?: { schemas?: Record<string, unknown> } };

/**
 * The zod transform adds an `…Input` twin of every named schema whether or not a request uses it;
 * keep only the component schemas something actually references.
 */
function withoutUnusedSchemas(document: OpenApiDocument): OpenApiDocument {
  const { paths, components } = document as WithComponents;
  const schemas = components?.schemas ?? {};
  const used = new Set<string>();
  const visit = (value: unknown) => {
    const text = JSON.stringify(value);
    for (const [, name] of text.matchAll(/"#\/components\/schemas\/([^"]+)"/g)) {
      if (name && !used.has(name)) {
        used.add(name);
        visit(schemas[name]);
      }
    }
  };
  visit(paths);
  const kept = Object.fromEntries(Object.entries(schemas).filter(([name]) => used.has(name)));
  return { ...document, components: { ...components, schemas: kept } } as OpenApiDocument;
}

type Body = { required?: boolean; content?: Record<string, { schema?: { anyOf?: unknown[] } }> };

/**
 * A body schema that accepts null (`z.object(…).nullish()`: the body may be left out) comes out
 * of the transform as a required `anyOf [object, null]`; document it as an optional object.
 */
function withOptionalBodies(document: OpenApiDocument): OpenApiDocument {
  const paths = (document as { paths?: Record<string, Record<string, { requestBody?: Body }>> })
    .paths;
  for (const operations of Object.values(paths ?? {})) {
    for (const operation of Object.values(operations)) {
      const body = operation.requestBody;
      for (const media of Object.values(body?.content ?? {})) {
        const branches = media.schema?.anyOf;
        if (!body || !branches?.some((b) => (b as { type?: string }).type === 'null')) continue;
        const rest = branches.filter((b) => (b as { type?: string }).type !== 'null');
        if (rest.length === 1) media.schema = rest[0] as typeof media.schema;
        body.required = false;
      }
    }
  }
  return document;
}
