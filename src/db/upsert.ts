import { getTableColumns, getTableName, type SQL, sql } from 'drizzle-orm';
import type { PgColumn, PgTable } from 'drizzle-orm/pg-core';
import type { DbOrTx } from './database.js';

/**
 * One multi-row `INSERT … ON CONFLICT DO UPDATE` for a batch of rows. Only the columns the rows
 * carry are updated (a partial row never blanks the others), and a row whose values did not change
 * is not rewritten at all (`WHERE … IS DISTINCT FROM`), so `updated_at` moves only on real change.
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

async function upsertGroup<T extends PgTable>(
  db: DbOrTx,
  table: T,
  rows: T['$inferInsert'][],
  options: { target: PgColumn[]; keep?: string[] },
): Promise<number> {
  const [first] = rows;
  if (!first) return 0;
  const columns = getTableColumns(table) as Record<string, PgColumn>;
  const targetNames = new Set(options.target.map((column) => column.name));
  const skip = new Set(['createdAt', 'updatedAt', ...(options.keep ?? [])]);
  const updated = Object.keys(first)
    .filter((key) => (first as Record<string, unknown>)[key] !== undefined)
    .filter((key) => !skip.has(key) && columns[key] && !targetNames.has(columns[key].name))
    .map((key) => [key, (columns[key] as PgColumn).name] as const);

  const name = getTableName(table);
  const current = (column: string) => sql.raw(`"${name}"."${column}"`);
  const excluded = (column: string) => sql.raw(`excluded."${column}"`);
  const set: Record<string, SQL> = Object.fromEntries(
    updated.map(([key, column]) => [key, excluded(column)]),
  );
  if ('updatedAt' in columns) set.updatedAt = sql`now()`;

  const query = db.insert(table).values(rows);
  if (updated.length === 0) {
    const result = await query.onConflictDoNothing({ target: options.target });
    return result.rowCount ?? 0;
  }
  const result = await query.onConflictDoUpdate({
    target: options.target,
    set,
    setWhere: sql`(${sql.join(
      updated.map(([, column]) => current(column)),
      sql`, `,
    )}) is distinct from (${sql.join(
      updated.map(([, column]) => excluded(column)),
      sql`, `,
    )})`,
  });
  return result.rowCount ?? 0;
}
