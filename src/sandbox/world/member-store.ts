import type { Slot } from './member-generator.js';
import {
  decodeMemberUuid,
  generatedMemberCount,
  generateMember,
  generateUser,
  hasMembership,
  isEntitledMember,
  memberTierId,
  memberUuid,
  patronUserIndex,
  SLOT_CAMPAIGNS,
  userIndexAt,
} from './member-generator.js';
import type { MemberRecord, TierRecord, UserRecord } from './model.js';
import type { Catalog } from './seed-data.js';

export interface MemberPage {
  members: MemberRecord[];
  /** Position to continue from, or null when this page reaches the end. */
  next: number | null;
  /** Position just after the last one scanned. */
  reached: number;
  total: number;
}

function slotOf(campaignId: string): Slot | null {
  const slot = SLOT_CAMPAIGNS.indexOf(campaignId as (typeof SLOT_CAMPAIGNS)[number]);
  return slot === -1 ? null : (slot as Slot);
}

/**
 * The member population: generated members are derived on demand from
 * (seed, index); only mutations (overrides, deletions) and added members are stored.
 */
export function createMemberStore(
  seed: number,
  members: number,
  anchorMs: number,
  catalog: Catalog,
) {
  const tiers: ReadonlyMap<string, TierRecord> = catalog.tiers;
  const overrides = new Map<string, MemberRecord | null>();
  const added = new Map<string, MemberRecord>();
  const addedOrder = new Map<string, string[]>(SLOT_CAMPAIGNS.map((id) => [id, []]));
  const addedUsers = new Map<string, UserRecord>();
  const activeByCampaign = new Map<string, number>();
  const activeByTier = new Map<string, number>();
  const removedByCampaign = new Map<string, number>();
  let nextAddedUser = 6_000_000;

  for (const slot of [0, 1] as const) {
    const count = generatedMemberCount(slot, members);
    let active = 0;
    for (let position = 0; position < count; position++) {
      const index = userIndexAt(slot, position);
      if (!isEntitledMember(slot, index)) continue;
      active++;
      const tierId = memberTierId(slot, index);
      activeByTier.set(tierId, (activeByTier.get(tierId) ?? 0) + 1);
    }
    activeByCampaign.set(SLOT_CAMPAIGNS[slot], active);
  }

  function count(member: MemberRecord | null | undefined, sign: 1 | -1): void {
    if (member?.attributes.patron_status !== 'active_patron') return;
    activeByCampaign.set(member.campaignId, (activeByCampaign.get(member.campaignId) ?? 0) + sign);
    for (const tierId of member.tierIds)
      activeByTier.set(tierId, (activeByTier.get(tierId) ?? 0) + sign);
  }

  function user(id: string): UserRecord | undefined {
    const known = catalog.users.get(id) ?? addedUsers.get(id);
    if (known) return known;
    const index = patronUserIndex(id);
    return index !== null && index < members ? generateUser(seed, index, anchorMs) : undefined;
  }

  function generated(slot: Slot, index: number): MemberRecord | undefined {
    if (!hasMembership(slot, index, members)) return undefined;
    const id = memberUuid(seed, slot, index);
    const override = overrides.get(id);
    if (override !== undefined) return override ?? undefined;
    return generateMember(
      seed,
      slot,
      index,
      anchorMs,
      tiers,
      generateUser(seed, index, anchorMs),
      id,
    );
  }

  function member(id: string): MemberRecord | undefined {
    const fromAdded = added.get(id);
    if (fromAdded) return fromAdded;
    const decoded = decodeMemberUuid(seed, id);
    return decoded ? generated(decoded.slot, decoded.index) : undefined;
  }

  function total(campaignId: string): number {
    const slot = slotOf(campaignId);
    if (slot === null) return 0;
    const removed = removedByCampaign.get(campaignId) ?? 0;
    return (
      generatedMemberCount(slot, members) + (addedOrder.get(campaignId)?.length ?? 0) - removed
    );
  }

  function page(campaignId: string, from: number, limit: number): MemberPage {
    const slot = slotOf(campaignId);
    if (slot === null) return { members: [], next: null, reached: from, total: 0 };
    const generatedCount = generatedMemberCount(slot, members);
    const order = addedOrder.get(campaignId) ?? [];
    const end = generatedCount + order.length;
    const out: MemberRecord[] = [];
    let position = from;
    for (; position < end && out.length < limit; position++) {
      const record =
        position < generatedCount
          ? generated(slot, userIndexAt(slot, position))
          : added.get(order[position - generatedCount] as string);
      if (record) out.push(record);
    }
    return {
      members: out,
      next: position < end ? position : null,
      reached: position,
      total: total(campaignId),
    };
  }

  function membershipsOf(userId: string): MemberRecord[] {
    const out: MemberRecord[] = [];
    const index = patronUserIndex(userId);
    if (index !== null) {
      for (const slot of [0, 1] as const) {
        const record = generated(slot, index);
        if (record) out.push(record);
      }
    }
    for (const record of added.values()) if (record.userId === userId) out.push(record);
    return out;
  }

  function save(record: MemberRecord): void {
    count(member(record.id), -1);
    if (added.has(record.id)) added.set(record.id, record);
    else overrides.set(record.id, record);
    count(record, 1);
  }

  /** Removed members keep their position (cursors stay valid) and are skipped when paging. */
  function remove(id: string): void {
    const record = member(id);
    if (!record) return;
    count(record, -1);
    removedByCampaign.set(record.campaignId, (removedByCampaign.get(record.campaignId) ?? 0) + 1);
    if (added.has(id)) added.delete(id);
    else overrides.set(id, null);
  }

  function add(record: MemberRecord, newUser?: UserRecord): void {
    if (newUser) addedUsers.set(newUser.id, newUser);
    added.set(record.id, record);
    addedOrder.get(record.campaignId)?.push(record.id);
    count(record, 1);
  }

  return {
    user,
    member,
    total,
    page,
    membershipsOf,
    save,
    remove,
    add,
    newUserId: () => String(nextAddedUser++),
    activePatrons: (campaignId: string) => activeByCampaign.get(campaignId) ?? 0,
    tierPatrons: (tierId: string) => activeByTier.get(tierId) ?? 0,
    /** The first patron users, offered on the consent page. */
    sampleUsers: (limit: number): UserRecord[] =>
      Array.from({ length: Math.min(limit, members) }, (_, i) => generateUser(seed, i, anchorMs)),
  };
}

export type MemberStore = ReturnType<typeof createMemberStore>;
