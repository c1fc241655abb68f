/** Fixed ids of the seeded catalog (numeric strings, as Patreon's are). */

/** The client owner's campaign: the one the sandbox OAuth client belongs to. */
export const OWN_CAMPAIGN_ID = '1234560';
export const OWN_CREATOR_ID = '4410001';
/** A second creator's campaign, so cross-campaign memberships can be filtered. */
export const OTHER_CAMPAIGN_ID = '2345670';
export const OTHER_CREATOR_ID = '4410002';

/** Published paid tiers of the own campaign, cheapest first; members rotate over them. */
export const OWN_TIER_IDS = ['54321', '54322', '54323'] as const;
export const DELETED_TIER_ID = '54324';
export const OTHER_TIER_IDS = ['64321', '64322'] as const;
