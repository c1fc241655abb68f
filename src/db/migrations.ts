import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { sql } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/node-postgres';
import { migrate } from 'drizzle-orm/node-postgres/migrator';
import type { Database } from './database.js';

/** migrations/ sits two levels above both src/db and dist/db. */
export const migrationsFolder = fileURLToPath(new URL('../../migrations', import.meta.url));

// Any constant shared by all instances; only one instance migrates at a time.
const MIGRATION_LOCK = 7_246_821_337;

/** Applies pending migrations under an advisory lock, so instances starting together take turns. */
export async function runMigrations(database: Database): Promise<void> {
  const client = await database.pool.connect();
  try {
    await client.query('select pg_advisory_lock($1)', [MIGRATION_LOCK]);
    try {
      await migrate(drizzle({ client }), { migrationsFolder });
    } finally {
      await client.query('select pg_advisory_unlock($1)', [MIGRATION_LOCK]);
    }
  } finally {
    client.release();
  }
}

type Journal = { entries: { idx: number; when: number; tag: string }[] };

/** The `when` of the newest migration shipped with this build. */
export async function latestShippedMigration(): Promise<number> {
  const journal = JSON.parse(
    await readFile(`${migrationsFolder}/meta/_journal.json`, 'utf8'),
  ) as Journal;
  return Math.max(0, ...journal.entries.map((entry) => entry.when));
}

/** True when the database has every shipped migration applied. */
export async function migrationsCurrent(database: Database, latest: number): Promise<boolean> {
  const result = await database.db.execute<{ latest: string | null }>(
    sql`select max(created_at)::text as latest from drizzle.__drizzle_migrations`,
  );
  return Number(result.rows[0]?.latest ?? 0) >= latest;
}
