import t from 'tap';
import { createRateGovernor } from '../../src/patreon/rate-governor.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

t.test('no window ever holds more than the budget, counting from each response', async (t) => {
  const governor = createRateGovernor({
    client: { requests: 1000, windowMs: 1_000 },
    token: { requests: 5, windowMs: 300 },
    headroom: 1,
  });
  t.teardown(() => governor.close());
  const spans: [number, number][] = [];
  await Promise.all(
    Array.from({ length: 15 }, async () => {
      const release = await governor.acquire('token-a');
      const sent = Date.now();
      await sleep(20); // the request is in flight
      spans.push([sent, Date.now()]); // read before release: the governor's own clock is later
      release();
    }),
  );
  // For any request sent at s, at most 5 requests may have been alive within (s - 300, s].
  for (const [sent] of spans) {
    const overlapping = spans.filter(([s, done]) => s <= sent && done > sent - 300).length;
    t.ok(overlapping <= 5, `at most 5 in any window (saw ${overlapping})`);
  }
});

t.test(
  'interactive requests go first; a full token window does not block other tokens',
  async (t) => {
    const governor = createRateGovernor({
      client: { requests: 2, windowMs: 200 },
      token: { requests: 100, windowMs: 1_000 },
      headroom: 1,
    });
    t.teardown(() => governor.close());
    const order: string[] = [];
    const run = async (name: string, token: string, priority: 'interactive' | 'background') => {
      const release = await governor.acquire(token, priority);
      order.push(name);
      release();
    };
    const all = [
      run('b1', 'x', 'background'),
      run('b2', 'x', 'background'),
      run('b3', 'x', 'background'),
      run('b4', 'x', 'background'),
    ];
    all.push(run('i1', 'y', 'interactive'));
    await Promise.all(all);
    t.same(order.slice(0, 2), ['b1', 'b2'], 'the first two went at once');
    t.equal(order[2], 'i1', 'the interactive request jumped the background queue');

    const tokens = createRateGovernor({
      client: { requests: 100, windowMs: 1_000 },
      token: { requests: 1, windowMs: 5_000 },
      headroom: 1,
    });
    t.teardown(() => tokens.close());
    (await tokens.acquire('busy'))();
    const blocked = tokens.acquire('busy');
    const started = Date.now();
    (await tokens.acquire('other'))();
    t.ok(Date.now() - started < 100, 'another token proceeds while one waits');
    tokens.close();
    await t.rejects(blocked, { code: 'GOVERNOR_CLOSED' }, 'closing rejects waiters');
  },
);

t.test('pause after a 429 holds the token for the stated time', async (t) => {
  const governor = createRateGovernor({
    client: { requests: 100, windowMs: 100 },
    token: { requests: 100, windowMs: 1_000 },
    headroom: 1,
  });
  t.teardown(() => governor.close());
  governor.pause('t', 250);
  const started = Date.now();
  (await governor.acquire('t'))();
  t.ok(Date.now() - started >= 240, 'waited for the pause');
});
