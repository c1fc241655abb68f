import type { DbOrTx } from '../db/database.js';
import { replaceLinks } from '../db/links.js';
import { memberTiers } from '../db/schema/index.js';

/**
 * The one writer of member-tier links (Patreon's `currently_entitled_tiers`), for every member
 * snapshot: makes the links of `memberIds` exactly `links` ([member, tier] pairs), deleting the
 * ones that went away and inserting the new ones in two statements.
 */
export const replaceMemberTiers = (db: DbOrTx, memberIds: string[], links: [string, string][]) =>
  replaceLinks(db, memberTiers, ['member_id', 'tier_id'], memberIds, links);
