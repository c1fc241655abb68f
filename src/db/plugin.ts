import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { Config } from '../config/config.js';
import { type Database, openDatabase } from './database.js';
import { latestShippedMigration, migrationsCurrent, runMigrations } from './migrations.js';

declare module 'fastify' {
  interface FastifyInstance {
    database: Database;
    /** Database reachable and every shipped migration applied. */
    checkDatabase(): Promise<{ database: boolean; migrations: boolean }>;
  }
}

export type DatabasePluginOptions = {
  config: Config;
  /** An already opened database to use (and close with the app) instead of opening one from config. */
  database?: Database | undefined;
};

/** Owns the database handle: opens it, migrates it, and closes it when the app closes. */
export const databasePlugin = fp(
  async (app: FastifyInstance, { config, database: given }: DatabasePluginOptions) => {
    const database =
      given ??
      (await openDatabase(
        config.database.url
          ? { url: config.database.url, poolMax: config.database.poolMax }
          : { embedded: { dataDir: path.join(config.dataDir, 'pglite') } },
      ));
    app.addHook('onClose', () => database.close());
    const started = Date.now();
    await runMigrations(database);
    app.log.info({ database: database.kind, ms: Date.now() - started }, 'database ready');

    const latest = await latestShippedMigration();
    app.decorate('database', database);
    app.decorate('checkDatabase', async () => {
      try {
        return { database: true, migrations: await migrationsCurrent(database, latest) };
      } catch {
        return { database: false, migrations: false };
      }
    });
  },
  { name: 'database' },
);
