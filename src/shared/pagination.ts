import { z } from 'zod';

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

/** Rows were fetched with `limit + 1` to learn whether another page exists without a count. */
export function toPage<R, T>(
  rows: R[],
  limit: number,
  cursorOf: (row: R) => string,
  view: (row: R) => T,
): { data: T[]; nextCursor: string | null } {
  const hasMore = rows.length > limit;
  const pageRows = hasMore ? rows.slice(0, limit) : rows;
  const last = pageRows.at(-1);
  return {
    data: pageRows.map(view),
    nextCursor: hasMore && last ? cursorOf(last) : null,
  };
}
