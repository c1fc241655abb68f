import type { DbOrTx } from '../db/database.js';
import { entitlementAnswer, entitlementKey, notEntitled, sameKey } from '../entitlements/answer.js';
import type { Policy } from '../entitlements/policy.js';
import { lookupMembershipsIn } from '../entitlements/repository.js';
import type { EntitlementView } from '../entitlements/schemas.js';
import type { EventRecord } from '../events/record-event.js';
import { recordEvents } from '../events/record-event.js';
import type { Clock } from '../shared/clock.js';
import {
  type AnnouncedState,
  dueTargets,
  keyOf,
  lockStates,
  type StateUpdate,
  type Target,
  targetsOfCampaign,
  targetsOfExternalUser,
  targetsOfMembers,
  writeStates,
} from './repository.js';

export type EntitlementChange =
  | 'entitlement.granted'
  | 'entitlement.changed'
  | 'entitlement.revoked';

/**
 * The event that tells the host its user's answer moved from `before` (what it was last told) to
 * `after` (the answer now), or undefined when nothing it folds changed: entitlement, status,
 * tiers (in order) or `until`. A reason or `asOf` that moves alone is not news.
 */
export function entitlementChange(
  before: Pick<AnnouncedState, 'entitled' | 'status' | 'tierIds' | 'until'>,
  after: EntitlementView,
): EntitlementChange | undefined {
  if (sameKey(before, entitlementKey(after))) return undefined;
  if (!before.entitled && !after.entitled) return undefined;
  if (!before.entitled) return 'entitlement.granted';
  return after.entitled ? 'entitlement.changed' : 'entitlement.revoked';
}

/** When the clock alone will change this answer (its `until`), if it will. */
const dueAt = (answer: EntitlementView) => answer.until;

/**
 * The second half of the member pipeline: after members, their tiers or charges, a campaign's
 * tiers or a host user's connections were written (in the caller's transaction), decide each
 * affected host user's answer with the function `GET /v1/entitlements` answers with, compare it
 * with what the host was last told, and record `entitlement.granted|changed|revoked` for what
 * differs, in the same transaction. So every event is an answer the API gave, and what the host
 * folds from the events is what the API answers (between a `until` passing and the clock review
 * announcing it: at most one poll).
 */
export function createEntitlementReview(deps: { policy: Policy; clock: Clock }) {
  async function review(db: DbOrTx, targets: Target[], cause: string): Promise<number> {
    if (targets.length === 0) return 0;
    const unique = new Map(targets.map((target) => [keyOf(target), target]));
    const sorted = [...unique.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([, target]) => target);
    const states = await lockStates(db, sorted);
    const found = await lookupMembershipsIn(db, sorted);
    const now = deps.clock();
    const updates: StateUpdate[] = [];
    const events: EventRecord[] = [];
    for (const [index, target] of sorted.entries()) {
      const lookup = found[index];
      const state = states.get(keyOf(target));
      if (!lookup || !state) continue;
      // A campaign not (or no longer) synced here: the API answers 404, the host is told of
      // access that ends.
      const answer =
        lookup.kind === 'no_campaign'
          ? notEntitled(target, 'not_a_member')
          : entitlementAnswer(
              lookup,
              target.externalUserId,
              target.campaignId,
              deps.policy,
              now,
              false,
            );
      const change = entitlementChange(state, answer);
      const key = entitlementKey(answer);
      const moved = !sameKey(state, key);
      updates.push({
        ...target,
        dueAt: dueAt(answer),
        ...(moved ? { announced: { ...key, answer } } : {}),
      });
      if (!change) continue;
      events.push({
        type: change,
        // One event per announced version: recording the same change twice adds nothing.
        dedupeKey: `${change}:${target.externalUserId}:${target.campaignId}:${state.version + 1}`,
        externalUserId: target.externalUserId,
        campaignId: target.campaignId,
        resourceKey: `entitlement:${target.campaignId}:${target.externalUserId}`,
        occurredAt: now,
        payload: { entitlement: answer, previous: state.answer, cause },
      });
    }
    await writeStates(db, updates, now);
    await recordEvents(db, events);
    return events.length;
  }

  return {
    /** After member rows (with their tiers and charges) were written. */
    async members(db: DbOrTx, memberIds: string[], cause: string) {
      return review(db, await targetsOfMembers(db, memberIds), cause);
    },
    /** After a campaign's tiers or benefits changed (a deleted tier changes answers). */
    async campaign(db: DbOrTx, campaignId: string, cause: string) {
      return review(db, await targetsOfCampaign(db, campaignId), cause);
    },
    /** After a host user's connections changed (connected, disconnected, purged). */
    async externalUser(db: DbOrTx, externalUserId: string, cause: string) {
      return review(db, await targetsOfExternalUser(db, externalUserId), cause);
    },
    /**
     * One step of the clock review: up to `limit` answers whose `until` has passed, decided again
     * and announced. Rows another instance holds are skipped; the version in each event's key
     * makes a repeat (after a crash between commit and acknowledgement) a no-op.
     */
    async due(db: DbOrTx, limit: number) {
      const targets = await dueTargets(db, deps.clock(), limit);
      await review(db, targets, 'clock');
      return targets.length;
    },
  };
}

export type EntitlementReview = ReturnType<typeof createEntitlementReview>;
