import type { SyncCounts } from '../db/schema/index.js';

/** A job's counts plus `delta`. */
export const add = (counts: SyncCounts, delta: SyncCounts): SyncCounts => {
  const sum: SyncCounts = { ...counts };
  for (const [key, value] of Object.entries(delta) as [keyof SyncCounts, number][]) {
    sum[key] = (sum[key] ?? 0) + value;
  }
  return sum;
};

/** How much each count grew from `before` to `after`. */
export const growth = (before: SyncCounts, after: SyncCounts): Record<string, number> => {
  const delta: Record<string, number> = {};
  for (const [key, value] of Object.entries(after) as [keyof SyncCounts, number][]) {
    delta[key] = value - (before[key] ?? 0);
  }
  return delta;
};
