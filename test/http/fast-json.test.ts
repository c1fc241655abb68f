import fc from 'fast-check';
import t from 'tap';
import { z } from 'zod';
import { entitlementView, reasons } from '../../src/entitlements/schemas.js';
import { compileStringifier } from '../../src/http/fast-json.js';

const stringify = compileStringifier(entitlementView);
const viaZod = (value: unknown) => JSON.stringify(entitlementView.encode(value as never));

const nullable = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: null });
const text = fc.string({ maxLength: 12 });
const int = fc.integer({ min: -1_000_000, max: 1_000_000 });
const tier = fc.record({
  id: text,
  title: nullable(text),
  amountCents: nullable(int),
  deleted: fc.boolean(),
  via: fc.constantFrom('entitled_tiers' as const, 'pledge_history' as const),
});
const view = fc.record(
  {
    externalUserId: text,
    campaignId: text,
    entitled: fc.boolean(),
    status: fc.constantFrom('active' as const, 'grace' as const, 'inactive' as const),
    reason: fc.constantFrom(...reasons),
    since: nullable(text),
    until: nullable(text),
    tiers: fc.array(tier, { maxLength: 3 }),
    benefits: fc.array(
      fc.record({ id: text, title: nullable(text), tierIds: fc.array(text, { maxLength: 2 }) }),
      { maxLength: 3 },
    ),
    amount: nullable(
      fc.record({ cents: int, currency: nullable(text), monthlyEquivalentCents: int }),
    ),
    source: nullable(fc.constantFrom('creator_sync' as const, 'patron_connection' as const)),
    asOf: nullable(text),
    member: nullable(
      fc.record({
        id: text,
        patreonUserId: nullable(text),
        patronStatus: nullable(text),
        lastChargeStatus: nullable(text),
        lastChargeDate: nullable(text),
        pledgeCadence: nullable(int),
      }),
    ),
    explanation: fc.array(text, { maxLength: 3 }),
  },
  {
    requiredKeys: [
      'externalUserId',
      'campaignId',
      'entitled',
      'status',
      'reason',
      'since',
      'until',
      'tiers',
      'benefits',
      'amount',
      'source',
      'asOf',
      'member',
    ],
  },
);

t.test('the compiled stringifier writes what zod then JSON.stringify write', async (t) => {
  fc.assert(
    fc.property(view, (value) => stringify(value) === viaZod(value)),
    { seed: 20261127, numRuns: 500 },
  );
  t.pass('500 generated answers written byte for byte alike');
});

t.test('an allow-list: what the schema does not name is never written', async (t) => {
  const [sample] = fc.sample(view, { seed: 7, numRuns: 1 });
  const leaky = {
    ...sample,
    accessToken: 'secret-token',
    member: {
      id: 'm',
      patreonUserId: null,
      patronStatus: null,
      lastChargeStatus: null,
      lastChargeDate: null,
      pledgeCadence: null,
      email: 'a@b.c',
    },
  };
  const json = stringify(leaky as never);
  t.notMatch(json, /secret-token|a@b\.c|accessToken|email/);
  const { email: _, ...named } = leaky.member;
  t.same(JSON.parse(json).member, named);
});

t.test('a nullable object with bounds is written as null or as itself', async (t) => {
  const schema = z.object({
    n: z.number().int().nullable(),
    o: z.object({ a: z.string() }).nullable(),
  });
  const write = compileStringifier(schema);
  t.equal(write({ n: null, o: null }), '{"n":null,"o":null}');
  t.equal(write({ n: 3, o: { a: 'x' } }), '{"n":3,"o":{"a":"x"}}');
});
