import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { memberPayload } from '../fixtures/webhooks.js';

/**
 * Deliveries Patreon could sign (so the service must take them: a refusal would be retried until
 * Patreon pauses the webhook), good and junk. `applies`: a good one must end `applied`; `never`:
 * junk that must end `failed` or `ignored` with its reason; `maybe`: junk a service may apply
 * after cleaning it up (a NUL in a name), but that must still end in a final state.
 */
export type Delivery = {
  kind: string;
  event: string;
  body: Buffer;
  outcome: 'applies' | 'never' | 'maybe';
  /** The member a good delivery creates, to fetch afterwards. */
  memberId?: string;
};

const GOOD_EVENTS = [
  'members:create',
  'members:update',
  'members:pledge:create',
  'members:pledge:update',
];

const json = (value: unknown) => Buffer.from(JSON.stringify(value));

/** Text that does not compress (so TOAST cannot shrink it under an index's row size limit). */
const incompressible = (length: number) => {
  let text = '';
  for (let i = 0; text.length < length; i++) {
    text += createHash('sha256').update(String(i)).digest('hex');
  }
  return text.slice(0, length);
};

type Payload = ReturnType<typeof memberPayload>;
/** Junk members have users of their own too, so one applied anyway conflicts with no other. */
let junkUsers = 2_000_000;
const member = (memberId: string, change?: (payload: Payload) => void) => {
  junkUsers += 1;
  const payload = memberPayload({ memberId, userId: String(junkUsers) });
  change?.(payload);
  return payload;
};
const attributes = (payload: Payload) => payload.data.attributes as Record<string, unknown>;

/** A member payload with raw bytes in place of `full_name`'s value (still JSON around them). */
const withBytesInName = (memberId: string, bytes: Buffer) => {
  const [before, after] = JSON.stringify(member(memberId)).split('"Pat Ron"') as [string, string];
  return Buffer.concat([Buffer.from(`${before}"Pat `), bytes, Buffer.from(`"${after}`)]);
};

const nested = (depth: number, memberId: string) =>
  Buffer.from(
    `{"data":{"type":"member","id":"${memberId}","attributes":{"note":${'['.repeat(depth)}${']'.repeat(depth)}}}}`,
  );

/** Every kind of junk, by name (the names gate known failures: known-failures.ts). */
export const JUNK: Record<string, (id: string) => Omit<Delivery, 'kind'>> = {
  'data.id with NUL': (id) => ({
    event: 'members:update',
    body: json(member(`${id}\u0000`)),
    outcome: 'never',
  }),
  'data.type with NUL': (id) => ({
    event: 'members:update',
    body: json(member(id, (p) => Object.assign(p.data, { type: 'mem\u0000ber' }))),
    outcome: 'never',
  }),
  'data.id of 8 KB': () => ({
    event: 'members:update',
    body: json(member(incompressible(8 * 1024))),
    outcome: 'never',
  }),
  'data.id of 8 KB of one letter': () => ({
    event: 'members:update',
    body: json(member('a'.repeat(8 * 1024))),
    outcome: 'never',
  }),
  'data.id of 100 KB': () => ({
    event: 'members:create',
    body: json(member(incompressible(100 * 1024))),
    outcome: 'never',
  }),
  'member id not a UUID': () => ({
    event: 'members:update',
    body: json(member('12345678')),
    outcome: 'never',
  }),
  'member id a number': () => ({
    event: 'members:update',
    body: Buffer.from(JSON.stringify(member('x')).replace('"id":"x"', '"id":12345678')),
    outcome: 'never',
  }),
  'not JSON': () => ({ event: 'members:update', body: Buffer.from('not json'), outcome: 'never' }),
  'truncated JSON': (id) => ({
    event: 'members:update',
    body: json(member(id)).subarray(0, 200),
    outcome: 'never',
  }),
  'empty body': () => ({ event: 'members:create', body: Buffer.alloc(0), outcome: 'never' }),
  'JSON null': () => ({ event: 'members:update', body: Buffer.from('null'), outcome: 'never' }),
  'JSON array': () => ({ event: 'posts:publish', body: Buffer.from('[1,2]'), outcome: 'never' }),
  'random bytes': () => ({
    event: 'members:update',
    body: Buffer.from([0xff, 0xfe, 0x00, 0x7b, 0xc3, 0x28, 0xc0, 0xaf]),
    outcome: 'never',
  }),
  'invalid UTF-8 in a name': (id) => ({
    event: 'members:update',
    body: withBytesInName(id, Buffer.from([0xc3, 0x28, 0xff, 0xc0, 0xaf])),
    outcome: 'maybe',
  }),
  'NUL in a name': (id) => ({
    event: 'members:update',
    body: json(member(id, (p) => Object.assign(attributes(p), { full_name: 'Pat\u0000Ron' }))),
    outcome: 'maybe',
  }),
  'lone surrogate in a name': (id) => ({
    event: 'members:update',
    body: json(member(id, (p) => Object.assign(attributes(p), { full_name: 'Pat\ud800' }))),
    outcome: 'maybe',
  }),
  'JSON 10000 deep': (id) => ({
    event: 'members:update',
    body: nested(10_000, id),
    outcome: 'never',
  }),
  'JSON 100000 deep': (id) => ({
    event: 'members:update',
    body: nested(100_000, id),
    outcome: 'never',
  }),
  'no data': () => ({ event: 'members:update', body: json({ included: [] }), outcome: 'never' }),
  'data null': () => ({ event: 'members:update', body: json({ data: null }), outcome: 'never' }),
  'data a string': () => ({
    event: 'members:pledge:create',
    body: json({ data: 'x' }),
    outcome: 'never',
  }),
  'amount past int4': (id) => ({
    event: 'members:update',
    body: json(
      member(id, (p) => Object.assign(attributes(p), { currently_entitled_amount_cents: 2 ** 31 })),
    ),
    outcome: 'maybe',
  }),
  'amount 1e308': (id) => ({
    event: 'members:update',
    body: json(
      member(id, (p) => Object.assign(attributes(p), { currently_entitled_amount_cents: 1e308 })),
    ),
    outcome: 'maybe',
  }),
  'amount negative': (id) => ({
    event: 'members:update',
    body: json(member(id, (p) => Object.assign(attributes(p), { will_pay_amount_cents: -1 }))),
    outcome: 'maybe',
  }),
  'charge date year 0000': (id) => ({
    event: 'members:update',
    body: json(
      member(id, (p) => Object.assign(attributes(p), { last_charge_date: '0000-01-01T00:00:00Z' })),
    ),
    outcome: 'maybe',
  }),
  'charge date year 294277': (id) => ({
    event: 'members:update',
    body: json(
      member(id, (p) =>
        Object.assign(attributes(p), { last_charge_date: '294277-01-01T00:00:00Z' }),
      ),
    ),
    outcome: 'maybe',
  }),
  'charge date 2026-13-45': (id) => ({
    event: 'members:update',
    body: json(
      member(id, (p) =>
        Object.assign(attributes(p), { last_charge_date: '2026-13-45T25:61:61+99:00' }),
      ),
    ),
    outcome: 'maybe',
  }),
  'campaign id of 10 KB': (id) => ({
    event: 'members:update',
    body: json(
      member(id, (p) => {
        p.data.relationships.campaign.data.id = '7'.repeat(10 * 1024);
      }),
    ),
    outcome: 'maybe',
  }),
  'tier id with NUL': (id) => ({
    event: 'members:update',
    body: json(
      member(id, (p) => {
        p.data.relationships.currently_entitled_tiers.data = [{ type: 'tier', id: '54\u000021' }];
      }),
    ),
    outcome: 'maybe',
  }),
  'post event with a member body': (id) => ({
    event: 'posts:publish',
    body: json(member(id)),
    outcome: 'maybe',
  }),
};

/** A good delivery: a new member of the campaign (its user is set by the batch). */
const good = fc.tuple(fc.uuid({ version: 4 }), fc.constantFrom(...GOOD_EVENTS));

const goodDelivery = ([memberId, event]: [string, string], index: number): Delivery => {
  const userId = String(1_000_000 + index);
  return {
    kind: 'good',
    event,
    body: json(memberPayload({ memberId, userId, fullName: `Good ${userId}` })),
    outcome: 'applies',
    memberId,
  };
};

/**
 * One batch sent at once: `goods` good deliveries and every enabled kind of junk `junkEach` times,
 * shuffled. Good deliveries have distinct members and users (each one's state is its own).
 */
export function deliveryBatch(goods: number, junkKinds: string[], junkEach: number, batch: number) {
  const junk = junkKinds.flatMap((kind) =>
    Array.from({ length: junkEach }, () =>
      fc.uuid({ version: 4 }).map((id): Delivery => {
        const make = JUNK[kind] as (id: string) => Omit<Delivery, 'kind'>;
        return { kind, ...make(id) };
      }),
    ),
  );
  return fc
    .tuple(
      fc.uniqueArray(good, { minLength: goods, maxLength: goods, selector: ([id]) => id }),
      junk.length > 0 ? fc.tuple(...junk) : fc.constant([] as Delivery[]),
    )
    .chain(([goodOnes, junkOnes]) => {
      const all = [...goodOnes.map((g, i) => goodDelivery(g, batch * 10_000 + i)), ...junkOnes];
      return fc.shuffledSubarray(all, { minLength: all.length });
    });
}
