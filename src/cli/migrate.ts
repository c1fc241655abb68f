import { loadConfig } from '../config/config.js';
import { runMigrations } from '../db/migrations.js';
import { withDatabase } from './with-database.js';

/** `npm run db:migrate`: applies pending migrations to the configured database, then exits. */
await withDatabase(
  () => loadConfig(process.env),
  { poolMax: 1 },
  async (database) => {
    await runMigrations(database);
    return `migrations applied (${database.kind} database)`;
  },
);
