import { sql } from 'drizzle-orm';
import { boolean, index, integer, jsonb, pgTable, primaryKey, text } from 'drizzle-orm/pg-core';
import { timestamptz } from './columns.js';

/**
 * What the host was last told about one host user's entitlement in one campaign: the answer of
 * `GET /v1/entitlements` as of the last `entitlement.*` event (src/members/entitlement-review.ts).
 * A change is announced when a fresh answer differs from this row, so every answer the host is
 * told of is one the API gave. `due_at` is when the clock alone will change the answer (a grace
 * period or a paid period ending): the schedule of time-driven changes, shared by all instances.
 */
export const entitlementStates = pgTable(
  'entitlement_states',
  {
    externalUserId: text('external_user_id').notNull(),
    campaignId: text('campaign_id').notNull(),
    entitled: boolean('entitled').notNull().default(false),
    status: text('status').$type<'active' | 'grace' | 'inactive'>().notNull().default('inactive'),
    tierIds: text('tier_ids').array().notNull().default(sql`'{}'::text[]`),
    until: timestamptz('until'),
    /** The whole answer last announced (what `previous` carries in the next event). */
    answer: jsonb('answer').$type<Record<string, unknown>>(),
    /** Bumped with every announced change; the event's dedupe key, so each is recorded once. */
    version: integer('version').notNull().default(0),
    dueAt: timestamptz('due_at'),
    reviewedAt: timestamptz('reviewed_at'),
  },
  (t) => [
    primaryKey({ columns: [t.externalUserId, t.campaignId] }),
    index('entitlement_states_due_at_idx').on(t.dueAt).where(sql`${t.dueAt} is not null`),
    index('entitlement_states_campaign_id_idx').on(t.campaignId),
  ],
);
