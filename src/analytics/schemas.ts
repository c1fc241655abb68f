import { z } from 'zod';
import { isoTimeInput } from '../shared/time-input.js';

const amounts = z
  .array(z.object({ currency: z.string().nullable(), cents: z.number().int() }))
  .describe('One entry per currency.');

export const analyticsQuery = z
  .object({
    from: isoTimeInput
      .optional()
      .describe('Start (inclusive); default 12 intervals before `to`, at an interval boundary.'),
    to: isoTimeInput.optional().describe('End (exclusive); default now.'),
    interval: z.enum(['day', 'week', 'month']).default('month'),
  })
  .refine((q) => !q.from || !q.to || new Date(q.from) < new Date(q.to), {
    message: '`from` must be before `to`',
  });

export const periodView = z.object({
  start: z.string(),
  end: z.string(),
  mrr: amounts.describe(
    'Monthly recurring revenue at the end of the period: the monthly pledge of every patron whose pledge was active then (an annual pledge counts its monthly amount, not the yearly charge).',
  ),
  activePatrons: z.number().int().describe('Pledges active at the end of the period.'),
  new: z.number().int().describe('First pledges started in the period.'),
  reactivated: z.number().int().describe('Pledges started again after a deleted one.'),
  churned: z.number().int().describe('Pledges deleted in the period.'),
  upgrades: z.number().int(),
  downgrades: z.number().int(),
  declinedCharges: z.number().int(),
  recoveredCharges: z
    .number()
    .int()
    .describe('Paid charges whose previous charge for that member had been declined.'),
  charged: amounts.describe('Paid charges in the period (an annual charge in full).'),
  tiers: z
    .array(
      z.object({ tierId: z.string().nullable(), activePatrons: z.number().int(), mrr: amounts }),
    )
    .describe('Active pledges and MRR at the end of the period, per tier.'),
});

export const analyticsView = z
  .object({
    campaignId: z.string(),
    interval: z.enum(['day', 'week', 'month']),
    periods: z.array(periodView),
    totals: z.object({
      activePatrons: z.number().int().describe('Members entitled by Patreon’s status now.'),
      lifetimeSupport: amounts.describe('Sum of `campaign_lifetime_support_cents`.'),
    }),
  })
  .meta({ id: 'CampaignAnalytics' });

export type AnalyticsQuery = z.infer<typeof analyticsQuery>;
export type AnalyticsView = z.infer<typeof analyticsView>;
