import { sql } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import type { Test } from 'tap';
import type { Db } from '../../src/db/database.js';
import {
  benefits,
  type ChargeStatus,
  campaigns,
  chargeStatuses,
  goals,
  members,
  memberTiers,
  type PatronStatus,
  type PledgeEventType,
  patreonUsers,
  pledgeEvents,
  pledgeEventTypes,
  posts,
  tierBenefits,
  tiers,
} from '../../src/db/schema/index.js';
import { auth } from '../helper.js';

export const CAMPAIGN = '5550001';
export const OTHER_CAMPAIGN = '5550002';
export const DELETED_CAMPAIGN = '5550003';
export const MEMBER_COUNT = 60;
/** A tier a member is entitled to that was never synced (no row in `tiers`). */
export const GHOST_TIER = '798';
/** The member with a long payment history (more than the detail shows). */
export const LONG_HISTORY = 120;

const patronStatusCycle: Array<PatronStatus | null> = [
  'active_patron',
  'declined_patron',
  'former_patron',
  null,
];
const chargeStatusCycle: Array<ChargeStatus | null> = [...chargeStatuses, null];

/**
 * A member as inserted, with the sort keys in comparable form: timestamps as microseconds since
 * a base, because several rows share a millisecond (a JavaScript Date cannot order them).
 */
export type SeededMember = {
  id: string;
  campaignId: string;
  userId: string | null;
  fullName: string | null;
  email: string | null;
  patronStatus: PatronStatus | null;
  lastChargeStatus: ChargeStatus | null;
  currency: string | null;
  entitledCents: number;
  deleted: boolean;
  updatedMicros: number;
  pledgeStartMicros: number | null;
  tierIds: string[];
};

export type SeededEvent = {
  id: string;
  memberId: string;
  type: PledgeEventType;
  dateMicros: number;
  currency: string;
  tierId: string | null;
};

const DAY_MICROS = 86_400_000_000;
export const UPDATED_BASE = '2026-11-01T00:00:00Z';
export const PLEDGE_BASE = '2024-01-01T00:00:00Z';
export const EVENT_BASE = '2025-01-01T00:00:00Z';

export const memberId = (i: number) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`;

/** `base + micros` as an exact ISO string (micro precision). */
export function isoAt(base: string, micros: number): string {
  const ms = Math.floor(micros / 1000);
  const rest = micros % 1000;
  const iso = new Date(Date.parse(base) + ms).toISOString();
  return rest === 0 ? iso : iso.replace('Z', `${String(rest).padStart(3, '0')}Z`);
}

const at = (base: string, micros: number) =>
  sql`${base}::timestamptz + ${micros} * interval '1 microsecond'`;

/**
 * Inserts a campaign with every kind of row the read API serves, with shared and missing sort
 * values, tombstones and several currencies; returns what was inserted.
 */
export async function seed(db: Db) {
  await db.insert(patreonUsers).values([
    { id: '900', fullName: 'Ada Creator' },
    ...Array.from({ length: MEMBER_COUNT }, (_, i) => ({
      id: `u${i}`,
      fullName: `User ${i}`,
      email: i % 2 === 0 ? `user${i}@example.com` : null,
    })),
  ]);
  await db.insert(campaigns).values([
    { id: CAMPAIGN, creatorUserId: '900', name: 'Ada makes things', currency: 'EUR' },
    { id: OTHER_CAMPAIGN, name: 'Someone else', currency: 'USD' },
    { id: DELETED_CAMPAIGN, name: 'Gone', deletedAt: new Date('2026-10-01T00:00:00Z') },
  ]);
  await db.insert(tiers).values([
    { id: '701', campaignId: CAMPAIGN, title: 'Supporter', amountCents: 500 },
    { id: '702', campaignId: CAMPAIGN, title: 'Fan', amountCents: 1000, currency: 'EUR' },
    { id: '703', campaignId: CAMPAIGN, title: 'Also fan', amountCents: 1000, currency: 'EUR' },
    { id: '704', campaignId: CAMPAIGN, title: 'Retired', amountCents: 300, deletedAt: new Date() },
    { id: '705', campaignId: CAMPAIGN, title: 'Free', amountCents: null },
    { id: '799', campaignId: OTHER_CAMPAIGN, title: 'Elsewhere', amountCents: 100 },
  ]);
  await db.insert(benefits).values([
    { id: '801', campaignId: CAMPAIGN, title: 'Early access' },
    { id: '802', campaignId: CAMPAIGN, title: 'Discord' },
    { id: '803', campaignId: CAMPAIGN, title: 'Removed', deletedAt: new Date() },
  ]);
  await db.insert(tierBenefits).values([
    { tierId: '701', benefitId: '801' },
    { tierId: '702', benefitId: '801' },
    { tierId: '702', benefitId: '802' },
    { tierId: '704', benefitId: '802' },
    { tierId: '701', benefitId: '803' },
  ]);
  await db.insert(goals).values([
    { id: '601', campaignId: CAMPAIGN, title: '100 patrons', amountCents: 100_000 },
    { id: '602', campaignId: CAMPAIGN, title: 'Old goal', deletedAt: new Date() },
  ]);

  const seeded: SeededMember[] = [];
  for (let i = 0; i < MEMBER_COUNT; i++) {
    const tierIds = [
      ...(i % 3 === 0 ? ['701'] : []),
      ...(i % 4 === 0 ? ['702'] : []),
      ...(i % 10 === 0 ? ['704'] : []),
      ...(i === 7 ? [GHOST_TIER] : []),
    ].sort();
    seeded.push({
      id: memberId(i),
      campaignId: CAMPAIGN,
      userId: i % 13 === 0 ? null : `u${i}`,
      fullName: i % 9 === 0 ? null : `Name ${i % 10}`,
      // Two members share an address in different case; every 7th has none.
      email:
        i === 5
          ? 'shared@example.com'
          : i === 6
            ? 'SHARED@Example.com'
            : i % 7 === 0
              ? null
              : `Patron${i}@Example.com`,
      patronStatus: patronStatusCycle[i % patronStatusCycle.length] ?? null,
      lastChargeStatus: chargeStatusCycle[i % chargeStatusCycle.length] ?? null,
      currency: i % 6 === 0 ? null : 'EUR',
      entitledCents: (i % 4) * 250,
      deleted: i % 10 === 3,
      // Groups of members share a day; inside one, several differ by a microsecond only.
      updatedMicros: (i % 13) * DAY_MICROS + (i % 3),
      pledgeStartMicros: i % 5 === 0 ? null : (i % 8) * DAY_MICROS + (i % 2),
      tierIds,
    });
  }
  seeded.push(
    ...[0, 1, 2].map((k) => ({
      id: `11111111-0000-4000-8000-00000000000${k}`,
      campaignId: OTHER_CAMPAIGN,
      userId: null,
      fullName: `Other ${k}`,
      email: 'shared@example.com',
      patronStatus: 'active_patron' as const,
      lastChargeStatus: 'Paid' as const,
      currency: 'USD',
      entitledCents: 100,
      deleted: false,
      updatedMicros: k,
      pledgeStartMicros: k,
      tierIds: ['799'],
    })),
  );

  await db.insert(members).values(
    seeded.map((m, i) => ({
      id: m.id,
      campaignId: m.campaignId,
      userId: m.userId,
      fullName: m.fullName,
      email: m.email,
      note: i === 1 ? 'Sends fan art' : '',
      patronStatus: m.patronStatus,
      lastChargeStatus: m.lastChargeStatus,
      lastChargeDate: m.lastChargeStatus ? new Date('2026-11-01T08:00:00Z') : null,
      nextChargeDate: m.patronStatus === 'active_patron' ? new Date('2026-12-01T08:00:00Z') : null,
      pledgeCadence: m.patronStatus ? (i % 2 === 0 ? 1 : 12) : null,
      pledgeRelationshipStart:
        m.pledgeStartMicros === null ? null : at(PLEDGE_BASE, m.pledgeStartMicros),
      currency: m.currency,
      currentlyEntitledAmountCents: m.entitledCents,
      willPayAmountCents: m.entitledCents,
      campaignLifetimeSupportCents: m.entitledCents * 10,
      isFreeTrial: m.lastChargeStatus === 'Free Trial',
      isGifted: i === 2,
      isFollower: false,
      address:
        i === 1
          ? {
              addressee: 'Pat Patron',
              line1: '1 Main St',
              line2: null,
              city: 'Springfield',
              state: null,
              postalCode: '12345',
              country: 'US',
              phoneNumber: null,
            }
          : null,
      updatedAt: at(UPDATED_BASE, m.updatedMicros),
      deletedAt: m.deleted ? new Date('2026-11-20T00:00:00Z') : null,
    })),
  );
  await db
    .insert(memberTiers)
    .values(seeded.flatMap((m) => m.tierIds.map((tierId) => ({ memberId: m.id, tierId }))));

  const events: SeededEvent[] = [];
  const currencies = ['USD', 'EUR', 'GBP', 'JPY'];
  const tierCycle = ['701', '702', '704', null];
  const addEvent = (member: number, n: number, dateMicros: number) => {
    events.push({
      id: `${pledgeEventTypes[n % pledgeEventTypes.length]}:${member}-${n}`,
      memberId: memberId(member),
      type: pledgeEventTypes[n % pledgeEventTypes.length] ?? 'pledge_start',
      dateMicros,
      currency: currencies[(member + n) % currencies.length] ?? 'USD',
      tierId: tierCycle[(member + n) % tierCycle.length] ?? null,
    });
  };
  for (let n = 0; n < LONG_HISTORY; n++) addEvent(0, n, n * DAY_MICROS);
  for (let i = 1; i < 30; i++) {
    // Events of different members share dates, some to the microsecond.
    for (let n = 0; n < (i % 3) + 1; n++) addEvent(i, n, ((i + n) % 40) * DAY_MICROS + (i % 2));
  }
  await db.insert(pledgeEvents).values(
    events.map((e, k) => ({
      id: e.id,
      campaignId: CAMPAIGN,
      memberId: e.memberId,
      patronUserId: `u${k % MEMBER_COUNT}`,
      type: e.type,
      date: at(EVENT_BASE, e.dateMicros),
      amountCents: 100 + k,
      currency: e.currency,
      paymentStatus: 'Paid' as const,
      pledgePaymentStatus: 'valid',
      tierId: e.tierId,
      tierTitle: e.tierId ? `Tier ${e.tierId}` : null,
    })),
  );
  await db.insert(pledgeEvents).values({
    id: 'pledge_start:other',
    campaignId: OTHER_CAMPAIGN,
    type: 'pledge_start',
    date: new Date('2025-06-01T00:00:00Z'),
    amountCents: 100,
    currency: 'USD',
  });

  const postSpecs = [
    { id: '401', publishedAt: '2026-01-03T00:00:00Z', deleted: false },
    { id: '402', publishedAt: '2026-01-02T00:00:00Z', deleted: false },
    { id: '403', publishedAt: '2026-01-02T00:00:00Z', deleted: false },
    { id: '404', publishedAt: '2026-01-01T00:00:00Z', deleted: true },
    { id: '405', publishedAt: null, deleted: false },
    { id: '406', publishedAt: null, deleted: false },
    { id: '407', publishedAt: '2025-12-31T00:00:00Z', deleted: false },
  ];
  await db.insert(posts).values([
    ...postSpecs.map((p) => ({
      id: p.id,
      campaignId: CAMPAIGN,
      title: `Post ${p.id}`,
      content: '<p>Hello</p>',
      isPublic: p.id === '401',
      tierIds: ['701'],
      publishedAt: p.publishedAt ? new Date(p.publishedAt) : null,
      deletedAt: p.deleted ? new Date() : null,
    })),
    { id: '499', campaignId: OTHER_CAMPAIGN, title: 'Elsewhere' },
  ]);

  return {
    members: seeded.filter((m) => m.campaignId === CAMPAIGN),
    events,
    posts: postSpecs,
  };
}

/**
 * Follows `nextCursor` to the end with pages of `limit`, checking every page's size, and returns
 * the ids in the order served.
 */
export async function walk(
  t: Test,
  app: FastifyInstance,
  path: string,
  params: Record<string, string>,
  limit: number,
): Promise<Array<Record<string, unknown> & { id: string }>> {
  const items: Array<Record<string, unknown> & { id: string }> = [];
  let cursor: string | null = null;
  for (let pages = 0; pages < 200; pages++) {
    const query = new URLSearchParams({ ...params, limit: String(limit) });
    if (cursor) query.set('cursor', cursor);
    const response = await app.inject({ method: 'GET', url: `${path}?${query}`, headers: auth() });
    if (response.statusCode !== 200) {
      t.fail(`GET ${path}?${query} answered ${response.statusCode}`, { body: response.body });
      return items;
    }
    const page = response.json() as { data: typeof items; nextCursor: string | null };
    if (page.data.length > limit || (page.nextCursor !== null && page.data.length !== limit)) {
      t.fail(`page ${pages} of ${path} has ${page.data.length} items for limit ${limit}`);
    }
    items.push(...page.data);
    cursor = page.nextCursor;
    if (!cursor) return items;
  }
  t.fail(`${path} did not end`);
  return items;
}

export const ids = (items: Array<{ id: string }>) => items.map((item) => item.id);

/** Compares nullable sort values: nulls last whatever the direction, then ids. */
export function byKey<T extends { id: string }>(
  key: (item: T) => number | string | null,
  direction: 'asc' | 'desc',
) {
  const sign = direction === 'asc' ? 1 : -1;
  return (a: T, b: T): number => {
    const ka = key(a);
    const kb = key(b);
    if (ka === null || kb === null) {
      if (ka !== kb) return ka === null ? 1 : -1;
    } else if (ka !== kb) {
      return (ka < kb ? -1 : 1) * sign;
    }
    return (a.id < b.id ? -1 : a.id > b.id ? 1 : 0) * sign;
  };
}
