import { and, asc, desc, isNotNull, isNull, type SQL, sql } from 'drizzle-orm';
import type { AnyPgColumn } from 'drizzle-orm/pg-core';
import { cursorCodec, cursorParts } from '../shared/cursor.js';

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

const valueParts = {
  timestamptz: cursorParts.timestamptz,
  integer: cursorParts.int4,
  text: cursorParts.text,
} as const;

/** A position's cursor: the order's name, the sort value (null past the last value), the id. */
const positionCursor = (order: KeysetOrder) =>
  cursorCodec(order.name, [
    order.nullable ? cursorParts.nullable(valueParts[order.type]) : valueParts[order.type],
    cursorParts.text,
  ]);

export function positionCursorOf(order: KeysetOrder, value: string | null, id: string): string {
  return positionCursor(order).encode([value, id]);
}

/** Decodes a cursor made by `positionCursorOf` for the same order; anything else is a 400. */
export function decodePosition(order: KeysetOrder, cursor: string): KeysetPosition {
  const [value, id] = positionCursor(order).decode(cursor);
  return { value, id };
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
