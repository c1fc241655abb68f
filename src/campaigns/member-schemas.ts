import { z } from 'zod';
import { chargeStatuses, patronStatuses, pledgeEventTypes } from '../db/schema/index.js';
import { pageQuery } from '../shared/pagination.js';
import { memberId, patreonId } from '../shared/schemas.js';
import { isoTimeInput } from '../shared/time-input.js';
import { includeDeleted, money } from './schemas.js';

const patronStatus = z
  .enum(patronStatuses)
  .nullable()
  .describe('null: never pledged (a follower).');
const chargeStatus = z
  .enum(chargeStatuses)
  .describe('Spelled as Patreon spells it; only `Paid` is a successful charge.');

export const postalAddress = z
  .object({
    addressee: z.string().nullable(),
    line1: z.string().nullable(),
    line2: z.string().nullable(),
    city: z.string().nullable(),
    state: z.string().nullable(),
    postalCode: z.string().nullable(),
    country: z.string().nullable(),
    phoneNumber: z.string().nullable(),
  })
  .meta({ id: 'PostalAddress' });

export const memberView = z
  .object({
    id: z.string(),
    campaignId: z.string(),
    patreonUser: z
      .object({
        id: z.string(),
        fullName: z.string().nullable(),
        email: z.string().nullable().describe('Only when an email scope was granted.'),
      })
      .nullable(),
    fullName: z.string().nullable(),
    email: z.string().nullable().describe('Only when `campaigns.members[email]` was granted.'),
    patronStatus,
    lastChargeStatus: chargeStatus.nullable().describe('null: never charged.'),
    lastChargeDate: z.iso.datetime().nullable(),
    nextChargeDate: z.iso.datetime().nullable(),
    pledgeCadence: z.number().int().nullable().describe('Months between charges: 1 or 12.'),
    pledgeRelationshipStart: z.iso.datetime().nullable(),
    currentlyEntitledAmount: money
      .nullable()
      .describe('What the member is entitled by; amounts are in the campaign’s currency.'),
    willPayAmount: money.nullable(),
    campaignLifetimeSupport: money.nullable(),
    isFreeTrial: z.boolean().nullable(),
    isGifted: z.boolean().nullable(),
    isFollower: z.boolean().nullable().describe('Deprecated by Patreon: always false.'),
    entitledTierIds: z.array(z.string()).describe('`currently_entitled_tiers`.'),
    address: postalAddress
      .nullable()
      .describe('Only when `campaigns.members.address` was granted and the member has one.'),
    note: z.string().nullable().describe('The creator’s note.'),
    updatedAt: z.iso.datetime(),
    deletedAt: z.iso.datetime().nullable(),
  })
  .meta({
    id: 'Member',
    example: {
      id: '5e1f0c2a-6f7e-4e0f-9b51-0a4f7b1c2d3e',
      campaignId: '1234560',
      patreonUser: { id: '2000001', fullName: 'Pat Patron', email: null },
      fullName: 'Pat Patron',
      email: 'pat@example.com',
      patronStatus: 'active_patron',
      lastChargeStatus: 'Paid',
      lastChargeDate: '2026-11-01T08:00:00.000Z',
      nextChargeDate: '2026-12-01T08:00:00.000Z',
      pledgeCadence: 1,
      pledgeRelationshipStart: '2025-03-14T12:00:00.000Z',
      currentlyEntitledAmount: { cents: 500, currency: 'USD' },
      willPayAmount: { cents: 500, currency: 'USD' },
      campaignLifetimeSupport: { cents: 10_000, currency: 'USD' },
      isFreeTrial: false,
      isGifted: false,
      isFollower: false,
      entitledTierIds: ['9000001'],
      address: null,
      note: '',
      updatedAt: '2026-11-26T10:00:00.000Z',
      deletedAt: null,
    },
  });

export type MemberView = z.infer<typeof memberView>;

export const pledgeEventView = z
  .object({
    id: z.string(),
    campaignId: z.string(),
    memberId: z.string().nullable(),
    patronUserId: z.string().nullable(),
    type: z.enum(pledgeEventTypes).nullable(),
    date: z.iso.datetime(),
    amount: money.nullable().describe('In the currency the patron paid in.'),
    paymentStatus: chargeStatus.nullable(),
    pledgePaymentStatus: z
      .string()
      .nullable()
      .describe('`queued`, `pending`, `valid`, `declined`, `fraud` or `disabled`.'),
    tierId: z.string().nullable(),
    tierTitle: z.string().nullable(),
  })
  .meta({
    id: 'PledgeEvent',
    example: {
      id: 'pledge-start-5e1f0c2a',
      campaignId: '1234560',
      memberId: '5e1f0c2a-6f7e-4e0f-9b51-0a4f7b1c2d3e',
      patronUserId: '2000001',
      type: 'pledge_start',
      date: '2025-03-14T12:00:00.000Z',
      amount: { cents: 450, currency: 'EUR' },
      paymentStatus: 'Paid',
      pledgePaymentStatus: 'valid',
      tierId: '9000001',
      tierTitle: 'Supporter',
    },
  });

export type PledgeEventView = z.infer<typeof pledgeEventView>;

export const MEMBER_HISTORY_LIMIT = 100;

export const memberDetail = memberView
  .omit({ entitledTierIds: true })
  .extend({
    entitledTiers: z.array(
      z.object({
        id: z.string(),
        title: z.string().nullable().describe('null when the tier has not been synced.'),
        amount: money.nullable(),
      }),
    ),
    pledgeHistory: z
      .array(pledgeEventView)
      .describe(
        `Newest first, at most ${MEMBER_HISTORY_LIMIT}; page through all of it with \`GET /v1/campaigns/{id}/pledge-events?memberId=\`.`,
      ),
    pledgeHistoryTruncated: z.boolean().describe('Whether older pledge events were left out.'),
  })
  .meta({ id: 'MemberDetail' });

export type MemberDetail = z.infer<typeof memberDetail>;

export const memberSorts = [
  'updatedAt',
  '-updatedAt',
  'pledgeRelationshipStart',
  '-pledgeRelationshipStart',
  'fullName',
] as const;
export type MemberSort = (typeof memberSorts)[number];

export const listMembersQuery = pageQuery.extend({
  patronStatus: z
    .enum([...patronStatuses, 'follower'])
    .optional()
    .describe('`follower`: members who never pledged (no patron status).'),
  tierId: patreonId.optional().describe('Members currently entitled to this tier.'),
  lastChargeStatus: chargeStatus.optional(),
  email: z.string().min(1).max(320).optional().describe('Exact address, case-insensitive.'),
  updatedSince: isoTimeInput
    .optional()
    .describe('Only members whose row changed at or after this time.'),
  includeDeleted,
  sort: z
    .enum(memberSorts)
    .default('-updatedAt')
    .describe('`-` sorts descending. Members without the sort value come last either way.'),
});

export type ListMembersQuery = z.infer<typeof listMembersQuery>;

export const memberParams = z.object({ id: memberId.describe('Member id (a UUID).') });

export const listPledgeEventsQuery = pageQuery.extend({
  type: z.enum(pledgeEventTypes).optional(),
  from: isoTimeInput.optional().describe('Events at or after this time.'),
  to: isoTimeInput.optional().describe('Events before this time.'),
  tierId: patreonId.optional(),
  memberId: memberId.optional(),
});

export type ListPledgeEventsQuery = z.infer<typeof listPledgeEventsQuery>;
