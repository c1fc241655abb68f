import t from 'tap';
import { coalesce } from '../../src/db/coalesce.js';

/** A batch runner that records each batch and answers when told to. */
function recorder() {
  const batches: number[][] = [];
  const pending: (() => void)[] = [];
  const run = (items: number[]) => {
    batches.push(items);
    return new Promise<number[]>((resolve) =>
      pending.push(() => resolve(items.map((i) => i * 10))),
    );
  };
  const finishOne = async () => {
    pending.shift()?.();
    await new Promise((resolve) => setImmediate(resolve));
  };
  return { batches, run, finishOne };
}

t.test('a call on a quiet coalescer runs at once, alone', async (t) => {
  const { batches, run, finishOne } = recorder();
  const lookups = coalesce(run, { maxBatch: 10, maxInFlight: 1 });
  const answer = lookups.call(7);
  t.same(batches, [[7]]);
  await finishOne();
  t.equal(await answer, 70);
  t.equal(lookups.busy(), false);
});

t.test('calls made while batches run wait and go together, in order, up to maxBatch', async (t) => {
  const { batches, run, finishOne } = recorder();
  const lookups = coalesce(run, { maxBatch: 3, maxInFlight: 2 });
  const answers = Array.from({ length: 7 }, (_, i) => lookups.call(i));
  t.same(batches, [[0], [1]], 'two run at once; the rest wait');
  t.equal(lookups.busy(), true);
  await finishOne();
  t.same(batches.at(-1), [2, 3, 4], 'a freed slot takes what waits, at most maxBatch');
  await finishOne();
  t.same(batches.at(-1), [5, 6]);
  while (lookups.busy()) await finishOne();
  t.same(await Promise.all(answers), [0, 10, 20, 30, 40, 50, 60], 'each call gets its own answer');
});

t.test('a failing batch fails its own calls only', async (t) => {
  let calls = 0;
  const lookups = coalesce(
    async (items: string[]) => {
      calls++;
      if (items.includes('bad')) throw new Error('statement failed');
      return items.map((item) => item.toUpperCase());
    },
    { maxBatch: 10, maxInFlight: 1 },
  );
  const first = lookups.call('bad');
  const second = lookups.call('fine');
  await t.rejects(first, /statement failed/);
  t.equal(await second, 'FINE', 'the next batch still runs');
  t.equal(calls, 2);
});
