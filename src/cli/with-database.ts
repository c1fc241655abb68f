import path from 'node:path';
import { type Config, ConfigError } from '../config/config.js';
import { type Database, openDatabase } from '../db/database.js';

/**
 * The start-up every database command shares: open the database the config names (the embedded
 * one under `DATA_DIR` without a URL), run `command`, close it, and exit 1 with a readable line on
 * failure (a configuration problem is its message, anything else its stack).
 */
export async function withDatabase(
  loadConfig: () => Promise<Config> | Config,
  { poolMax }: { poolMax: number },
  command: (database: Database, config: Config) => Promise<string>,
): Promise<void> {
  try {
    const config = await loadConfig();
    const database = await openDatabase(
      config.database.url
        ? { url: config.database.url, poolMax }
        : { embedded: { dataDir: path.join(config.dataDir, 'pglite') } },
    );
    try {
      process.stdout.write(`${await command(database, config)}\n`);
    } finally {
      await database.close();
    }
  } catch (error) {
    process.stderr.write(
      `${error instanceof ConfigError ? error.message : (error as Error).stack}\n`,
    );
    process.exit(1);
  }
}
