import { and, asc, desc, isNotNull, isNull, type SQL, sql } from 'drizzle-orm';
import type { AnyPgColumn } from 'drizzle-orm/pg-core';
import { InvalidCursorError } from '../http/errors.js';
import { decodeCursor } from '../http/pagination.js';

/**
 * A keyset order on (sort column, id). Rows without a sort value come last in either direction;
 * they are read in a second, separate query so each query keeps a plain `(column, id)` order an
 * index on `(…, column, id)` serves forwards or backwards.
 */
export type KeysetOrder = {
  /** Written into cursors, so a cursor from another order or list is refused. */
  name: string;
  column: AnyPgColumn;
  id: AnyPgColumn;
  /** How the cursor's text value is cast back; timestamps travel as full-precision text. */
  type: 'timestamptz' | 'integer' | 'text';
  direction: 'asc' | 'desc';
  nullable: boolean;
};

/** The (sort value, id) of the last row of the previous page. */
export type KeysetPosition = { value: string | null; id: string };

const TIMESTAMP_TEXT =
  /^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(\.\d{1,6})?([+-]\d{2}(:?\d{2})?|Z)?$/;
const INTEGER_TEXT = /^-?\d{1,10}$/;

export function positionKey(order: KeysetOrder, value: string | null, id: string): string[] {
  return [order.name, value === null ? 'null' : 'value', value ?? '', id];
}

/** Decodes a cursor made by `positionKey` for the same order; anything else is a 400. */
export function decodePosition(order: KeysetOrder, cursor: string): KeysetPosition {
  const [name, kind, value, id] = decodeCursor(cursor, 4) as [string, string, string, string];
  const valueValid =
    (kind === 'null' && order.nullable && value === '') ||
    (kind === 'value' &&
      (order.type === 'text' ||
        (order.type === 'integer' ? INTEGER_TEXT : TIMESTAMP_TEXT).test(value)));
  if (name !== order.name || !valueValid || id === '') {
    throw new InvalidCursorError('The cursor is malformed or belongs to another list or sort.');
  }
  return { value: kind === 'null' ? null : value, id };
}

/** The sort value as text, to select next to the row for its cursor. */
export const sortKeyText = (order: KeysetOrder) =>
  sql<string | null>`${order.column}::text`.as('sort_key');

/**
 * Reads up to `limit` rows after `after`: first those with a sort value, then (when the page is
 * not full yet) those without one. `fetch` adds the list's own filters to `keyset`.
 */
export async function keysetPage<R>(
  order: KeysetOrder,
  after: KeysetPosition | undefined,
  limit: number,
  fetch: (keyset: SQL | undefined, orderBy: SQL[], limit: number) => Promise<R[]>,
): Promise<R[]> {
  const direction = order.direction === 'asc' ? asc : desc;
  const operator = sql.raw(order.direction === 'asc' ? '>' : '<');
  let rows: R[] = [];
  if (after === undefined || after.value !== null) {
    const keyset = and(
      order.nullable ? isNotNull(order.column) : undefined,
      after
        ? sql`(${order.column}, ${order.id}) ${operator} (${after.value}::${sql.raw(order.type)}, ${after.id})`
        : undefined,
    );
    rows = await fetch(keyset, [direction(order.column), direction(order.id)], limit);
    if (!order.nullable || rows.length >= limit) return rows;
  }
  const afterId = after?.value === null ? sql`${order.id} ${operator} ${after.id}` : undefined;
  const rest = await fetch(
    and(isNull(order.column), afterId),
    [direction(order.id)],
    limit - rows.length,
  );
  return [...rows, ...rest];
}
