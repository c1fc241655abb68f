import { parseArgs } from 'node:util';
import Fastify from 'fastify';
import { sandboxPlugin } from './plugin.js';

/** Runs the sandbox Patreon on its own: `tsx src/sandbox/server.ts --port 4010`. */
const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '4010' },
    host: { type: 'string', default: '127.0.0.1' },
    seed: { type: 'string' },
    members: { type: 'string' },
    'public-base-url': { type: 'string' },
    'client-id': { type: 'string' },
    'client-secret': { type: 'string' },
    'redirect-uri': { type: 'string', multiple: true },
    'log-level': { type: 'string', default: 'info' },
  },
  strict: true,
});

function integer(name: string, raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  if (!/^\d+$/.test(raw)) throw new Error(`--${name} must be a non-negative integer, got "${raw}"`);
  return Number(raw);
}

const port = integer('port', values.port) ?? 4010;
const app = Fastify({ logger: { level: values['log-level'] } });
await app.register(sandboxPlugin, {
  seed: integer('seed', values.seed),
  members: integer('members', values.members),
  publicBaseUrl:
    values['public-base-url'] ??
    `http://${values.host === '0.0.0.0' ? 'localhost' : values.host}:${port}`,
  clientId: values['client-id'],
  clientSecret: values['client-secret'],
  redirectUris: values['redirect-uri'],
});

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    app.log.info({ signal }, 'shutting down');
    app.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  });
}

await app.listen({ port, host: values.host });
