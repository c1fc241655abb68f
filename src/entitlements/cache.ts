/**
 * An in-process cache of what entitlement lookups read from the database, kept correct by the
 * invalidations Postgres sends when a table it depends on changes (see `change-feed.ts` and
 * migration 0009): every instance hears every commit, whichever instance or job made it.
 *
 * Each entry carries tags: `c:<campaignId>`, `x:<externalUserId>`, `p:<patreonUserId>` for each
 * Patreon account the host user connected, and `m:<memberId>` for the membership found. An
 * invalidation names tags (or everything) and drops every entry holding one of them.
 *
 * A lookup that started before an invalidation and finishes after it may have read the old rows,
 * so `set` takes the token `begin` gave before the read and refuses to store the value when an
 * invalidation for one of its tags (or for everything) arrived since. The last `RECENT`
 * invalidations are remembered for that; a lookup older than all of them is not stored.
 *
 * While the feed is down, nothing is served or stored (`enabled` false): an invalidation missed
 * then could never be applied.
 */

/** How many recent invalidations `set` can check a lookup against. */
const RECENT = 1024;

type Entry<V> = { value: V; tags: readonly string[]; expiresAt: number };
type Invalidation = { epoch: number; tags: ReadonlySet<string> | 'all' };

export type CacheStats = { hits: number; misses: number; stored: number; refused: number };

export function createInvalidatingCache<V>(options: {
  maxEntries: number;
  ttlMs: number;
  now?: () => number;
}) {
  const now = options.now ?? Date.now;
  const entries = new Map<string, Entry<V>>();
  const byTag = new Map<string, Set<string>>();
  const recent: Invalidation[] = [];
  const stats: CacheStats = { hits: 0, misses: 0, stored: 0, refused: 0 };
  let epoch = 0;
  let enabled = false;

  function remove(key: string) {
    const entry = entries.get(key);
    if (!entry) return;
    entries.delete(key);
    for (const tag of entry.tags) {
      const keys = byTag.get(tag);
      keys?.delete(key);
      if (keys?.size === 0) byTag.delete(tag);
    }
  }

  function clear() {
    entries.clear();
    byTag.clear();
  }

  function record(tags: Invalidation['tags']) {
    epoch++;
    recent.push({ epoch, tags });
    if (recent.length > RECENT) recent.shift();
  }

  /** True when an invalidation since `token` touched one of `tags`, or when that is unknown. */
  function invalidatedSince(token: number, tags: readonly string[]): boolean {
    if (token === epoch) return false;
    const oldest = recent[0];
    if (!oldest || oldest.epoch > token + 1) return true;
    for (let i = recent.length - 1; i >= 0 && (recent[i] as Invalidation).epoch > token; i--) {
      const seen = (recent[i] as Invalidation).tags;
      if (seen === 'all' || tags.some((tag) => seen.has(tag))) return true;
    }
    return false;
  }

  return {
    stats,
    get size() {
      return entries.size;
    },
    get enabled() {
      return enabled;
    },

    /** Serving and storing resume (the feed is listening again); starts empty. */
    enable() {
      clear();
      record('all');
      enabled = true;
    },

    /** Serving and storing stop (the feed is down) and every entry is dropped. */
    disable() {
      enabled = false;
      clear();
      record('all');
    },

    get(key: string): V | undefined {
      if (!enabled) return undefined;
      const entry = entries.get(key);
      if (!entry) {
        stats.misses++;
        return undefined;
      }
      if (entry.expiresAt <= now()) {
        remove(key);
        stats.misses++;
        return undefined;
      }
      stats.hits++;
      return entry.value;
    },

    /** A token to take before reading what will be stored; see `set`. */
    begin(): number {
      return epoch;
    },

    /** Stores `value` unless the cache is off or an invalidation since `token` concerns it. */
    set(key: string, value: V, tags: readonly string[], token: number): boolean {
      if (!enabled || options.maxEntries <= 0 || invalidatedSince(token, tags)) {
        stats.refused++;
        return false;
      }
      remove(key);
      // Oldest first: Map keeps insertion order, and an entry is re-inserted when refreshed.
      while (entries.size >= options.maxEntries) {
        remove(entries.keys().next().value as string);
      }
      entries.set(key, { value, tags, expiresAt: now() + options.ttlMs });
      for (const tag of tags) {
        let keys = byTag.get(tag);
        if (!keys) {
          keys = new Set();
          byTag.set(tag, keys);
        }
        keys.add(key);
      }
      stats.stored++;
      return true;
    },

    /** Drops every entry holding one of `tags`, or every entry. */
    invalidate(tags: readonly string[] | 'all') {
      if (tags === 'all') {
        clear();
        record('all');
        return;
      }
      for (const tag of tags) {
        const keys = byTag.get(tag);
        if (!keys) continue;
        for (const key of [...keys]) remove(key);
      }
      record(new Set(tags));
    },
  };
}

export type InvalidatingCache<V> = ReturnType<typeof createInvalidatingCache<V>>;
