import type { CsvColumn } from '../http/csv.js';
import type { MemberView, PledgeEventView } from './member-schemas.js';

/** The members export: one flat row per member, amounts in cents with their currency. */
export const memberCsvColumns: CsvColumn<MemberView>[] = [
  ['id', (m) => m.id],
  ['patreon_user_id', (m) => m.patreonUser?.id],
  ['full_name', (m) => m.fullName],
  ['email', (m) => m.email],
  ['patron_status', (m) => m.patronStatus],
  ['last_charge_status', (m) => m.lastChargeStatus],
  ['last_charge_date', (m) => m.lastChargeDate],
  ['next_charge_date', (m) => m.nextChargeDate],
  ['pledge_cadence', (m) => m.pledgeCadence],
  ['pledge_relationship_start', (m) => m.pledgeRelationshipStart],
  ['currently_entitled_amount_cents', (m) => m.currentlyEntitledAmount?.cents],
  ['will_pay_amount_cents', (m) => m.willPayAmount?.cents],
  ['campaign_lifetime_support_cents', (m) => m.campaignLifetimeSupport?.cents],
  ['currency', (m) => m.currentlyEntitledAmount?.currency ?? m.willPayAmount?.currency],
  ['is_free_trial', (m) => m.isFreeTrial],
  ['is_gifted', (m) => m.isGifted],
  ['entitled_tier_ids', (m) => m.entitledTierIds],
  ['note', (m) => m.note],
  ['updated_at', (m) => m.updatedAt],
  ['deleted_at', (m) => m.deletedAt],
];

export const pledgeEventCsvColumns: CsvColumn<PledgeEventView>[] = [
  ['id', (e) => e.id],
  ['member_id', (e) => e.memberId],
  ['patron_user_id', (e) => e.patronUserId],
  ['type', (e) => e.type],
  ['date', (e) => e.date],
  ['amount_cents', (e) => e.amount?.cents],
  ['currency', (e) => e.amount?.currency],
  ['payment_status', (e) => e.paymentStatus],
  ['pledge_payment_status', (e) => e.pledgePaymentStatus],
  ['tier_id', (e) => e.tierId],
  ['tier_title', (e) => e.tierTitle],
];
