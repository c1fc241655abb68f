import { z } from 'zod';
import { MAX_CENTS, patreonId } from '../shared/schemas.js';

const externalUserId = z
  .string()
  .trim()
  .min(1)
  .max(200)
  .describe('Your own id for the user, as given when they connected Patreon.');

export const entitlementQuery = z.object({
  externalUserId,
  campaignId: patreonId.describe('The campaign to judge; memberships of others never count.'),
  explain: z
    .enum(['true', 'false'])
    .default('false')
    .transform((value) => value === 'true')
    .describe('`true` adds the rule trace that decided.'),
});

const tier = z.object({
  id: z.string(),
  title: z.string().nullable(),
  amountCents: z.number().int().nullable(),
  deleted: z.boolean().describe('Deleted at Patreon (honoured through pledge history).'),
  via: z.enum(['entitled_tiers', 'pledge_history']),
});

export const reasons = [
  'paid',
  'charge_pending',
  'entitled_tiers_listed',
  'free_trial',
  'gifted',
  'declined_in_grace',
  'declined_grace_over',
  'declined',
  'charge_not_settled',
  'former_patron',
  'follower',
  'not_a_member',
  'no_patreon_connection',
  'unknown_status',
] as const;

export const entitlementView = z
  .object({
    externalUserId: z.string(),
    campaignId: z.string(),
    entitled: z.boolean(),
    status: z
      .enum(['active', 'grace', 'inactive'])
      .describe('`grace`: a declined charge within the grace period.'),
    reason: z.enum(reasons).describe('The rule that decided (see the policy in the description).'),
    since: z.string().nullable().describe('When the current state began.'),
    until: z
      .string()
      .nullable()
      .describe('End of a grace period, or of the period a deleted tier was paid for.'),
    tiers: z.array(tier).describe('Entitled tiers, highest first (the first one wins).'),
    benefits: z.array(
      z.object({ id: z.string(), title: z.string().nullable(), tierIds: z.array(z.string()) }),
    ),
    amount: z
      .object({
        cents: z.number().int().describe('`currently_entitled_amount_cents`.'),
        currency: z.string().nullable(),
        monthlyEquivalentCents: z
          .number()
          .int()
          .describe('Per month: an annual pledge’s charge divided by 12.'),
      })
      .nullable(),
    source: z
      .enum(['creator_sync', 'patron_connection'])
      .nullable()
      .describe(
        'Where the membership came from: the creator’s synced member list (matched by the Patreon user id of the user’s own connection), or that connection’s own memberships.',
      ),
    asOf: z
      .string()
      .nullable()
      .describe(
        'When Patreon last confirmed the membership this answer is decided from: the creator’s last sync page or delivery of it, or the patron’s own membership refresh.',
      ),
    member: z
      .object({
        id: z.string(),
        patreonUserId: z.string().nullable(),
        patronStatus: z.string().nullable(),
        lastChargeStatus: z.string().nullable(),
        lastChargeDate: z.string().nullable(),
        pledgeCadence: z.number().int().nullable(),
      })
      .nullable(),
    explanation: z.array(z.string()).optional().describe('With `explain=true`: the rule trace.'),
  })
  .meta({ id: 'Entitlement' });

export const checkBody = z
  .object({
    externalUserId,
    campaignId: patreonId,
    tierId: patreonId.optional().describe('Entitled to this tier or a higher one.'),
    minAmountCents: z
      .number()
      .int()
      .min(0)
      .max(MAX_CENTS)
      .optional()
      .describe('Entitled with at least this monthly-equivalent amount.'),
    benefitId: patreonId.optional().describe('Entitled to a tier that grants this benefit.'),
  })
  .refine(
    (body) =>
      [body.tierId, body.minAmountCents, body.benefitId].filter((v) => v !== undefined).length <= 1,
    { message: 'give at most one of tierId, minAmountCents, benefitId' },
  );

export const checkResult = z.object({
  entitled: z.boolean(),
  reason: z
    .string()
    .describe(
      'The policy reason (as in GET /v1/entitlements), or `tier_not_entitled`, `amount_below_minimum`, `benefit_not_entitled`, `tier_entitled`, `higher_tier_entitled`, `amount_sufficient`, `benefit_entitled`.',
    ),
});

export type EntitlementView = z.infer<typeof entitlementView>;
export type CheckBody = z.infer<typeof checkBody>;
