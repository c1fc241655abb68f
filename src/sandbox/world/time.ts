export const DAY_MS = 86_400_000;

/** docs/patreon-api.md §3: timestamps are ISO 8601 with an explicit `+00:00` offset. */
export function iso(ms: number): string {
  return new Date(ms).toISOString().replace('Z', '+00:00');
}

export function addMonths(ms: number, months: number): number {
  const d = new Date(ms);
  d.setUTCMonth(d.getUTCMonth() + months);
  return d.getTime();
}

export function startOfUtcMonth(ms: number): number {
  const d = new Date(ms);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
}
