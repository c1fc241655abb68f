import type { PageInfo } from './json-api.js';

export type Page<T> = {
  items: T[];
  /** Cursor of the page after this one; undefined when this was the last. Save it to resume. */
  nextCursor: string | undefined;
  total: number | undefined;
};

/**
 * Walks cursor pages until Patreon says there are no more, and also stops when a server keeps
 * answering with a cursor it already gave, returns only items already seen, or reaches
 * `meta.pagination.total` (docs/patreon-api.md §5 and the sandbox table: a last page may still carry
 * a cursor; patreon-api.ts#180 looped forever on exactly that).
 */
export async function* paginate<
  T extends { id: string },
  R extends { items: T[]; page: PageInfo } = { items: T[]; page: PageInfo },
>(
  fetchPage: (cursor: string | undefined) => Promise<R>,
  options: { cursor?: string; alreadyFetched?: number } = {},
): AsyncGenerator<Omit<R, 'items' | 'page'> & Page<T>> {
  const seenCursors = new Set<string>();
  const seenIds = new Set<string>();
  let cursor = options.cursor;
  let fetched = options.alreadyFetched ?? 0;
  if (cursor) seenCursors.add(cursor);
  for (;;) {
    const { items, page, ...rest } = await fetchPage(cursor);
    const fresh = items.filter((item) => !seenIds.has(item.id));
    for (const item of fresh) seenIds.add(item.id);
    fetched += fresh.length;

    const next = page.nextCursor;
    const done =
      !next ||
      seenCursors.has(next) ||
      (items.length > 0 && fresh.length === 0) ||
      items.length === 0 ||
      (page.total !== undefined && fetched >= page.total);
    yield { ...rest, items: fresh, nextCursor: done ? undefined : next, total: page.total };
    if (done) return;
    seenCursors.add(next);
    cursor = next;
  }
}
