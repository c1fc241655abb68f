import type {
  AddressRecord,
  ChargeStatus,
  MemberRecord,
  PatronStatus,
  PledgeEventRecord,
  TierRecord,
  UserRecord,
} from './model.js';
import { FIRST_NAMES, LAST_NAMES, userAttributes } from './people.js';
import { seededHistory } from './pledge-history.js';
import { hex, intBetween, pick, randomFor } from './prng.js';
import {
  DELETED_TIER_ID,
  OTHER_CAMPAIGN_ID,
  OTHER_TIER_IDS,
  OWN_CAMPAIGN_ID,
  OWN_TIER_IDS,
} from './seed-ids.js';
import { addMonths, DAY_MS, iso } from './time.js';

/**
 * Member i is a pure function of (seed, slot, i): nothing is stored for the
 * generated population, so serving 200k members keeps memory flat.
 * Slot 0 is the own campaign (member i ↔ patron user i); slot 1 is the other
 * campaign, joined by every user with i % 5 === 2.
 */
export type Slot = 0 | 1;
export const SLOT_CAMPAIGNS = [OWN_CAMPAIGN_ID, OTHER_CAMPAIGN_ID] as const;

const PATRON_USER_BASE = 5_000_000;
const ADDRESS_BASE = 7_000_000;
const PLEDGE_EVENT_BASE = 10_000_000;

interface Archetype {
  status: PatronStatus;
  charge: ChargeStatus | null;
  cadence: 1 | 12 | null;
  entitled: boolean;
  freeTrial?: boolean;
  gifted?: boolean;
  annualDowngrade?: boolean;
  forceAddress?: boolean;
}

/** Cycled by index so that every patron_status / last_charge_status shows up in any 16 consecutive members. */
const ARCHETYPES: readonly Archetype[] = [
  { status: 'active_patron', charge: 'Paid', cadence: 1, entitled: true },
  { status: 'active_patron', charge: 'Paid', cadence: 12, entitled: true },
  { status: 'active_patron', charge: 'Free Trial', cadence: 1, entitled: true, freeTrial: true },
  { status: 'active_patron', charge: null, cadence: 1, entitled: true, gifted: true },
  { status: 'active_patron', charge: 'Pending', cadence: 1, entitled: true },
  { status: 'declined_patron', charge: 'Declined', cadence: 1, entitled: false },
  { status: 'former_patron', charge: 'Deleted', cadence: 1, entitled: false },
  { status: null, charge: null, cadence: null, entitled: false },
  { status: 'active_patron', charge: 'Paid', cadence: 1, entitled: true, forceAddress: true },
  { status: 'former_patron', charge: 'Refunded', cadence: 1, entitled: false },
  { status: 'former_patron', charge: 'Fraud', cadence: 1, entitled: false },
  { status: 'active_patron', charge: 'Partially Refunded', cadence: 1, entitled: true },
  { status: 'former_patron', charge: 'Refunded by Patreon', cadence: 12, entitled: false },
  { status: 'active_patron', charge: 'Other', cadence: 1, entitled: true },
  // docs/patreon-api.md §7: next_charge_date is null for an annual-pledge downgrade.
  { status: 'active_patron', charge: 'Paid', cadence: 12, entitled: true, annualDowngrade: true },
  { status: null, charge: null, cadence: null, entitled: false },
];
const CYCLE = ARCHETYPES.length;

/** Users without an email address: Patreon members are not guaranteed one (peers.md). */
function userHasEmail(index: number): boolean {
  const r = index % CYCLE;
  return r !== 8 && r !== 15;
}

function archetypeIndex(slot: Slot, index: number): number {
  return slot === 0 ? index % CYCLE : (index * 3 + 1) % CYCLE;
}

function tierIdsFor(slot: Slot): readonly string[] {
  return slot === 0 ? OWN_TIER_IDS : OTHER_TIER_IDS;
}

export function memberTierId(slot: Slot, index: number): string {
  const tiers = tierIdsFor(slot);
  return tiers[Math.floor(index / CYCLE) % tiers.length] as string;
}

export function isEntitledMember(slot: Slot, index: number): boolean {
  return (ARCHETYPES[archetypeIndex(slot, index)] as Archetype).entitled;
}

/** Slot 1 position k is patron user 5k + 2. */
export function userIndexAt(slot: Slot, position: number): number {
  return slot === 0 ? position : position * 5 + 2;
}

export function generatedMemberCount(slot: Slot, members: number): number {
  if (slot === 0) return members;
  return members > 2 ? Math.floor((members - 3) / 5) + 1 : 0;
}

export function hasMembership(slot: Slot, userIndex: number, members: number): boolean {
  if (userIndex < 0 || userIndex >= members) return false;
  return slot === 0 || userIndex % 5 === 2;
}

export function patronUserId(index: number): string {
  return String(PATRON_USER_BASE + index);
}

export function patronUserIndex(userId: string): number | null {
  if (!/^\d+$/.test(userId)) return null;
  const index = Number(userId) - PATRON_USER_BASE;
  return index >= 0 && index < 1_000_000 ? index : null;
}

/**
 * The last 8 hex digits of a member UUID carry (index, slot) through an
 * invertible, seed-keyed 32-bit mix, so ids look random yet decode in O(1).
 */
const MIX = 0x2c1b3c6d;
const MIX_INVERSE = (() => {
  let inverse = MIX;
  for (let i = 0; i < 5; i++) inverse = Math.imul(inverse, 2 - Math.imul(MIX, inverse));
  return inverse >>> 0;
})();

function mixKey(seed: number): number {
  return (randomFor(seed, 0x0d1d)() * 0x1_0000_0000) >>> 0;
}

function scramble(value: number, key: number): number {
  const x = Math.imul((value ^ key) >>> 0, MIX) >>> 0;
  return (x ^ (x >>> 16)) >>> 0;
}

function unscramble(value: number, key: number): number {
  const x = (value ^ (value >>> 16)) >>> 0;
  return (Math.imul(x, MIX_INVERSE) ^ key) >>> 0;
}

export function memberUuid(seed: number, slot: Slot, index: number): string {
  const body = hex(randomFor(seed, index, 0x00ee, slot), 24);
  const tail = scramble(index * 2 + slot, mixKey(seed))
    .toString(16)
    .padStart(8, '0');
  const variant = ((Number.parseInt(body.charAt(15), 16) & 0x3) | 0x8).toString(16);
  return `${body.slice(0, 8)}-${body.slice(8, 12)}-4${body.slice(12, 15)}-${variant}${body.slice(16, 19)}-${body.slice(19, 23)}${tail}`;
}

export function decodeMemberUuid(seed: number, uuid: string): { slot: Slot; index: number } | null {
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/.test(uuid))
    return null;
  const value = unscramble(Number.parseInt(uuid.slice(28), 16), mixKey(seed));
  const slot = (value % 2) as Slot;
  const index = Math.floor(value / 2);
  return memberUuid(seed, slot, index) === uuid ? { slot, index } : null;
}

export function generateUser(seed: number, index: number, anchorMs: number): UserRecord {
  const random = randomFor(seed, index, 0x05e1);
  const first = pick(random, FIRST_NAMES);
  const last = pick(random, LAST_NAMES);
  const id = patronUserId(index);
  const email = userHasEmail(index) ? `${first}.${last}.${index}@example.com`.toLowerCase() : null;
  const created = anchorMs - intBetween(random, 400, 1500) * DAY_MS;
  return { id, attributes: userAttributes(id, first, last, email, created, false) };
}

function generateAddress(
  seed: number,
  index: number,
  anchorMs: number,
  fullName: string,
): AddressRecord {
  const random = randomFor(seed, index, 0xadd7);
  const place = pick(random, [
    { city: 'Lyon', country: 'FR', postal_code: '69002', state: null },
    { city: 'Portland', country: 'US', postal_code: '97205', state: 'OR' },
    { city: 'Osaka', country: 'JP', postal_code: '530-0001', state: null },
    { city: 'Leeds', country: 'GB', postal_code: 'LS1 4DY', state: null },
    { city: 'Toronto', country: 'CA', postal_code: 'M5V 2T6', state: 'ON' },
  ]);
  return {
    id: String(ADDRESS_BASE + index),
    userId: patronUserId(index),
    attributes: {
      addressee: fullName,
      city: place.city,
      country: place.country,
      created_at: iso(anchorMs - intBetween(random, 30, 300) * DAY_MS),
      line_1: `${intBetween(random, 1, 240)} Harbour Street`,
      line_2: random() < 0.3 ? `Flat ${intBetween(random, 1, 40)}` : null,
      phone_number: random() < 0.5 ? `+1555${intBetween(random, 1_000_000, 9_999_999)}` : null,
      postal_code: place.postal_code,
      state: place.state,
    },
  };
}

export function generateMember(
  seed: number,
  slot: Slot,
  index: number,
  anchorMs: number,
  tiers: ReadonlyMap<string, TierRecord>,
  user: UserRecord = generateUser(seed, index, anchorMs),
  id: string = memberUuid(seed, slot, index),
): MemberRecord {
  const random = randomFor(seed, index, 0x3e3b, slot);
  const arch = ARCHETYPES[archetypeIndex(slot, index)] as Archetype;
  const tier = tiers.get(memberTierId(slot, index)) as TierRecord;
  const amount = tier.attributes.amount_cents;
  const months = intBetween(random, 2, 30);
  const startMs = anchorMs - months * 30 * DAY_MS - intBetween(random, 0, 27) * DAY_MS;
  const endMs = anchorMs - intBetween(random, 3, 25) * DAY_MS;
  const charged = arch.charge !== null && arch.charge !== 'Free Trial';
  const lastChargeMs = !charged
    ? null
    : arch.cadence === 12
      ? anchorMs - intBetween(random, 20, 300) * DAY_MS
      : arch.status === 'former_patron'
        ? endMs - 5 * DAY_MS
        : anchorMs + 3_600_000;
  const paidMonths =
    arch.charge === 'Paid' ||
    arch.charge === 'Pending' ||
    arch.charge === 'Other' ||
    arch.charge === 'Partially Refunded'
      ? months
      : charged
        ? Math.max(1, months - 2)
        : 0;
  const lifetime = arch.gifted || arch.freeTrial ? 0 : paidMonths * amount;
  let nextChargeMs: number | null = null;
  if (arch.status === 'active_patron' && !arch.gifted && !arch.annualDowngrade) {
    nextChargeMs =
      arch.cadence === 12 && lastChargeMs !== null
        ? addMonths(lastChargeMs, 12)
        : addMonths(anchorMs, 1);
  }
  if (arch.status === 'declined_patron') nextChargeMs = anchorMs + 3 * DAY_MS;
  const address =
    arch.forceAddress || (arch.status !== null && tier.attributes.requires_shipping)
      ? generateAddress(seed, index, anchorMs, user.attributes.full_name)
      : null;

  return {
    id,
    campaignId: SLOT_CAMPAIGNS[slot],
    userId: user.id,
    tierIds: arch.entitled ? [tier.id] : [],
    address,
    // Built on first read, from its own PRNG stream: most pages never include pledge_history.
    get pledgeHistory(): PledgeEventRecord[] {
      const events = seededHistory({
        random: randomFor(seed, index, 0x4157, slot),
        eventBase: PLEDGE_EVENT_BASE + (index * 2 + slot) * 8,
        member: arch,
        ladder: tierIdsFor(slot),
        deletedTierId: slot === 0 ? DELETED_TIER_ID : null,
        tier,
        tiers,
        startMs,
        lastChargeMs,
        endMs,
      });
      Object.defineProperty(this, 'pledgeHistory', {
        value: events,
        enumerable: true,
        writable: true,
      });
      return events;
    },
    attributes: {
      campaign_lifetime_support_cents: lifetime,
      currently_entitled_amount_cents: arch.entitled ? amount : 0,
      email: user.attributes.email,
      full_name: user.attributes.full_name,
      is_follower: false,
      is_free_trial: arch.freeTrial ?? false,
      is_gifted: arch.gifted ?? false,
      last_charge_date: lastChargeMs === null ? null : iso(lastChargeMs),
      last_charge_status: arch.charge,
      lifetime_support_cents: lifetime,
      next_charge_date: nextChargeMs === null ? null : iso(nextChargeMs),
      note: random() < 0.05 ? 'Met at the spring convention' : '',
      patron_status: arch.status,
      pledge_cadence: arch.cadence,
      pledge_relationship_start: arch.status === null ? null : iso(startMs),
      will_pay_amount_cents:
        arch.status === 'active_patron' && !arch.gifted
          ? amount * (arch.cadence ?? 1)
          : arch.status === 'declined_patron'
            ? amount
            : 0,
    },
  };
}
