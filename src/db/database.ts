import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { drizzle, type NodePgDatabase } from 'drizzle-orm/node-postgres';
import pg from 'pg';
import * as schema from './schema/index.js';

export type Db = NodePgDatabase<typeof schema>;
/** A Drizzle handle or an open transaction: what every repository function accepts. */
export type DbOrTx = Db | Parameters<Parameters<Db['transaction']>[0]>[0];

export type Database = Readonly<{
  kind: 'postgres' | 'embedded';
  db: Db;
  pool: pg.Pool;
  /** A URL other Postgres clients in this process (e.g. the job queue) can connect with. */
  connectionString: string;
  close(): Promise<void>;
}>;

export type DatabaseOptions =
  | { url: string; poolMax: number }
  | { embedded: { dataDir: string } | { snapshot: Blob } | { inMemory: true } };

/**
 * One code path for both databases: the embedded PGlite is served on a loopback port through
 * pglite-socket, so `pg`, Drizzle's node-postgres adapter and every query run unchanged on both.
 */
export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  if ('url' in options) {
    const pool = createPool(options.url, options.poolMax);
    return wrap('postgres', pool, options.url, () => endPool(pool));
  }
  const source = options.embedded;
  let pglite: PGlite;
  if ('dataDir' in source) {
    // PGlite fails when the parent folder is missing.
    await mkdir(path.dirname(source.dataDir), { recursive: true });
    pglite = await PGlite.create({ dataDir: source.dataDir });
  } else if ('snapshot' in source) {
    pglite = await PGlite.create({ loadDataDir: source.snapshot });
  } else {
    pglite = await PGlite.create();
  }
  // PGlite runs one query at a time and the socket server interleaves protocol messages of
  // concurrent connections, so the pool keeps exactly one connection; queries queue in the pool.
  // The server still accepts a second one: the pool replaces a connection it discards (after any
  // failed query) before the server has seen the old socket close, and with a limit of one the
  // replacement was refused, failing the next, unrelated query.
  const server = new PGLiteSocketServer({
    db: pglite,
    host: '127.0.0.1',
    port: 0,
    maxConnections: 2,
  });
  await server.start();
  const url = `postgres://postgres@${server.getServerConn()}/postgres`;
  const pool = createPool(url, 1);
  return wrap('embedded', pool, url, async () => {
    await pool.end();
    await server.stop();
    await pglite.close();
  });
}

/** Dumps an embedded database (for fast test fixtures); only valid for the embedded kind. */
export async function dumpEmbedded(dataDir?: string): Promise<Blob> {
  const pglite = await PGlite.create(dataDir ? { dataDir } : {});
  try {
    return await pglite.dumpDataDir('none');
  } finally {
    await pglite.close();
  }
}

function createPool(connectionString: string, max: number): pg.Pool {
  const pool = new pg.Pool({
    connectionString,
    max,
    connectionTimeoutMillis: 10_000,
    idleTimeoutMillis: 30_000,
    application_name: 'patreon-gateway',
  });
  // An idle client losing its server must not crash the process; the next query reconnects.
  pool.on('error', () => {});
  // A connection that dies while checked out (between the statements of a transaction) emits
  // 'error' on its client; the pending or next query fails with it, so the event itself is only
  // noise, but unheard it would crash the process.
  pool.on('connect', (client) => {
    client.on('error', () => {});
    releaseOnFailedBegin(client);
  });
  return pool;
}

/**
 * drizzle-orm 0.45's pooled `transaction()` sends BEGIN before its try/finally, so a BEGIN that
 * fails (the server went away) never releases the client: the pool loses that slot for good, and
 * `end()` waits for it forever. When BEGIN fails, release the client with the error ourselves, so
 * the pool discards it.
 */
function releaseOnFailedBegin(client: pg.PoolClient) {
  const query = client.query.bind(client) as (...args: unknown[]) => unknown;
  (client as unknown as { query: (...args: unknown[]) => unknown }).query = (...args) => {
    const result = query(...args);
    const first = args[0] as string | { text?: string } | undefined;
    const text = typeof first === 'string' ? first : first?.text;
    if (text && /^\s*begin\b/i.test(text) && result instanceof Promise) {
      result.catch((error: Error) => {
        try {
          client.release(error);
        } catch {
          // already released
        }
      });
    }
    return result;
  };
}

/** How long closing waits for checked-out connections before it stops waiting. */
const END_TIMEOUT_MS = 5000;

/**
 * Ends the pool, waiting for connections still in use, but not forever: after the server went
 * away mid-transaction, a connection can stay checked out for good, and shutdown must not hang.
 */
async function endPool(pool: pg.Pool): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), END_TIMEOUT_MS);
  });
  const outcome = await Promise.race([pool.end(), timedOut]);
  clearTimeout(timer);
  if (outcome === 'timeout') {
    process.emitWarning(
      `database pool: ${pool.totalCount - pool.idleCount} connection(s) still checked out at close`,
    );
  }
}

function wrap(
  kind: Database['kind'],
  pool: pg.Pool,
  connectionString: string,
  close: () => Promise<void>,
): Database {
  let closing: Promise<void> | undefined;
  return Object.freeze({
    kind,
    pool,
    connectionString,
    db: drizzle({ client: pool, schema, casing: 'snake_case' }),
    close: () => {
      closing ??= close();
      return closing;
    },
  });
}
