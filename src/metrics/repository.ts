import { sql } from 'drizzle-orm';
import type { Db } from '../db/database.js';

export type OperationalCounts = {
  connectionsByStatus: Record<string, number>;
  eventBacklog: number;
  oldestUndeliveredSeconds: number;
  webhookUnapplied: number;
  oldestUnappliedSeconds: number;
};

/**
 * What the scrape-time gauges show, in one round trip (the embedded database has one connection,
 * shared with ingest). Each part reads a small table or a partial index of open rows only:
 * connections, open outbound deliveries, webhook events not yet applied.
 */
export async function readOperationalCounts(db: Db): Promise<OperationalCounts> {
  const result = await db.execute<{
    connections: Record<string, number> | null;
    event_backlog: number;
    event_oldest: number;
    webhook_unapplied: number;
    webhook_oldest: number;
  }>(sql`
    select c.connections, d.event_backlog, d.event_oldest, w.webhook_unapplied, w.webhook_oldest
    from (
      select json_object_agg(status, n) as connections
      from (select status, count(*)::int as n from connections group by status) s
    ) c,
    (
      select count(*)::int as event_backlog,
        coalesce(extract(epoch from now() - min(created_at)), 0)::float8 as event_oldest
      from outbound_deliveries where status in ('pending', 'failed')
    ) d,
    (
      select count(*)::int as webhook_unapplied,
        coalesce(extract(epoch from now() - min(received_at)), 0)::float8 as webhook_oldest
      from webhook_events where status = 'received'
    ) w`);
  const row = result.rows[0];
  return {
    connectionsByStatus: row?.connections ?? {},
    eventBacklog: Number(row?.event_backlog ?? 0),
    oldestUndeliveredSeconds: Math.max(0, Number(row?.event_oldest ?? 0)),
    webhookUnapplied: Number(row?.webhook_unapplied ?? 0),
    oldestUnappliedSeconds: Math.max(0, Number(row?.webhook_oldest ?? 0)),
  };
}
