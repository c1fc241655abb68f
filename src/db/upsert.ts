import { getTableColumns, getTableName, sql } from 'drizzle-orm';
import type { PgColumn, PgTable } from 'drizzle-orm/pg-core';
import type { DbOrTx } from './database.js';

/**
 * One multi-row `INSERT … ON CONFLICT DO UPDATE` for a batch of rows. Only the columns the rows
 * carry are updated (a partial row never blanks the others), and a row whose values did not change
 * is not rewritten at all (`WHERE … IS DISTINCT FROM`), so `updated_at` moves only on real change.
 * Returns how many rows were written (inserted or changed).
 *
 * The rows travel as one JSON parameter expanded by `json_to_recordset`: building and binding
 * thousands of parameters costs more than the statement itself. Plain `json`, not `jsonb`: the
 * text is read once, where `jsonb` would first build a binary copy of it (about half the time of
 * expanding a page of pledge events).
 */
export async function upsertRows<T extends PgTable>(
  db: DbOrTx,
  table: T,
  rows: T['$inferInsert'][],
  options: UpsertOptions,
): Promise<number> {
  return (await runUpsert(db, prepareUpsert(table, rows, options))).written;
}

export type UpsertOptions = { target: PgColumn[]; keep?: string[] };

/**
 * The statements of an upsert, built ahead of the transaction that runs them: plain strings (the
 * SQL around the rows' JSON, and the JSON), so a worker thread can build them (see
 * `members-page-decoder.ts`).
 */
export type PreparedUpsert = { head: string; rows: string; tail: string }[];

/**
 * Builds the statements of `upsertRows` without running them: the rows' JSON is ready before the
 * transaction starts, so a sync can build one page while the database writes another.
 */
export function prepareUpsert<T extends PgTable>(
  table: T,
  rows: T['$inferInsert'][],
  options: UpsertOptions,
): PreparedUpsert {
  // Rows that carry different columns go in separate statements: a column missing from one row
  // would otherwise be written as its default for that row.
  const groups = new Map<string, T['$inferInsert'][]>();
  for (const row of rows) {
    let signature = '';
    for (const key in row) {
      if ((row as Record<string, unknown>)[key] !== undefined) signature += `${key},`;
    }
    const group = groups.get(signature);
    if (group) group.push(row);
    else groups.set(signature, [row]);
  }
  return [...groups.values()].map((group) => groupStatement(table, group, options));
}

/**
 * Runs prepared upsert statements in order: how many rows they wrote, and how many of those were
 * new (an inserted row version has no `xmax`, an updated one carries the updating transaction's,
 * the ON CONFLICT row lock). One aggregate row comes back per statement, not a row per member.
 */
export async function runUpsert(
  db: DbOrTx,
  statements: PreparedUpsert,
): Promise<{ written: number; inserted: number }> {
  const total = { written: 0, inserted: 0 };
  for (const { head, rows, tail } of statements) {
    const result = await db.execute<{ written: number; inserted: number }>(
      sql`${sql.raw(head)}${rows}${sql.raw(tail)}`,
    );
    const [counted] = result.rows;
    total.written += counted?.written ?? 0;
    total.inserted += counted?.inserted ?? 0;
  }
  return total;
}

const quote = (name: string) => `"${name.replaceAll('"', '""')}"`;

function groupStatement<T extends PgTable>(
  table: T,
  rows: T['$inferInsert'][],
  options: UpsertOptions,
): PreparedUpsert[number] {
  const first = rows[0] as T['$inferInsert'];
  const columns = getTableColumns(table) as Record<string, PgColumn>;
  const keys = Object.keys(first).filter(
    (key) => (first as Record<string, unknown>)[key] !== undefined && columns[key],
  );
  const targetNames = new Set(options.target.map((column) => column.name));
  const skip = new Set(['createdAt', 'updatedAt', ...(options.keep ?? [])]);
  const updated = keys
    .filter((key) => !skip.has(key) && !targetNames.has((columns[key] as PgColumn).name))
    .map((key) => (columns[key] as PgColumn).name);

  // The record's fields are named after the rows' own keys, so the rows are serialised as they
  // are (no per-row copy keyed by column name); keys that are not columns are ignored.
  const payload = JSON.stringify(rows);
  const name = quote(getTableName(table));
  const list = keys.map((key) => quote((columns[key] as PgColumn).name)).join(', ');
  const fields = keys.map((key) => `x.${quote(key)}`).join(', ');
  const recordType = keys
    .map((key) => `${quote(key)} ${(columns[key] as PgColumn).getSQLType()}`)
    .join(', ');
  const target = options.target.map((column) => quote(column.name)).join(', ');
  let conflict: string;
  if (updated.length === 0) {
    conflict = `on conflict (${target}) do nothing`;
  } else {
    const set = updated.map((column) => `${quote(column)} = excluded.${quote(column)}`);
    if ('updatedAt' in columns) set.push('"updated_at" = now()');
    const current = updated.map((column) => `${name}.${quote(column)}`).join(', ');
    const incoming = updated.map((column) => `excluded.${quote(column)}`).join(', ');
    conflict = `on conflict (${target}) do update set ${set.join(', ')} where (${current}) is distinct from (${incoming})`;
  }
  return {
    head: `with w as (insert into ${name} (${list}) select ${fields} from json_to_recordset(`,
    rows: payload,
    tail: `::json) as x(${recordType}) ${conflict} returning xmax = 0 as inserted) select count(*)::int as written, (count(*) filter (where inserted))::int as inserted from w`,
  };
}
