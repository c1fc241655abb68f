import t from 'tap';
import { createPatreonClient, type RawBody } from '../../src/patreon/client.js';
import { isPatreonError } from '../../src/patreon/errors.js';
import { type DecodedMembersPage, prepareMembersPage } from '../../src/sync/members-page.js';
import { createMembersPageDecoder } from '../../src/sync/members-page-decoder.js';
import { startSandbox } from '../fixtures/sandbox.js';

/**
 * The sync decodes members pages on a worker thread. What comes back must be exactly what
 * decoding on the event loop gives (the client's own decoding, then the page's statements), the
 * client's errors must keep their code across the thread, and a worker that dies must take only
 * its page with it.
 */

const CAMPAIGN = '1234560';
const page = (body: RawBody, chunkSize: number, withChanges = false) => ({
  ...body,
  campaignId: CAMPAIGN,
  currency: 'USD',
  chunkSize,
  withChanges,
});

t.test('the worker decodes sandbox pages exactly as the client does on this thread', async (t) => {
  const sandbox = await startSandbox(t, { members: 1_100 });
  const client = createPatreonClient({
    baseUrl: sandbox.base,
    clientId: sandbox.state.config.clientId,
    clientSecret: sandbox.state.config.clientSecret,
  });
  const decoder = createMembersPageDecoder({ thread: true });
  t.teardown(async () => {
    await client.close();
    await decoder.close();
  });
  const creator = { accessToken: sandbox.creatorToken() };
  const options = { pledgeHistory: true, address: true };

  // What the client decodes itself, prepared on this thread: the reference.
  const expected = [];
  for await (const { items } of client.members(creator, CAMPAIGN, options)) {
    expected.push(prepareMembersPage({ campaignId: CAMPAIGN, currency: 'USD', members: items }));
  }
  t.same(
    expected.map((p) => p.ids.length),
    [500, 500, 100],
  );

  const viaWorker = [];
  const chunked: DecodedMembersPage[] = [];
  const withChanges: DecodedMembersPage[] = [];
  for await (const decoded of client.memberPages(creator, CAMPAIGN, options, async (body) => {
    chunked.push(await decoder.decode(page(body, 200)));
    withChanges.push(await decoder.decode(page(body, 1_000, true)));
    return decoder.decode(page(body, Number.POSITIVE_INFINITY));
  })) {
    t.equal(decoded.chunks.length, 1, 'one chunk when the page fits a transaction');
    viaWorker.push(decoded.chunks[0]);
    t.same(
      decoded.items.map((item) => item.id),
      decoded.chunks[0]?.ids,
      'the page lists its members for pagination',
    );
  }
  t.same(viaWorker, expected, 'statements, rows and counts equal, byte for byte');
  t.ok(
    viaWorker.some((p) => (p?.eventsCount ?? 0) > 0 && p?.events[0]?.rows.includes('"date"')),
    'pledge history is in the statements',
  );

  t.same(
    chunked.map((p) => p.chunks.map((chunk) => chunk.ids.length)),
    [[200, 200, 100], [200, 200, 100], [100]],
    'chunks of 200 for the embedded database',
  );
  t.same(
    chunked.flatMap((p) => p.chunks.flatMap((chunk) => chunk.ids)),
    expected.flatMap((p) => p.ids),
    'the chunks cover the page in order',
  );

  const changes = withChanges.map((p) => p.chunks[0]?.changes);
  t.equal(expected[0]?.changes, undefined, 'members are kept only when asked');
  t.equal(changes[0]?.members.length, 500);
  t.type(changes[0]?.rows[0]?.lastChargeDate ?? new Date(), Date, 'dates cross as dates');
  const withPledges = changes[0]?.members.find((m) => (m.pledgeHistory ?? []).length > 0);
  t.type(withPledges?.pledgeHistory?.[0]?.date, Date);
});

t.test('an empty page is one empty chunk (it still moves the cursor)', async (t) => {
  const decoder = createMembersPageDecoder({ thread: true });
  t.teardown(() => decoder.close());
  const decoded = await decoder.decode(
    page(
      {
        text: JSON.stringify({ data: [], meta: { pagination: { total: 0, cursors: {} } } }),
        contentType: 'application/json',
        endpoint: '/campaigns/{id}/members',
      },
      200,
    ),
  );
  t.same(
    decoded.chunks.map((chunk) => chunk.ids),
    [[]],
  );
  t.same(decoded.page, { total: 0, nextCursor: undefined });
});

t.test('a malformed page fails with the client’s error, and the worker lives on', async (t) => {
  const decoder = createMembersPageDecoder({ thread: true });
  t.teardown(() => decoder.close());
  const body = (text: string, contentType = 'application/json') => ({
    text,
    contentType,
    endpoint: '/campaigns/{id}/members',
  });
  for (const [text, contentType] of [
    ['{"data": {"id": "1", "type": "member"}}', 'application/json'],
    ['{"data": [{"id": "1", "type": "post"}]}', 'application/json'],
    ['<html>maintenance</html>', 'text/html'],
    ['{"data": [', 'application/json'],
  ] as const) {
    const error = await decoder.decode(page(body(text, contentType), 200)).catch((e) => e);
    t.ok(isPatreonError(error, 'PATREON_BAD_RESPONSE'), `${text}: ${error.message}`);
    t.equal(error.details.endpoint, '/campaigns/{id}/members');
  }
  const good = await decoder.decode(page(body('{"data": []}'), 200));
  t.same(good.items, []);
});

t.test(
  'a worker that cannot run fails its pages, and each page tries a new one',
  // --max-old-space-size, when given, overrides a worker's own heap cap.
  { skip: /max-old-space-size/.test(`${process.env.NODE_OPTIONS} ${process.execArgv}`) },
  async (t) => {
    // A heap cap too small for the worker to even load its modules: it stops with an error.
    const decoder = createMembersPageDecoder({ thread: true, heapMb: 2 });
    t.teardown(() => decoder.close());
    const request = page(
      { text: '{"data": []}', contentType: 'application/json', endpoint: 'x' },
      200,
    );
    for (const attempt of [1, 2]) {
      const error = await decoder.decode(request).catch((e) => e);
      t.equal(error.code, 'ERR_WORKER_OUT_OF_MEMORY', `page ${attempt} fails: ${error.message}`);
    }
  },
);

t.test('a closed decoder starts a new worker for the next page', async (t) => {
  const decoder = createMembersPageDecoder({ thread: true });
  t.teardown(() => decoder.close());
  const request = page(
    { text: '{"data": []}', contentType: 'application/json', endpoint: 'x' },
    200,
  );
  const [first] = await Promise.all([decoder.decode(request), decoder.close()]);
  t.same(first.items, [], 'close waits for the page the worker has');
  t.same((await decoder.decode(request)).items, []);
});

t.test('inline decoding gives the same result', async (t) => {
  const inline = createMembersPageDecoder({ thread: false });
  const worker = createMembersPageDecoder({ thread: true });
  t.teardown(() => worker.close());
  const text = JSON.stringify({
    data: [
      {
        id: '0b6f4a3e-1c2d-4e5f-8a9b-0c1d2e3f4a5b',
        type: 'member',
        attributes: { full_name: 'A', patron_status: 'active_patron', last_charge_date: null },
        relationships: { user: { data: { id: '101', type: 'user' } } },
      },
    ],
    included: [{ id: '101', type: 'user', attributes: { full_name: 'A' } }],
    meta: { pagination: { total: 1, cursors: { next: null } } },
  });
  const request = page({ text, contentType: 'application/json', endpoint: 'x' }, 200, true);
  t.same(await worker.decode(request), await inline.decode(request));
  t.same(await worker.decode(request, true), await inline.decode(request));
});
