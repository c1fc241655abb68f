import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import pg from 'pg';
import pino from 'pino';
import type { Test } from 'tap';
import { buildApp } from '../src/app.js';
import { type Config, loadConfig } from '../src/config/config.js';
import { type Database, dumpEmbedded, openDatabase } from '../src/db/database.js';
import { migrationsFolder, runMigrations } from '../src/db/migrations.js';
import { createLogger } from '../src/http/logger.js';
import { type MovableClock, startingClock } from '../src/shared/clock.js';

export const TEST_API_KEY = 'test-key-0123456789abcdefghijklmnopqrstuvwxyz';
export const SECOND_API_KEY = 'test-key-second-0123456789abcdefghijklmnopqrstu';

/**
 * Every test runs at this moment (then ticking): the service's clock and the sandbox's, whose
 * generated dates are anchored at the start of that month. So no answer depends on the day the
 * suite runs (docs/development.md, "Dates"); a test that needs another moment passes its own
 * clock.
 */
export const TEST_NOW = '2026-03-15T12:00:00.000Z';
export const testClock = (start: Date | string = TEST_NOW) => startingClock(start);

/** Set TEST_DATABASE_URL to run every test against a real PostgreSQL server instead of PGlite. */
export const realDatabaseUrl = process.env.TEST_DATABASE_URL || undefined;

export function testConfig(env: Record<string, string> = {}): Config {
  return loadConfig({
    LOG_LEVEL: 'silent',
    API_KEYS: `${TEST_API_KEY},${SECOND_API_KEY}`,
    TOKEN_KEYS: `test:${Buffer.alloc(32, 7).toString('base64')}`,
    DATA_DIR: path.join(os.tmpdir(), 'patreon-gateway-test-data'),
    ...env,
  });
}

export const auth = (key = TEST_API_KEY) => ({ authorization: `Bearer ${key}` });

/**
 * Builds the app on a fresh, migrated database for this test file and closes both at teardown:
 * a PGlite restored from a migrated snapshot, or a new database on TEST_DATABASE_URL's server.
 */
export async function build(
  t: Test,
  options: {
    env?: Record<string, string>;
    logger?: FastifyBaseLogger;
    /** Extra routes or hooks the test adds before the app is ready. */
    extend?: (app: FastifyInstance) => void;
    /** Use this database instead of a fresh one. */
    database?: Database;
    /** The service's clock; defaults to one starting at TEST_NOW. */
    clock?: MovableClock;
  } = {},
): Promise<{ app: FastifyInstance; config: Config; database: Database; clock: MovableClock }> {
  const config = testConfig(options.env);
  const database = options.database ?? (await freshDatabase(t));
  // TEST_LOG_LEVEL=debug shows the service's log while debugging a test.
  const logger = options.logger ?? pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
  const clock = options.clock ?? testClock();
  const app = await buildApp({ config, database, logger, clock });
  t.teardown(() => app.close());
  options.extend?.(app);
  await app.ready();
  return { app, config, database, clock };
}

/** A fresh, empty, migrated database (the caller's app closes it; dropped at teardown). */
export async function freshDatabase(t: Test): Promise<Database> {
  if (realDatabaseUrl) {
    const url = await createRealDatabase(t);
    return openDatabase({ url, poolMax: 5 });
  }
  return openDatabase({ embedded: { snapshot: await migratedSnapshot() } });
}

/** A new database on the real server, dropped when the test ends. */
export async function createRealDatabase(t: Test): Promise<string> {
  if (!realDatabaseUrl) throw new Error('TEST_DATABASE_URL is not set');
  const name = `pgw_test_${process.pid}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: realDatabaseUrl });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  t.teardown(async () => {
    const dropper = new pg.Client({ connectionString: realDatabaseUrl });
    await dropper.connect();
    await dropper.query(`drop database if exists ${name} with (force)`);
    await dropper.end();
  });
  const url = new URL(realDatabaseUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

/**
 * A fresh migrated database reachable by URL: a new database on the real server, or a PGlite
 * served on a loopback port (stopped at teardown).
 */
export async function freshDatabaseUrl(t: Test): Promise<string> {
  if (realDatabaseUrl) return createRealDatabase(t);
  const pglite = await PGlite.create({ loadDataDir: await migratedSnapshot() });
  const server = new PGLiteSocketServer({ db: pglite, host: '127.0.0.1', port: 0 });
  await server.start();
  t.teardown(async () => {
    await server.stop();
    await pglite.close();
  });
  return `postgres://postgres@${server.getServerConn()}/postgres`;
}

let snapshot: Promise<Blob> | undefined;

/**
 * initdb plus migrations take seconds; restoring a dump takes a fraction of that. The dump is
 * cached on disk per migration set and shared by the test processes (written atomically).
 */
function migratedSnapshot(): Promise<Blob> {
  snapshot ??= (async () => {
    const cacheDir = path.join(os.tmpdir(), 'patreon-gateway-test-cache');
    const file = path.join(cacheDir, `pglite-${await migrationsHash()}.tar`);
    const cached = await readFile(file).catch(() => undefined);
    if (cached) return new Blob([cached]);

    await mkdir(cacheDir, { recursive: true });
    const dataDir = await mkdtemp(path.join(cacheDir, 'build-'));
    try {
      const database = await openDatabase({ embedded: { dataDir } });
      await runMigrations(database);
      await database.close();
      const dump = await dumpEmbedded(dataDir);
      const temporary = `${file}.${process.pid}`;
      await writeFile(temporary, Buffer.from(await dump.arrayBuffer()));
      await rename(temporary, file);
      return dump;
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  })();
  return snapshot;
}

async function migrationsHash(): Promise<string> {
  const hash = createHash('sha256');
  for (const name of (await readdir(migrationsFolder)).sort()) {
    if (name.endsWith('.sql'))
      hash.update(name).update(await readFile(path.join(migrationsFolder, name)));
  }
  return hash.digest('hex').slice(0, 16);
}

/** A logger that keeps every line, for tests about what is (not) logged. */
export function capturingLogger(level = 'info') {
  const lines: string[] = [];
  const logger = createLogger(level, { write: (line: string) => lines.push(line) });
  return { logger, lines, text: () => lines.join('') };
}
