import { randomUUID } from 'node:crypto';
import { and, eq, sql } from 'drizzle-orm';
import type { Db } from './database.js';
import { leases } from './schema/index.js';

/**
 * Runs `fn` while holding the named lease, so one instance at a time does it; others wait for the
 * holder to finish (or for its lease to expire, if it died) and then run it themselves. The lease
 * is a row, not a lock held on a connection, so `fn` may use the database and call Patreon.
 */
export async function withLease<T>(
  db: Db,
  name: string,
  options: { ttlMs: number; waitMs: number },
  fn: () => Promise<T>,
): Promise<T> {
  const holder = randomUUID();
  const until = Date.now() + options.waitMs;
  for (let delay = 25; ; delay = Math.min(delay * 2, 500)) {
    const claimed = await db
      .insert(leases)
      .values({
        name,
        holder,
        expiresAt: sql`now() + ${`${options.ttlMs} milliseconds`}::interval`,
      })
      .onConflictDoUpdate({
        target: leases.name,
        set: { holder, expiresAt: sql`now() + ${`${options.ttlMs} milliseconds`}::interval` },
        setWhere: sql`${leases.expiresAt} < now()`,
      })
      .returning({ holder: leases.holder });
    if (claimed.length > 0) break;
    if (Date.now() >= until) throw new LeaseBusyError(name);
    await new Promise((resolve) => setTimeout(resolve, delay));
  }
  try {
    return await fn();
  } finally {
    await db.delete(leases).where(and(eq(leases.name, name), eq(leases.holder, holder)));
  }
}

export class LeaseBusyError extends Error {
  constructor(readonly lease: string) {
    super(`another instance is still working on ${lease}`);
    this.name = 'LeaseBusyError';
  }
}
