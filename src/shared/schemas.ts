import { z } from 'zod';
import { MEMBER_ID, NUMERIC_ID } from './ids.js';

/** Schemas every domain's API shares. */

/**
 * The ids Patreon issues (shared/ids.ts): numeric strings of up to 19 digits for campaigns,
 * tiers, benefits and users, UUIDs for members.
 */
export const patreonId = z
  .string()
  .regex(NUMERIC_ID, 'must be a Patreon id: a numeric string of up to 19 digits')
  .describe('Patreon’s id.');

export const memberId = z
  .string()
  .regex(MEMBER_ID, 'must be a Patreon member id: a UUID')
  .describe('Patreon’s member id (a UUID).');

/** Amounts are `integer` (int4) cents in the database. */
export const MAX_CENTS = 2_147_483_647;

/** `/campaigns/{id}/…` */
export const campaignParams = z.object({ id: patreonId.describe('Campaign id.') });
