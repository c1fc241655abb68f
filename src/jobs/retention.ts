import { sql } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { Config } from '../config/config.js';
import type { Db } from '../db/database.js';

const QUEUE = 'retention';
/** Rows deleted per statement: short transactions, and a prune never holds locks for long. */
const BATCH = 5000;

export type Pruned = { webhookEvents: number; outboundEvents: number };

/**
 * Deletes finished records older than `before`: Patreon deliveries that were applied or ignored,
 * and events to the host whose every delivery ended (delivered or dead-lettered; their deliveries
 * and attempts go with them). What is still owed is never touched, whatever its age: deliveries
 * waiting to be applied or that failed, and events with a delivery pending or being retried.
 */
export async function pruneFinished(db: Db, before: Date): Promise<Pruned> {
  const pruned: Pruned = { webhookEvents: 0, outboundEvents: 0 };
  const cutoff = before.toISOString();
  // Webhook event ids grow with arrival, so the old ones are a prefix of the primary key: walk it
  // in batches and stop at the first batch that reaches the retention period.
  let after = 0;
  for (;;) {
    const { rows } = await db.execute<{ deleted: number; last: string | null; old: boolean }>(sql`
      with batch as (
        select id, status, received_at from webhook_events
        where id > ${after} order by id limit ${BATCH}
      ), gone as (
        delete from webhook_events w using batch b
        where w.id = b.id and b.received_at < ${cutoff} and b.status in ('applied', 'ignored')
        returning 1
      )
      select (select count(*) from gone)::int as deleted, (select max(id) from batch) as last,
        coalesce((select bool_and(received_at < ${cutoff}) from batch), false) as old`);
    const row = rows[0];
    pruned.webhookEvents += row?.deleted ?? 0;
    if (!row?.old || row.last === null) break;
    after = Number(row.last);
  }
  for (;;) {
    const { rows } = await db.execute<{ n: number }>(sql`
      with gone as (
        delete from outbound_events where id in (
          select e.id from outbound_events e
          where e.created_at < ${cutoff}
            and not exists (
              select 1 from outbound_deliveries d
              where d.event_id = e.id and d.status in ('pending', 'failed'))
          order by e.created_at
          limit ${BATCH})
        returning 1
      )
      select count(*)::int as n from gone`);
    const n = rows[0]?.n ?? 0;
    pruned.outboundEvents += n;
    if (n < BATCH) break;
  }
  return pruned;
}

/** An hourly prune (`RETENTION_PERIOD`), run by one instance per slot through the queue's cron. */
export const retentionPlugin = fp(
  async (app: FastifyInstance, { config }: { config: Config }) => {
    if (config.retentionMs === 0) return;
    await app.queue.createQueue(QUEUE, { name: QUEUE, policy: 'singleton' });
    await app.queue.schedule(QUEUE, '23 * * * *', {}, { tz: 'UTC' });
    await app.queue.work(QUEUE, { pollingIntervalSeconds: 30 }, async () => {
      const pruned = await pruneFinished(
        app.database.db,
        new Date(Date.now() - config.retentionMs),
      );
      app.log.info(pruned, 'retention: finished records older than the retention period deleted');
    });
  },
  { name: 'retention', dependencies: ['database', 'queue'] },
);
