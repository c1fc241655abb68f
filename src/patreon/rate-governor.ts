/**
 * Waits before sending instead of collecting 429s. Patreon limits each client to 100 requests per
 * 2 s and each token to 100 per minute (patreon-api.md §6); the governor keeps a sliding window
 * of send times per client and per token, so no window of that length ever holds more than the
 * budget (a fraction of the limit, to absorb clock and network skew). Waiters are served by
 * priority, then in arrival order; one whose token window is full does not hold up others.
 *
 * Several instances: the windows live in this process. Sharing them through Postgres (one row per
 * window key, reserved with an atomic update) plugs in behind `reserve`; see the sync issue.
 */

export type Priority = 'interactive' | 'background';
export type Limit = { requests: number; windowMs: number };

export type GovernorOptions = {
  client: Limit;
  token: Limit;
  /** Fraction of each limit we allow ourselves (0 < headroom ≤ 1). */
  headroom: number;
  now?: () => number;
  onWait?: (event: { priority: Priority; waitedMs: number }) => void;
};

export const patreonLimits = {
  client: { requests: 100, windowMs: 2_000 },
  token: { requests: 100, windowMs: 60_000 },
  headroom: 0.9,
} satisfies Omit<GovernorOptions, 'now' | 'onWait'>;

type Waiter = {
  tokenKey: string;
  rank: number;
  seq: number;
  enqueuedAt: number;
  priority: Priority;
  resolve: () => void;
  reject: (error: unknown) => void;
};

const CLIENT = '\0client';

export class GovernorClosedError extends Error {
  readonly code = 'GOVERNOR_CLOSED';
}

export function createRateGovernor(options: GovernorOptions) {
  const now = options.now ?? Date.now;
  const budget = (limit: Limit) => Math.max(1, Math.floor(limit.requests * options.headroom));
  const clientBudget = budget(options.client);
  const tokenBudget = budget(options.token);
  const sent = new Map<string, number[]>();
  const pausedUntil = new Map<string, number>();
  let waiters: Waiter[] = [];
  let seq = 0;
  let timer: NodeJS.Timeout | undefined;
  let closed = false;

  /** Milliseconds until `key` may send once more (0 = now). */
  function delay(key: string, limit: number, windowMs: number, at: number): number {
    const times = sent.get(key);
    let wait = Math.max(0, (pausedUntil.get(key) ?? 0) - at);
    if (times) {
      while (times.length > 0 && (times[0] as number) <= at - windowMs) times.shift();
      if (times.length === 0 && wait === 0) sent.delete(key);
      if (times.length >= limit) {
        wait = Math.max(wait, (times[times.length - limit] as number) + windowMs - at);
      }
    }
    return wait;
  }

  function record(key: string, at: number) {
    const times = sent.get(key);
    if (times) times.push(at);
    else sent.set(key, [at]);
  }

  function pump() {
    timer = undefined;
    const at = now();
    let nextIn = Number.POSITIVE_INFINITY;
    const remaining: Waiter[] = [];
    for (const waiter of waiters) {
      const clientWait = delay(CLIENT, clientBudget, options.client.windowMs, at);
      const wait = Math.max(
        clientWait,
        delay(waiter.tokenKey, tokenBudget, options.token.windowMs, at),
      );
      if (wait > 0) {
        nextIn = Math.min(nextIn, wait);
        remaining.push(waiter);
        continue;
      }
      record(CLIENT, at);
      record(waiter.tokenKey, at);
      options.onWait?.({ priority: waiter.priority, waitedMs: at - waiter.enqueuedAt });
      waiter.resolve();
    }
    waiters = remaining;
    if (waiters.length > 0 && Number.isFinite(nextIn)) {
      timer = setTimeout(pump, Math.max(1, Math.ceil(nextIn)));
    }
  }

  return {
    /** Resolves when a request for this token may be sent; the send is counted at that moment. */
    acquire(tokenKey: string, priority: Priority = 'background'): Promise<void> {
      if (closed) return Promise.reject(new GovernorClosedError('the rate governor is closed'));
      return new Promise<void>((resolve, reject) => {
        const waiter: Waiter = {
          tokenKey,
          priority,
          rank: priority === 'interactive' ? 0 : 1,
          seq: seq++,
          enqueuedAt: now(),
          resolve,
          reject,
        };
        // Insert after every waiter of the same or a higher priority.
        const index = waiters.findIndex((other) => other.rank > waiter.rank);
        if (index === -1) waiters.push(waiter);
        else waiters.splice(index, 0, waiter);
        if (timer) clearTimeout(timer);
        pump();
      });
    },

    /**
     * After a 429: hold this token for the stated time, and the whole client for at most one
     * client window (we cannot tell which of the two limits Patreon applied).
     */
    pause(tokenKey: string, ms: number) {
      const until = now() + ms;
      pausedUntil.set(tokenKey, Math.max(pausedUntil.get(tokenKey) ?? 0, until));
      const clientUntil = now() + Math.min(ms, options.client.windowMs);
      pausedUntil.set(CLIENT, Math.max(pausedUntil.get(CLIENT) ?? 0, clientUntil));
    },

    waiting(): number {
      return waiters.length;
    },

    close() {
      closed = true;
      if (timer) clearTimeout(timer);
      for (const waiter of waiters)
        waiter.reject(new GovernorClosedError('the rate governor is closed'));
      waiters = [];
    },
  };
}

export type RateGovernor = ReturnType<typeof createRateGovernor>;
