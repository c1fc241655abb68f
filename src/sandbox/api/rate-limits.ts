import type { SandboxLimits, SandboxQuirks } from '../world/options.js';
import type { Random } from '../world/prng.js';
import { mulberry32 } from '../world/prng.js';

export type Throttle = { scope: 'client' | 'token'; retryAfterSeconds: number };
export type ChaosOutcome =
  | { kind: 'throttle'; retryAfterSeconds: number }
  | { kind: 'server'; status: number }
  | null;

/**
 * Sliding-window logs per client id and per connection (docs/patreon-api.md §6). The "per token" window
 * is keyed by the connection the token belongs to, not the token string, because refreshing a
 * token does not reset the limit.
 */
export function createRateLimiter(clock: () => number) {
  const hits = new Map<string, number[]>();

  function recent(key: string, windowMs: number, now: number): number[] {
    const log = (hits.get(key) ?? []).filter((t) => t > now - windowMs);
    hits.set(key, log);
    return log;
  }

  return {
    /** Records the request unless a window is full; then says which one and for how long. */
    take(limits: SandboxLimits, clientId: string, connectionId: string): Throttle | null {
      if (!limits.enabled) return null;
      const now = clock();
      const checks = [
        {
          scope: 'client' as const,
          log: recent(`client:${clientId}`, limits.client.windowMs, now),
          window: limits.client,
        },
        {
          scope: 'token' as const,
          log: recent(`connection:${connectionId}`, limits.token.windowMs, now),
          window: limits.token,
        },
      ];
      for (const { scope, log, window } of checks) {
        if (log.length >= window.max) {
          const waitMs = (log[log.length - window.max] as number) + window.windowMs - now;
          return { scope, retryAfterSeconds: Math.max(1, Math.ceil(waitMs / 1000)) };
        }
      }
      for (const { log } of checks) log.push(now);
      return null;
    },
    reset: () => hits.clear(),
  };
}

/** Random 429s and 5xx at a given rate, from a seeded PRNG so fault tests replay exactly. */
export function createChaos() {
  let random: Random = mulberry32(1);
  let rate = 0;
  return {
    configure(chaos: SandboxQuirks['chaos']): void {
      random = mulberry32(chaos.seed);
      rate = chaos.rate;
    },
    draw(): ChaosOutcome {
      if (rate === 0 || random() >= rate) return null;
      if (random() < 0.5) return { kind: 'throttle', retryAfterSeconds: 1 };
      return { kind: 'server', status: [500, 502, 503][Math.floor(random() * 3)] as number };
    },
  };
}
