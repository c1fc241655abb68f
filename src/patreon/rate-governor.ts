/**
 * Waits before sending instead of collecting 429s. Patreon limits each client to 100 requests per
 * 2 s and each token to 100 per minute (docs/patreon-api.md §6); the governor keeps a sliding window
 * per client and per token, so no window of that length ever holds more than the budget (a
 * fraction of the limit, as a margin). Waiters are served by priority, then in arrival order;
 * one whose token window is full does not hold up others.
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
  resolve: (release: () => void) => void;
  reject: (error: unknown) => void;
};

const CLIENT = '\0client';

export class GovernorClosedError extends Error {
  readonly code = 'GOVERNOR_CLOSED';
}

/**
 * Per key: requests in flight, and completion times of the finished ones. A request counts from
 * the moment it is sent until one window after its response arrived: Patreon saw it somewhere in
 * between, so our window always covers Patreon's, however late a request reached it.
 */
type Window = { inFlight: number; finished: number[] };

export function createRateGovernor(options: GovernorOptions) {
  const now = options.now ?? Date.now;
  const budget = (limit: Limit) => Math.max(1, Math.floor(limit.requests * options.headroom));
  const clientBudget = budget(options.client);
  const tokenBudget = budget(options.token);
  const windows = new Map<string, Window>();
  const pausedUntil = new Map<string, number>();
  let waiters: Waiter[] = [];
  let seq = 0;
  let timer: NodeJS.Timeout | undefined;
  let closed = false;

  /** Milliseconds until `key` may send once more: 0 now, Infinity when only a completion frees a slot. */
  function delay(key: string, limit: number, windowMs: number, at: number): number {
    const paused = Math.max(0, (pausedUntil.get(key) ?? 0) - at);
    if (paused === 0) pausedUntil.delete(key);
    const window = windows.get(key);
    if (!window) return paused;
    const { finished } = window;
    while (finished.length > 0 && (finished[0] as number) <= at - windowMs) finished.shift();
    if (finished.length === 0 && window.inFlight === 0) windows.delete(key);
    const used = window.inFlight + finished.length;
    if (used < limit) return paused;
    const mustExpire = used - limit + 1;
    if (mustExpire > finished.length) return Number.POSITIVE_INFINITY;
    return Math.max(paused, (finished[mustExpire - 1] as number) + windowMs - at);
  }

  function windowOf(key: string): Window {
    let window = windows.get(key);
    if (!window) {
      window = { inFlight: 0, finished: [] };
      windows.set(key, window);
    }
    return window;
  }

  function schedule(ms: number) {
    if (timer) clearTimeout(timer);
    timer = Number.isFinite(ms) ? setTimeout(pump, Math.max(1, Math.ceil(ms))) : undefined;
  }

  function pump() {
    timer = undefined;
    const at = now();
    let nextIn = Number.POSITIVE_INFINITY;
    const remaining: Waiter[] = [];
    for (const waiter of waiters) {
      const wait = Math.max(
        delay(CLIENT, clientBudget, options.client.windowMs, at),
        delay(waiter.tokenKey, tokenBudget, options.token.windowMs, at),
      );
      if (wait > 0) {
        nextIn = Math.min(nextIn, wait);
        remaining.push(waiter);
        continue;
      }
      windowOf(CLIENT).inFlight++;
      windowOf(waiter.tokenKey).inFlight++;
      options.onWait?.({ priority: waiter.priority, waitedMs: at - waiter.enqueuedAt });
      waiter.resolve(release(waiter.tokenKey));
    }
    waiters = remaining;
    if (waiters.length > 0) schedule(nextIn);
  }

  function release(tokenKey: string) {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const at = now();
      for (const key of [CLIENT, tokenKey]) {
        const window = windowOf(key);
        window.inFlight--;
        window.finished.push(at);
      }
      if (waiters.length > 0) pump();
    };
  }

  return {
    /**
     * Resolves when a request for this token may be sent. Call the returned function when its
     * response has arrived (or it failed): the request keeps its slot until then.
     */
    acquire(tokenKey: string, priority: Priority = 'background'): Promise<() => void> {
      if (closed) return Promise.reject(new GovernorClosedError('the rate governor is closed'));
      return new Promise<() => void>((resolve, reject) => {
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
        pump();
      });
    },

    /**
     * After a 429: hold this token for the stated time, and the whole client for at most one
     * client window (we cannot tell which of the two limits Patreon applied).
     */
    pause(tokenKey: string, ms: number) {
      const at = now();
      pausedUntil.set(tokenKey, Math.max(pausedUntil.get(tokenKey) ?? 0, at + ms));
      const clientUntil = at + Math.min(ms, options.client.windowMs);
      pausedUntil.set(CLIENT, Math.max(pausedUntil.get(CLIENT) ?? 0, clientUntil));
    },

    waiting(): number {
      return waiters.length;
    },

    close() {
      closed = true;
      if (timer) clearTimeout(timer);
      for (const waiter of waiters) {
        waiter.reject(new GovernorClosedError('the rate governor is closed'));
      }
      waiters = [];
    },
  };
}

export type RateGovernor = ReturnType<typeof createRateGovernor>;
