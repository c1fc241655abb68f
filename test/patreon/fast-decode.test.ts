import fc from 'fast-check';
import t from 'tap';
import type { z } from 'zod';
import { isPlainDocument, rawDocument } from '../../src/patreon/json-api.js';
import { attributeShapes, fastChecks, INVALID } from '../../src/patreon/resources.js';

/**
 * The decoder checks Patreon's documents by hand and leaves to zod only what the hand checks
 * refuse. That is right only if every value the hand checks accept, zod accepts too, with the same
 * output; and it is fast only if they accept what Patreon actually sends.
 */

const dates = fc
  .date({ min: new Date('1990-01-01'), max: new Date('2100-01-01'), noInvalidDate: true })
  .chain((d) =>
    fc.constantFrom(
      d.toISOString(),
      d.toISOString().replace('Z', '+00:00'),
      d.toISOString().replace('.000Z', '+02:00'),
    ),
  );
const anyValue = fc.oneof(
  fc.constant(undefined),
  fc.constant(null),
  fc.string(),
  dates,
  fc.integer(),
  fc.double(),
  fc.constant(2 ** 60),
  fc.boolean(),
  fc.constantFrom('true', 'false', '', 'not a date', '2024-13-45T00:00:00Z'),
  fc.array(fc.string(), { maxLength: 3 }),
  fc.array(fc.oneof(fc.string(), fc.integer()), { maxLength: 3 }),
  fc.dictionary(fc.string(), fc.jsonValue(), { maxKeys: 3 }),
);

const same = (a: unknown, b: unknown) =>
  a instanceof Date && b instanceof Date
    ? a.getTime() === b.getTime()
    : Object.is(a, b) || JSON.stringify(a) === JSON.stringify(b);

t.test('every attribute value the hand checks accept, zod accepts with the same output', (t) => {
  const schemas = new Set<z.ZodType>();
  for (const shape of Object.values(attributeShapes)) {
    for (const schema of Object.values(shape)) schemas.add(schema as z.ZodType);
  }
  const accepted = new Set<z.ZodType>();
  for (const schema of schemas) {
    const check = fastChecks.get(schema);
    if (!check) continue;
    fc.assert(
      fc.property(anyValue, (value) => {
        const fast = check(value);
        if (fast === INVALID) return true;
        accepted.add(schema);
        const parsed = schema.safeParse(value);
        return parsed.success && same(fast, parsed.data);
      }),
      { seed: 7, numRuns: 2_000 },
    );
  }
  t.ok(fastChecks.size >= 7, 'the shared schemas have hand checks');
  t.equal(accepted.size, fastChecks.size, 'every hand check accepts the values of its kind');
  t.end();
});

const ref = fc.record({ type: fc.constantFrom('member', 'user', 'tier'), id: fc.string() });
const looseRef = fc.oneof(ref, fc.record({ type: fc.string(), id: fc.integer() }), fc.constant(1));
const resource = fc.record(
  {
    type: fc.oneof(fc.constantFrom('member', 'user'), fc.integer()),
    id: fc.oneof(fc.string(), fc.integer()),
    attributes: fc.oneof(
      fc.constant(null),
      fc.dictionary(fc.string(), fc.jsonValue(), { maxKeys: 3 }),
      fc.constant([]),
    ),
    relationships: fc.oneof(
      fc.constant(null),
      fc.constant('x'),
      fc.dictionary(
        fc.string(),
        fc.oneof(
          fc.constant(null),
          fc.record(
            { data: fc.oneof(fc.constant(null), looseRef, fc.array(looseRef, { maxLength: 3 })) },
            { requiredKeys: [] },
          ),
        ),
        { maxKeys: 2 },
      ),
    ),
  },
  { requiredKeys: ['type', 'id'] },
);
const documents = fc.record(
  {
    data: fc.oneof(fc.constant(null), resource, fc.array(resource, { maxLength: 3 }), fc.string()),
    included: fc.oneof(fc.constant(null), fc.array(resource, { maxLength: 3 })),
    meta: fc.oneof(
      fc.constant(null),
      fc.record(
        {
          pagination: fc.record(
            {
              total: fc.oneof(fc.integer(), fc.constant(null), fc.string()),
              cursors: fc.oneof(
                fc.constant(null),
                fc.record({ next: fc.oneof(fc.string(), fc.constant(null), fc.integer()) }),
              ),
            },
            { requiredKeys: [] },
          ),
        },
        { requiredKeys: [] },
      ),
    ),
    links: fc.oneof(fc.constant(null), fc.record({ next: fc.oneof(fc.string(), fc.integer()) })),
  },
  { requiredKeys: [] },
);

t.test('every document the hand check accepts, zod accepts and leaves as it was', (t) => {
  let plain = 0;
  fc.assert(
    fc.property(documents, (document) => {
      if (!isPlainDocument(document)) return true;
      plain++;
      const parsed = rawDocument.safeParse(document);
      // zod drops keys we never read; what it keeps must be what the document says.
      return parsed.success && JSON.stringify(parsed.data) === JSON.stringify(strip(document));
    }),
    { seed: 11, numRuns: 3_000 },
  );
  t.ok(plain > 100, `${plain} generated documents took the fast path`);
  t.end();
});

/** The document as zod outputs it: only the keys `rawDocument` names, in its order. */
function strip(document: Record<string, unknown>) {
  return rawDocument.parse(JSON.parse(JSON.stringify(document)));
}

t.test('a members page as Patreon sends it takes the fast path', (t) => {
  const page = {
    data: [
      {
        type: 'member',
        id: 'a1b2',
        attributes: {
          full_name: 'A',
          last_charge_date: '2026-01-01T00:00:00.000+00:00',
          is_follower: false,
        },
        relationships: {
          user: { data: { type: 'user', id: '1' }, links: { related: 'https://x' } },
          currently_entitled_tiers: { data: [{ type: 'tier', id: '2' }] },
        },
      },
    ],
    included: [{ type: 'user', id: '1', attributes: { full_name: 'A' } }],
    meta: { pagination: { total: 1, cursors: { next: null } } },
    links: { next: 'https://www.patreon.com/api/oauth2/v2/campaigns/1/members?page%5Bcursor%5D=x' },
  };
  t.ok(isPlainDocument(page));
  t.notOk(
    isPlainDocument({ ...page, data: [{ ...page.data[0], id: 5 }] }),
    'a number id goes to zod',
  );
  t.end();
});
