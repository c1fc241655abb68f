import type { PatronStatus } from '../db/schema/members.js';
import type { EventRecord, EventType } from '../events/record-event.js';

/** The part of a membership its semantic changes are read from. */
export type MembershipState = {
  id: string;
  campaignId: string;
  userId: string | null;
  patronStatus: PatronStatus | null;
  lastChargeStatus: string | null;
  lastChargeDate: Date | null;
  nextChargeDate: Date | null;
  pledgeCadence: number | null;
  currentlyEntitledAmountCents: number | null;
  currency: string | null;
  tierIds: string[];
  deleted: boolean;
};

export type MemberChange =
  | 'member_created'
  | 'member_updated'
  | 'member_deleted'
  | 'new_patron'
  | 'reactivated'
  | 'upgrade'
  | 'downgrade'
  | 'tier_changed'
  | 'cancelled'
  | 'charge_declined'
  | 'charge_recovered';

const isActive = (state: MembershipState | undefined) =>
  state !== undefined && !state.deleted && state.patronStatus === 'active_patron';

const sameSet = (a: string[], b: string[]) =>
  a.length === b.length && [...a].sort().join() === [...b].sort().join();

const comparable = (state: MembershipState) =>
  JSON.stringify([
    state.patronStatus,
    state.lastChargeStatus,
    state.lastChargeDate?.getTime() ?? null,
    state.nextChargeDate?.getTime() ?? null,
    state.pledgeCadence,
    state.currentlyEntitledAmountCents,
    [...state.tierIds].sort(),
    state.deleted,
  ]);

/**
 * What happened to a membership between two states, in the words a host cares about: a new
 * patron, an upgrade, a cancellation, a declined charge… `after` undefined means it was deleted.
 * Pure: the same two states always give the same changes, whoever observed them (a webhook or a
 * reconcile pass).
 */
export function memberChanges(
  before: MembershipState | undefined,
  after: MembershipState,
): MemberChange[] {
  const changes: MemberChange[] = [];
  const existed = before !== undefined && !before.deleted;
  if (after.deleted) {
    if (existed) changes.push('member_deleted');
    if (isActive(before)) changes.push('cancelled');
    return changes;
  }
  if (!existed) changes.push('member_created');

  const wasDeclined = before?.lastChargeStatus === 'Declined';
  if (!wasDeclined && after.lastChargeStatus === 'Declined') changes.push('charge_declined');
  if (wasDeclined && after.lastChargeStatus === 'Paid') changes.push('charge_recovered');

  if (!isActive(before) && isActive(after)) {
    if (before?.patronStatus === 'former_patron') changes.push('reactivated');
    else if (before?.patronStatus !== 'declined_patron') changes.push('new_patron');
  } else if (isActive(before) && after.patronStatus === 'former_patron') {
    changes.push('cancelled');
  } else if (isActive(before) && isActive(after) && before) {
    const was = before.currentlyEntitledAmountCents ?? 0;
    const now = after.currentlyEntitledAmountCents ?? 0;
    if (now > was) changes.push('upgrade');
    else if (now < was) changes.push('downgrade');
    else if (!sameSet(before.tierIds, after.tierIds)) changes.push('tier_changed');
  }
  if (existed && before && changes.length === 0 && comparable(before) !== comparable(after)) {
    changes.push('member_updated');
  }
  return changes;
}

/**
 * The host-facing events each change stands for. `entitlement.*` are not among them: those come
 * from the answers themselves (src/members/entitlement-review.ts), never from status transitions.
 */
const eventsOf: Record<MemberChange, EventType[]> = {
  member_created: ['member.created'],
  member_updated: ['member.updated'],
  member_deleted: ['member.deleted'],
  new_patron: ['pledge.created'],
  reactivated: ['pledge.created'],
  upgrade: ['pledge.updated'],
  downgrade: ['pledge.updated'],
  tier_changed: ['pledge.updated'],
  cancelled: ['pledge.deleted'],
  charge_declined: ['payment.declined'],
  charge_recovered: ['payment.recovered'],
};

export const memberView = (state: MembershipState) => ({
  id: state.id,
  campaignId: state.campaignId,
  patreonUserId: state.userId,
  patronStatus: state.patronStatus,
  lastChargeStatus: state.lastChargeStatus,
  lastChargeDate: state.lastChargeDate?.toISOString() ?? null,
  nextChargeDate: state.nextChargeDate?.toISOString() ?? null,
  pledgeCadence: state.pledgeCadence,
  currentlyEntitledAmountCents: state.currentlyEntitledAmountCents,
  currency: state.currency,
  tierIds: [...state.tierIds].sort(),
  deleted: state.deleted,
});

/**
 * The host events for `changes`, to record in the caller's transaction. `cause` names what was
 * observed (e.g. `webhook:123`), so recording the same cause again adds nothing.
 */
export function memberChangeEvents(input: {
  cause: string;
  connectionId?: string;
  before: MembershipState | undefined;
  after: MembershipState;
  changes: MemberChange[];
}): EventRecord[] {
  const member = memberView(input.after);
  const previous = input.before ? memberView(input.before) : null;
  const records: EventRecord[] = [];
  const seen = new Set<EventType>();
  for (const change of input.changes) {
    for (const type of eventsOf[change]) {
      if (seen.has(type)) continue;
      seen.add(type);
      records.push({
        type,
        dedupeKey: `${type}:${input.cause}:${input.after.id}`,
        connectionId: input.connectionId,
        campaignId: input.after.campaignId,
        payload: { member, previous, change },
      });
    }
  }
  return records;
}
