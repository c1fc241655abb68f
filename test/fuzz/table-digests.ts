import { sql } from 'drizzle-orm';
import type { Db } from '../../src/db/database.js';
import { eventually } from '../fixtures/webhooks.js';

/**
 * What "unchanged" means: every row of every table the service owns hashes the same before and
 * after. Left out, because they move on their own while the service idles: pg-boss's schema (its
 * maintenance and schedules), `leases` (held and released by background work) and
 * `patreon_rate_slots` (pruned every minute). A fuzzed request that wrote anything and committed
 * shows up here; one that rolled back leaves no trace, which is what unchanged means to a caller.
 */
const MOVING_TABLES = new Set(['leases', 'patreon_rate_slots']);

export type Digests = Record<string, string>;

export async function tableDigests(db: Db): Promise<Digests> {
  const tables = await db.execute<{ schema: string; name: string }>(sql`
    select table_schema as schema, table_name as name from information_schema.tables
    where table_type = 'BASE TABLE' and table_schema not in ('pg_catalog', 'information_schema', 'pgboss')
    order by 1, 2`);
  const digests: Digests = {};
  for (const { schema, name } of tables.rows) {
    if (MOVING_TABLES.has(name)) continue;
    const table = sql.raw(`"${schema}"."${name}"`);
    const result = await db.execute<{ rows: string; digest: string }>(sql`
      select count(*)::text as rows, md5(coalesce(string_agg(r::text, E'\n' order by r::text), '')) as digest
      from ${table} r`);
    const row = result.rows[0];
    digests[`${schema}.${name}`] = `${row?.rows} rows ${row?.digest}`;
  }
  return digests;
}

/** Tables that differ, each with its row counts before and after. */
export function compareDigests(before: Digests, after: Digests): Array<[string, string]> {
  const names = new Set([...Object.keys(before), ...Object.keys(after)]);
  const changed: Array<[string, string]> = [];
  for (const name of names) {
    if (before[name] === after[name]) continue;
    const rows = (digest?: string) => digest?.split(' ')[0] ?? 'no';
    changed.push([name, `${rows(before[name])} rows → ${rows(after[name])} rows, contents differ`]);
  }
  return changed;
}

/** Waits until no table changes for 300 ms: the background has nothing left to do. */
export const quietDigests = (db: Db, timeoutMs = 20_000) =>
  eventually(
    'a quiet background',
    async () => {
      const first = JSON.stringify(await tableDigests(db));
      await new Promise((resolve) => setTimeout(resolve, 300));
      return first === JSON.stringify(await tableDigests(db));
    },
    timeoutMs,
  );

/** Every `id` of every public table, so a generated "unknown" id never names a real row. */
export async function knownIds(db: Db): Promise<Set<string>> {
  const tables = await db.execute<{ name: string }>(sql`
    select table_name as name from information_schema.columns
    where column_name = 'id' and table_schema = 'public'`);
  const ids = new Set<string>();
  for (const { name } of tables.rows) {
    const rows = await db.execute<{ id: string }>(
      sql`select id::text as id from ${sql.raw(`"${name}"`)}`,
    );
    for (const { id } of rows.rows) ids.add(id.toLowerCase());
  }
  return ids;
}
