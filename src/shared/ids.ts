/**
 * The ids Patreon issues (docs/patreon-api.md §3, "IDs are always strings"): members are UUIDs, everything else (campaigns,
 * tiers, benefits, goals, posts, users, webhooks) a numeric string. An id of another shape did
 * not come from Patreon, so it is refused before it is stored or looked up.
 */
export const MEMBER_ID =
  /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
/** Numeric ids are 64-bit at most: 19 digits. */
export const NUMERIC_ID = /^[0-9]{1,19}$/;

export const isMemberId = (id: string): boolean => MEMBER_ID.test(id);
export const isNumericId = (id: string): boolean => NUMERIC_ID.test(id);

/**
 * Ids whose shape Patreon does not promise (pledge events look like `pledge_start:123`,
 * addresses): visible ASCII, 1 to 128 characters, so they fit a text index and a URL.
 */
export const OPAQUE_ID = /^[\x21-\x7e]{1,128}$/;

const numericTypes = new Set(['campaign', 'tier', 'benefit', 'goal', 'post', 'user', 'webhook']);

/** Whether `id` is an id Patreon could have issued for a resource of `type`. */
export function isPatreonIdOf(type: string, id: string): boolean {
  if (type === 'member') return isMemberId(id);
  return numericTypes.has(type) ? isNumericId(id) : OPAQUE_ID.test(id);
}
