import { inArray } from 'drizzle-orm';
import type { DbOrTx } from '../db/database.js';
import { members, memberTiers } from '../db/schema/index.js';
import type { PatronStatus } from '../db/schema/members.js';
import type { MembershipState } from './member-changes.js';

type MemberRow = typeof members.$inferInsert;

/** The stored state of these memberships (two statements for the lot), before a change. */
export async function readMembershipStates(
  db: DbOrTx,
  ids: string[],
): Promise<Map<string, MembershipState>> {
  const states = new Map<string, MembershipState>();
  if (ids.length === 0) return states;
  const rows = await db.select().from(members).where(inArray(members.id, ids));
  if (rows.length === 0) return states;
  const links = await db
    .select()
    .from(memberTiers)
    .where(
      inArray(
        memberTiers.memberId,
        rows.map((row) => row.id),
      ),
    );
  const tiersOf = new Map<string, string[]>();
  for (const link of links) {
    tiersOf.set(link.memberId, [...(tiersOf.get(link.memberId) ?? []), link.tierId]);
  }
  for (const row of rows) {
    states.set(row.id, {
      id: row.id,
      campaignId: row.campaignId,
      userId: row.userId,
      patronStatus: row.patronStatus,
      lastChargeStatus: row.lastChargeStatus,
      lastChargeDate: row.lastChargeDate,
      nextChargeDate: row.nextChargeDate,
      pledgeCadence: row.pledgeCadence,
      currentlyEntitledAmountCents: row.currentlyEntitledAmountCents,
      currency: row.currency,
      tierIds: tiersOf.get(row.id) ?? [],
      deleted: row.deletedAt !== null,
    });
  }
  return states;
}

/** The membership after `row` is written over `before` (columns the row lacks stay as they were). */
export function advanceMembership(
  before: MembershipState | undefined,
  row: MemberRow,
  tierIds: string[] | undefined,
): MembershipState {
  const pick = <K extends keyof MemberRow & keyof MembershipState>(key: K, fallback: unknown) =>
    (row[key] !== undefined ? row[key] : (before?.[key] ?? fallback)) as MembershipState[K];
  return {
    id: row.id,
    campaignId: row.campaignId,
    userId: pick('userId', null),
    patronStatus: pick('patronStatus', null) as PatronStatus | null,
    lastChargeStatus: pick('lastChargeStatus', null),
    lastChargeDate: pick('lastChargeDate', null),
    nextChargeDate: pick('nextChargeDate', null),
    pledgeCadence: pick('pledgeCadence', null),
    currentlyEntitledAmountCents: pick('currentlyEntitledAmountCents', null),
    currency: pick('currency', null),
    tierIds: tierIds ?? before?.tierIds ?? [],
    deleted: row.deletedAt === undefined ? (before?.deleted ?? false) : row.deletedAt !== null,
  };
}
