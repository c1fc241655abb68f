import t from 'tap';
import type { PageInfo } from '../../src/patreon/json-api.js';
import { paginate } from '../../src/patreon/pagination.js';

type Item = { id: string };
const pages = (list: { items: string[]; page: PageInfo }[]) => {
  let calls = 0;
  const cursors: (string | undefined)[] = [];
  const fetchPage = async (cursor: string | undefined) => {
    cursors.push(cursor);
    const next = list[Math.min(calls++, list.length - 1)] as { items: string[]; page: PageInfo };
    return { items: next.items.map((id): Item => ({ id })), page: next.page };
  };
  return { fetchPage, calls: () => calls, cursors };
};

async function collect(source: ReturnType<typeof pages>, cursor?: string) {
  const ids: string[] = [];
  for await (const page of paginate(source.fetchPage, { cursor })) {
    ids.push(...page.items.map((item) => item.id));
  }
  return ids;
}

t.test('stops on a null cursor', async (t) => {
  const source = pages([
    { items: ['a', 'b'], page: { total: undefined, nextCursor: 'c1' } },
    { items: ['c'], page: { total: undefined, nextCursor: undefined } },
  ]);
  t.same(await collect(source), ['a', 'b', 'c']);
  t.same(source.cursors, [undefined, 'c1']);
});

t.test('stops on a cursor it has already followed (no total to rely on)', async (t) => {
  const source = pages([
    { items: ['a'], page: { total: undefined, nextCursor: 'c1' } },
    { items: ['b'], page: { total: undefined, nextCursor: 'c1' } },
  ]);
  t.same(await collect(source), ['a', 'b']);
  t.equal(source.calls(), 2);
});

t.test('stops when a page holds only items already seen', async (t) => {
  const source = pages([
    { items: ['a', 'b'], page: { total: undefined, nextCursor: 'c1' } },
    { items: ['a', 'b'], page: { total: undefined, nextCursor: 'c2' } },
    { items: ['z'], page: { total: undefined, nextCursor: undefined } },
  ]);
  t.same(await collect(source), ['a', 'b']);
  t.equal(source.calls(), 2);
});

t.test('stops when total is reached even if a cursor remains', async (t) => {
  const source = pages([
    { items: ['a', 'b'], page: { total: 3, nextCursor: 'c1' } },
    { items: ['c'], page: { total: 3, nextCursor: 'c2' } },
  ]);
  t.same(await collect(source), ['a', 'b', 'c']);
  t.equal(source.calls(), 2);
});

t.test('resumes from a saved cursor and reports the next one per page', async (t) => {
  const source = pages([
    { items: ['c'], page: { total: undefined, nextCursor: 'c3' } },
    { items: ['d'], page: { total: undefined, nextCursor: undefined } },
  ]);
  const seen: (string | undefined)[] = [];
  for await (const page of paginate(source.fetchPage, { cursor: 'c2' })) seen.push(page.nextCursor);
  t.same(source.cursors, ['c2', 'c3']);
  t.same(seen, ['c3', undefined]);
});
