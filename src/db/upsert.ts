import { getTableColumns, getTableName, sql } from 'drizzle-orm';
import type { PgColumn, PgTable } from 'drizzle-orm/pg-core';
import type { DbOrTx } from './database.js';

/**
 * One multi-row `INSERT … ON CONFLICT DO UPDATE` for a batch of rows. Only the columns the rows
 * carry are updated (a partial row never blanks the others), and a row whose values did not change
 * is not rewritten at all (`WHERE … IS DISTINCT FROM`), so `updated_at` moves only on real change.
 *
 * The rows travel as one JSON parameter expanded by `jsonb_to_recordset`: building and binding
 * thousands of parameters costs more than the statement itself.
 */
export async function upsertRows<T extends PgTable>(
  db: DbOrTx,
  table: T,
  rows: T['$inferInsert'][],
  options: { target: PgColumn[]; keep?: string[] },
): Promise<number> {
  // Rows that carry different columns go in separate statements: a column missing from one row
  // would otherwise be written as its default for that row.
  const groups = new Map<string, T['$inferInsert'][]>();
  for (const row of rows) {
    const present = Object.keys(row).filter(
      (key) => (row as Record<string, unknown>)[key] !== undefined,
    );
    const signature = present.sort().join(',');
    groups.get(signature)?.push(row) ?? groups.set(signature, [row]);
  }
  let written = 0;
  for (const group of groups.values()) written += await upsertGroup(db, table, group, options);
  return written;
}

const quote = (name: string) => `"${name.replaceAll('"', '""')}"`;

async function upsertGroup<T extends PgTable>(
  db: DbOrTx,
  table: T,
  rows: T['$inferInsert'][],
  options: { target: PgColumn[]; keep?: string[] },
): Promise<number> {
  const [first] = rows;
  if (!first) return 0;
  const columns = getTableColumns(table) as Record<string, PgColumn>;
  const keys = Object.keys(first).filter(
    (key) => (first as Record<string, unknown>)[key] !== undefined && columns[key],
  );
  const inserted = keys.map((key) => columns[key] as PgColumn);
  const targetNames = new Set(options.target.map((column) => column.name));
  const skip = new Set(['createdAt', 'updatedAt', ...(options.keep ?? [])]);
  const updated = keys
    .filter((key) => !skip.has(key) && !targetNames.has((columns[key] as PgColumn).name))
    .map((key) => (columns[key] as PgColumn).name);

  const payload = JSON.stringify(
    rows.map((row) =>
      Object.fromEntries(
        keys.map((key) => [(columns[key] as PgColumn).name, (row as Record<string, unknown>)[key]]),
      ),
    ),
  );
  const name = quote(getTableName(table));
  const list = inserted.map((column) => quote(column.name)).join(', ');
  const recordType = inserted
    .map((column) => `${quote(column.name)} ${column.getSQLType()}`)
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
  const result = await db.execute(
    sql`${sql.raw(`insert into ${name} (${list}) select ${list} from jsonb_to_recordset(`)}${payload}${sql.raw(`::jsonb) as x(${recordType}) ${conflict}`)}`,
  );
  return result.rowCount ?? 0;
}
