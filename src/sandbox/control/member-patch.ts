import { z } from 'zod';
import { apiErrors } from '../world/errors.js';
import type { MemberRecord, TierRecord } from '../world/model.js';
import { CHARGE_STATUSES, PATRON_STATUSES } from '../world/model.js';
import { iso } from '../world/time.js';

const isoTime = z.iso.datetime({ offset: true });
const cents = z.int().min(0);

/** `PATCH /_control/members/:id`: sets a member's state as a test needs it (README.md). */
export const memberPatchBody = z.strictObject({
  patronStatus: z.enum(PATRON_STATUSES).nullable().optional(),
  lastChargeStatus: z.enum(CHARGE_STATUSES).nullable().optional(),
  lastChargeDate: isoTime.nullable().optional(),
  nextChargeDate: isoTime.nullable().optional(),
  pledgeCadence: z.int().min(1).nullable().optional(),
  isGifted: z.boolean().optional(),
  isFreeTrial: z.boolean().optional(),
  tierIds: z.array(z.string()).optional(),
  currentlyEntitledAmountCents: cents.optional(),
  willPayAmountCents: cents.optional(),
  campaignLifetimeSupportCents: cents.optional(),
  chargeTierId: z.string().optional(),
  notify: z.boolean().default(true),
});

export type MemberPatch = z.infer<typeof memberPatchBody>;

function campaignTier(
  tiers: ReadonlyMap<string, TierRecord>,
  campaignId: string,
  id: string,
  field: string,
  published: boolean,
): TierRecord {
  const tier = tiers.get(id);
  if (tier?.campaignId === campaignId && (!published || !tier.deleted)) return tier;
  const kind = published ? 'a published tier' : 'a tier';
  throw apiErrors.badRequest(`Tier ${id} is not ${kind} of campaign ${campaignId}.`, field);
}

/**
 * Writes `patch` over `member` (a copy the caller saves). Given `tierIds` (published tiers of
 * the member's campaign), `currently_entitled_amount_cents` follows the highest of them and
 * `will_pay_amount_cents` that times the cadence, unless the patch sets them. Returns the tier
 * of `chargeTierId` (deleted tiers too), whose charge the caller records in pledge history.
 */
export function applyMemberPatch(
  member: MemberRecord,
  patch: MemberPatch,
  tiers: ReadonlyMap<string, TierRecord>,
  nowMs: number,
): TierRecord | undefined {
  const a = member.attributes;
  const time = (value: string | null) => (value === null ? null : iso(Date.parse(value)));
  if (patch.patronStatus !== undefined) a.patron_status = patch.patronStatus;
  if (a.patron_status !== null) a.pledge_relationship_start ??= iso(nowMs);
  if (patch.lastChargeStatus !== undefined) a.last_charge_status = patch.lastChargeStatus;
  if (patch.lastChargeDate !== undefined) a.last_charge_date = time(patch.lastChargeDate);
  if (patch.nextChargeDate !== undefined) a.next_charge_date = time(patch.nextChargeDate);
  if (patch.pledgeCadence !== undefined) a.pledge_cadence = patch.pledgeCadence;
  if (patch.isGifted !== undefined) a.is_gifted = patch.isGifted;
  if (patch.isFreeTrial !== undefined) a.is_free_trial = patch.isFreeTrial;
  if (patch.tierIds !== undefined) {
    const entitled = [...new Set(patch.tierIds)].map((id) =>
      campaignTier(tiers, member.campaignId, id, 'tierIds', true),
    );
    member.tierIds = entitled.map((t) => t.id);
    const amount = Math.max(0, ...entitled.map((t) => t.attributes.amount_cents));
    a.currently_entitled_amount_cents = amount;
    a.will_pay_amount_cents = amount * (a.pledge_cadence ?? 1);
  }
  if (patch.currentlyEntitledAmountCents !== undefined)
    a.currently_entitled_amount_cents = patch.currentlyEntitledAmountCents;
  if (patch.willPayAmountCents !== undefined) a.will_pay_amount_cents = patch.willPayAmountCents;
  if (patch.campaignLifetimeSupportCents !== undefined) {
    a.campaign_lifetime_support_cents = patch.campaignLifetimeSupportCents;
    a.lifetime_support_cents = patch.campaignLifetimeSupportCents;
  }
  if (patch.chargeTierId === undefined) return undefined;
  if (a.last_charge_status === null || a.last_charge_date === null)
    throw apiErrors.badRequest(
      'chargeTierId records the last charge: the member needs a last_charge_status and a last_charge_date.',
      'chargeTierId',
    );
  return campaignTier(tiers, member.campaignId, patch.chargeTierId, 'chargeTierId', false);
}
