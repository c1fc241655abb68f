import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * Work that wants its own Patreon call count (a sync job) runs inside `usageScope.run(key, …)`;
 * calls made in that async context are counted under `key` instead of the token's key, so two
 * jobs sharing one token (a sync and a webhook registration) do not count each other's calls.
 */
export const usageScope = new AsyncLocalStorage<string>();
