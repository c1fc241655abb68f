import { inArray, sql } from 'drizzle-orm';
import type { Db } from '../db/database.js';
import { patreonRateSlots } from '../db/schema/index.js';

export type Window = { key: string; limit: number; windowMs: number };

/** A request still unanswered after this long is taken for lost (its process died). */
const LOST_AFTER_MS = 120_000;
const LOCK = 7_246_821_338;

/**
 * The shared half of the rate governor: reserves one slot in each window, or says how long to
 * wait. Reservations are serialised by one advisory lock; times are the database's, so every
 * instance agrees on them.
 */
export function createRateSlotStore(db: Db) {
  return {
    async reserve(windows: Window[]): Promise<{ ids: number[] } | { waitMs: number }> {
      return db.transaction(async (tx) => {
        await tx.execute(sql`select pg_advisory_xact_lock(${LOCK})`);
        let waitMs = 0;
        for (const window of windows) {
          // A slot counts from its send until one window after its answer (a slot unanswered for
          // LOST_AFTER_MS belonged to a process that died and no longer counts).
          const result = await tx.execute<{ until_ms: number | null }>(sql`
            select extract(epoch from done_at - now()) * 1000 as until_ms
            from ${patreonRateSlots}
            where key = ${window.key}
              and (done_at is null or done_at > now() - ${window.windowMs} * interval '1 millisecond')
              and sent_at > now() - ${LOST_AFTER_MS} * interval '1 millisecond'
            order by done_at nulls last`);
          const used = result.rows.length;
          if (used < window.limit) continue;
          // The slot that must expire first; still in flight means: look again shortly.
          const until = result.rows[used - window.limit]?.until_ms;
          const freesIn =
            until === null || until === undefined ? 50 : Number(until) + window.windowMs;
          waitMs = Math.max(waitMs, Math.max(10, Math.ceil(freesIn)));
        }
        if (waitMs > 0) return { waitMs };
        const inserted = await tx
          .insert(patreonRateSlots)
          .values(windows.map((window) => ({ key: window.key })))
          .returning({ id: patreonRateSlots.id });
        return { ids: inserted.map((row) => row.id) };
      });
    },

    async release(ids: number[]): Promise<void> {
      await db
        .update(patreonRateSlots)
        .set({ doneAt: sql`now()` })
        .where(inArray(patreonRateSlots.id, ids));
    },

    async prune(longestWindowMs: number): Promise<void> {
      await db.execute(
        sql`delete from ${patreonRateSlots} where coalesce(done_at, sent_at) < now() - ${longestWindowMs + LOST_AFTER_MS} * interval '1 millisecond'`,
      );
    },
  };
}

export type RateSlotStore = ReturnType<typeof createRateSlotStore>;
