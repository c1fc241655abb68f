import { buildApp } from './app.js';
import { ConfigError, loadConfig } from './config/config.js';
import { withDevelopmentSecrets } from './config/development-secrets.js';
import { createLogger } from './http/logger.js';

/** The only place that reads process.env, listens, and handles signals. */
async function main(): Promise<void> {
  let loaded: Awaited<ReturnType<typeof withDevelopmentSecrets>>;
  try {
    loaded = await withDevelopmentSecrets(loadConfig(process.env));
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`patreon-gateway: ${error.message}\n`);
      process.exit(78); // EX_CONFIG
    }
    throw error;
  }
  const { config, generatedApiKey } = loaded;
  const logger = createLogger(config.logLevel);
  const app = await buildApp({ config, logger });

  let shuttingDown = false;
  const shutdown = (signal: NodeJS.Signals) => {
    if (shuttingDown) {
      logger.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    shuttingDown = true;
    logger.info({ signal }, 'shutting down: draining requests');
    const timer = setTimeout(() => {
      logger.error({ timeoutMs: config.server.shutdownTimeoutMs }, 'shutdown timed out');
      process.exit(1);
    }, config.server.shutdownTimeoutMs);
    timer.unref();
    app.close().then(
      () => {
        logger.info('stopped');
        process.exit(0);
      },
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);

  await app.listen({ host: config.server.host, port: config.server.port });
  logger.info(
    { url: config.server.publicUrl, patreon: config.patreon.mode, database: app.database.kind },
    'patreon-gateway ready',
  );
  if (generatedApiKey) {
    // Deliberately printed (once per start, outside the JSON log): the only way to learn the
    // development key is this line or the file under DATA_DIR.
    process.stdout.write(
      `\n  Development API key (sandbox mode, stored in ${config.dataDir}/dev-api-key):\n    ${generatedApiKey}\n  Try: curl -H "Authorization: Bearer ${generatedApiKey}" ${config.server.publicUrl}/v1/connections\n  API reference: ${config.server.publicUrl}/docs\n\n`,
    );
  }
}

main().catch((error: unknown) => {
  process.stderr.write(
    `patreon-gateway failed to start: ${(error as Error)?.stack ?? String(error)}\n`,
  );
  process.exit(1);
});
