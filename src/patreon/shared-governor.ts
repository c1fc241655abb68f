import { setTimeout as sleep } from 'node:timers/promises';
import type { GovernorOptions, RateGovernor } from './rate-governor.js';

/** Reserves one slot in each window across all instances, or says how long to wait. */
export type SlotStore = {
  reserve(
    windows: { key: string; limit: number; windowMs: number }[],
  ): Promise<{ ids: number[] } | { waitMs: number }>;
  release(ids: number[]): Promise<void>;
};

/**
 * The governor for several instances: the local governor keeps priorities and this process's
 * share, then a slot in the shared windows (Postgres) is reserved before the request goes out,
 * so all instances together stay within Patreon's per-client and per-token budgets.
 */
export function withSharedBudget(
  local: RateGovernor,
  store: SlotStore,
  limits: Pick<GovernorOptions, 'client' | 'token' | 'headroom'>,
): RateGovernor {
  const budget = (requests: number) => Math.max(1, Math.floor(requests * limits.headroom));
  return {
    ...local,
    async acquire(tokenKey, priority) {
      const releaseLocal = await local.acquire(tokenKey, priority);
      try {
        for (;;) {
          const reserved = await store.reserve([
            {
              key: 'client',
              limit: budget(limits.client.requests),
              windowMs: limits.client.windowMs,
            },
            {
              key: `token:${tokenKey}`,
              limit: budget(limits.token.requests),
              windowMs: limits.token.windowMs,
            },
          ]);
          if ('ids' in reserved) {
            return () => {
              releaseLocal();
              store.release(reserved.ids).catch(() => {});
            };
          }
          await sleep(reserved.waitMs);
        }
      } catch (error) {
        releaseLocal();
        throw error;
      }
    },
  };
}
