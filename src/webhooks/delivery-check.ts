import { isPatreonIdOf } from '../shared/ids.js';
import type { StoredError } from '../shared/stored-error.js';
import type { ResourceRef } from './resource-of.js';
import { isMemberTrigger, type Trigger } from './triggers.js';

/**
 * Why a signed delivery can never apply, as far as its resource reference tells before it is
 * stored: a resource of the wrong type for its trigger, or an id Patreon does not issue. Such a
 * delivery is still stored (its bytes, as received) and answered 200, but `failed` with this, so
 * Patreon neither retries it forever nor pauses the webhook. A body whose reference cannot be
 * read at all is left to the applier, which names what is wrong with it.
 */
export function refusalOf(event: Trigger, resource: ResourceRef): StoredError | null {
  if (resource.type === null || resource.id === null) return null;
  const expected = isMemberTrigger(event) ? 'member' : 'post';
  if (resource.type !== expected) {
    return {
      code: 'WRONG_RESOURCE_TYPE',
      message: `A ${event} delivery must be about a ${expected}.`,
    };
  }
  if (!isPatreonIdOf(expected, resource.id)) {
    return {
      code: 'INVALID_RESOURCE_ID',
      message: `The ${expected} id is not one Patreon issues (${expected === 'member' ? 'a UUID' : 'a numeric string'}).`,
    };
  }
  return null;
}
