import path from 'node:path';
import t from 'tap';
import { cursorCodec, cursorParts } from '../../src/shared/cursor.js';
import { forgeCursor } from '../fixtures/cursors.js';
import { readOperations } from '../fuzz/operations.js';
import { auth, build } from '../helper.js';

const { uuid, timestamptz, int4, int8, text, nullable } = cursorParts;

t.test('a cursor round-trips and names its list', async (t) => {
  const codec = cursorCodec('things', [timestamptz, uuid]);
  const values: [string, string] = [
    '2026-03-15 12:00:00.123456+00',
    '0b5c6f3e-8d1a-4c2b-9e7f-1a2b3c4d5e6f',
  ];
  t.same(codec.decode(codec.encode(values)), values);
  const other = cursorCodec('others', [timestamptz, uuid]);
  t.throws(() => other.decode(codec.encode(values)), { code: 'INVALID_CURSOR' });
});

t.test('values the database would refuse are refused before it sees them', async (t) => {
  const refused: [string, Parameters<typeof cursorCodec>[1], unknown[]][] = [
    ['two-part cursor of non-uuids', [timestamptz, uuid], ['x', 'x']],
    ['integer past int4', [int4, text], ['2147483648', 'a']],
    ['integer past int8', [int8], ['9223372036854775808']],
    ['integer with a fraction', [int8], ['1.5']],
    ['the zero date', [timestamptz, text], ['0000-00-00 00:00:00+00', 'a']],
    ['no offset', [timestamptz, text], ['2026-03-15 12:00:00', 'a']],
    ['offset +99', [timestamptz, text], ['2026-03-15 12:00:00+99', 'a']],
    ['31 February', [timestamptz, text], ['2026-02-31 12:00:00+00', 'a']],
    ['29 February of a common year', [timestamptz, text], ['2027-02-29 12:00:00+00', 'a']],
    ['hour 24', [timestamptz, text], ['2026-03-15 24:00:00+00', 'a']],
    ['seven fraction digits', [timestamptz, text], ['2026-03-15 12:00:00.1234567+00', 'a']],
    ['a NUL', [text], ['a\u0000b']],
    ['a long string', [text], ['x'.repeat(201)]],
    ['an empty id', [text], ['']],
    ['a number instead of a string', [int8], [12]],
    ['null where no null may be', [timestamptz, text], [null, 'a']],
    ['a nested array', [text], [['a']]],
    ['too many parts', [text], ['a', 'b']],
    ['too few parts', [text, text], ['a']],
  ];
  for (const [what, parts, values] of refused) {
    const codec = cursorCodec('things', parts);
    t.throws(
      () => codec.decode(forgeCursor(['things', ...values])),
      { code: 'INVALID_CURSOR' },
      what,
    );
  }
  for (const garbage of ['', '%%', 'bm90LWEtY3Vyc29y', forgeCursor({ a: 1 }), forgeCursor(null)]) {
    t.throws(() => cursorCodec('things', [text]).decode(garbage), { code: 'INVALID_CURSOR' });
  }
  t.same(
    cursorCodec('things', [nullable(timestamptz), text]).decode(forgeCursor(['things', null, 'a'])),
    [null, 'a'],
  );
  t.same(
    cursorCodec('things', [timestamptz]).decode(
      forgeCursor(['things', '2028-02-29 23:59:59.5-03:30']),
    ),
    ['2028-02-29 23:59:59.5-03:30'],
  );
});

t.test('every list answers a forged cursor with 400 INVALID_CURSOR, never a 5xx', async (t) => {
  const { app } = await build(t);
  const lists = readOperations(path.join(import.meta.dirname, '../../openapi.yaml')).filter(
    (op) => op.method.toLowerCase() === 'get' && op.parameters.some((p) => p.name === 'cursor'),
  );
  t.ok(lists.length >= 10, `${lists.length} lists`);
  const forged = [
    forgeCursor(['x', 'x']),
    forgeCursor(['x']),
    forgeCursor(['-updatedAt', '0000-00-00 00:00:00', 'x']),
    forgeCursor(['amount', '99999999999', 'x']),
    forgeCursor(['-date', '2026-03-15 12:00:00+99', 'x']),
    forgeCursor(['webhook-events', '99999999999999999999']),
    forgeCursor(['events', 'a\u0000']),
    forgeCursor(['connections', '2026-03-15 12:00:00+00', 'x']),
  ];
  for (const op of lists) {
    const path = op.path.replace(/\{[^}]+\}/g, '1234560');
    for (const cursor of forged) {
      const response = await app.inject({
        method: 'GET',
        url: `${path}?cursor=${encodeURIComponent(cursor)}`,
        headers: auth(),
      });
      t.equal(response.statusCode, 400, `${op.operationId} ${cursor}`);
      t.equal(response.json().code, 'INVALID_CURSOR', `${op.operationId}`);
      t.match(response.headers['content-type'], /application\/problem\+json/);
    }
  }
});
