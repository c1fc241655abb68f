import fc from 'fast-check';
import t from 'tap';
import { resourceOf } from '../../src/webhooks/resource-of.js';
import { memberPayload } from '../fixtures/webhooks.js';

/** What JSON.parse makes of it: the reference the scan must agree with on every JSON document. */
function reference(text: string) {
  try {
    const data = JSON.parse(text)?.data;
    return {
      type: typeof data?.type === 'string' ? data.type : null,
      id: typeof data?.id === 'string' || typeof data?.id === 'number' ? String(data.id) : null,
    };
  } catch {
    return { type: null, id: null };
  }
}

const scan = (text: string) => resourceOf(Buffer.from(text, 'utf8'));

t.test('a Patreon delivery: its member', async (t) => {
  const body = JSON.stringify(memberPayload({ memberId: 'm-1' }));
  t.same(scan(body), reference(body));
  t.equal(scan(body).id, 'm-1');
  t.equal(scan(body).type, 'member');
});

t.test('agrees with JSON.parse on generated documents', async (t) => {
  const name = fc.constantFrom('data', 'type', 'id', 'attributes', 'included', 'd\\u0061ta', 'x');
  const value = fc.oneof(fc.string(), fc.integer(), fc.constant(null), fc.boolean());
  const resource = fc.dictionary(name, fc.oneof(value, fc.jsonValue({ maxDepth: 2 })), {
    maxKeys: 5,
  });
  const document = fc.oneof(
    fc.record({ data: resource, included: fc.array(resource, { maxLength: 2 }) }),
    fc.dictionary(name, fc.oneof(resource, fc.jsonValue({ maxDepth: 3 })), { maxKeys: 4 }),
    fc.jsonValue({ maxDepth: 3 }),
  );
  // Written plainly, with spaces, and with the names escaped, as a sender might.
  const texts = fc.tuple(document, fc.constantFrom(0, 1, 2)).map(([doc, style]) => {
    const text = JSON.stringify(doc, null, style === 1 ? 2 : undefined);
    return style === 2
      ? text.replace(/"id"/g, '"\\u0069d"')
      : text.replace(/\\\\u0061/g, '\\u0061');
  });
  fc.assert(
    fc.property(texts, (text) => {
      const got = scan(text);
      const want = reference(text);
      return got.type === want.type && got.id === want.id;
    }),
    { seed: 20261127, numRuns: 3000 },
  );
  t.pass('3,000 documents agree');
});

t.test('not JSON: no crash, and no reference where nothing starts as an object', async (t) => {
  for (const text of ['', 'null', '[1,2]', '"data"', '{"data":', '{"data":{"id":"x', '\ufeff{}']) {
    t.doesNotThrow(() => scan(text), JSON.stringify(text));
  }
  t.same(scan('[{"data":{"id":"1"}}]'), { type: null, id: null });
  for (const text of [
    '{"data":"x","other":{"id":"1","type":"t"}}',
    '{"data":{"id":"1","type":"a"},"data":[{"id":"2","type":"b"}]}',
    '{"data":{"id":"1","type":"a"},"data":{"id":"2"}}',
    '{"data":{"attributes":{"id":"inner"},"id":"outer"}}',
    '{"x":"{\\"data\\":{\\"id\\":\\"1\\"}}"}',
  ]) {
    t.same(scan(text), reference(text), text);
  }
  t.same(scan('{"data":{"id":7,"type":"member"}}'), { type: 'member', id: '7' }, 'a numeric id');
});
