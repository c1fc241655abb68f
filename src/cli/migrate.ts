import path from 'node:path';
import { ConfigError, loadConfig } from '../config/config.js';
import { openDatabase } from '../db/database.js';
import { runMigrations } from '../db/migrations.js';

/** `npm run db:migrate`: applies pending migrations to the configured database, then exits. */
try {
  const config = loadConfig(process.env);
  const database = await openDatabase(
    config.database.url
      ? { url: config.database.url, poolMax: 1 }
      : { embedded: { dataDir: path.join(config.dataDir, 'pglite') } },
  );
  try {
    await runMigrations(database);
    process.stdout.write(`migrations applied (${database.kind} database)\n`);
  } finally {
    await database.close();
  }
} catch (error) {
  process.stderr.write(
    `${error instanceof ConfigError ? error.message : (error as Error).stack}\n`,
  );
  process.exit(1);
}
