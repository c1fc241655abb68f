import type { Page } from '../patreon/pagination.js';
import type { Post } from '../patreon/resources.js';
import type { DecodedMembersPage, PreparedMembersPage } from './members-page.js';

/** A page's rows in transactions of at most `maxRowsPerTransaction` (see the runner). */
export type Chunk = { count: number; members?: PreparedMembersPage; posts?: Post[] };

/**
 * Members pages as their prepared chunks. A member that a page repeats from an earlier one (see
 * `paginate`) is written again, which changes nothing, but counted once.
 */
export async function* memberChunks(
  pages: AsyncGenerator<Pick<DecodedMembersPage, 'chunks'> & Page<{ id: string }>>,
) {
  for await (const { items, nextCursor, chunks } of pages) {
    const fresh = new Set(items.map((item) => item.id));
    yield {
      nextCursor,
      chunks: chunks.map(
        (members): Chunk => ({ count: members.ids.filter((id) => fresh.has(id)).length, members }),
      ),
    };
  }
}

/** Posts pages in chunks of `size` posts (at least one chunk: an empty page moves the cursor). */
export async function* postChunks(pages: AsyncGenerator<Page<Post>>, size: number) {
  for await (const { items, nextCursor } of pages) {
    const chunks: Chunk[] = [];
    for (let i = 0; i < items.length || i === 0; i += size) {
      const posts = items.slice(i, i + size);
      chunks.push({ count: posts.length, posts });
    }
    yield { nextCursor, chunks };
  }
}
