import { z } from 'zod';
import { InvalidCursorError } from './errors.js';

export const MAX_PAGE_SIZE = 200;

/** `?limit=&cursor=`: the query every list endpoint takes. */
export const pageQuery = z.object({
  limit: z.coerce
    .number()
    .int()
    .min(1)
    .max(MAX_PAGE_SIZE)
    .default(50)
    .describe(`Items per page, 1 to ${MAX_PAGE_SIZE}.`),
  cursor: z
    .string()
    .max(512)
    .optional()
    .describe('Opaque `nextCursor` from the previous page; omit for the first page.'),
});

/** `{ data, nextCursor }`: the shape of every list response. */
export function pageOf<T extends z.ZodType>(item: T) {
  return z.object({
    data: z.array(item),
    nextCursor: z
      .string()
      .nullable()
      .describe('Pass as `cursor` to get the next page; null on the last page.'),
  });
}

/**
 * Keyset cursors: the sort key of the last row on a page, opaque to clients. Keys are strings
 * (timestamps travel as Postgres text so no precision is lost to JavaScript dates).
 */
export function encodeCursor(key: readonly string[]): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

export function decodeCursor(cursor: string, length: number): string[] {
  try {
    const key: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (
      Array.isArray(key) &&
      key.length === length &&
      key.every((part) => typeof part === 'string' && part.length <= 200)
    ) {
      return key;
    }
  } catch {
    // fall through to the error below
  }
  throw new InvalidCursorError('The cursor is malformed or belongs to another list.');
}

/** Rows were fetched with `limit + 1` to learn whether another page exists without a count. */
export function toPage<R, T>(
  rows: R[],
  limit: number,
  keyOf: (row: R) => string[],
  view: (row: R) => T,
): { data: T[]; nextCursor: string | null } {
  const hasMore = rows.length > limit;
  const pageRows = hasMore ? rows.slice(0, limit) : rows;
  const last = pageRows.at(-1);
  return {
    data: pageRows.map(view),
    nextCursor: hasMore && last ? encodeCursor(keyOf(last)) : null,
  };
}
