import type { Pool } from 'pg';
import { coalesce } from '../db/coalesce.js';

export type IncomingEvent = {
  webhookId: string;
  event: string;
  dedupeKey: string;
  body: Buffer;
  resourceType: string | null;
  resourceId: string | null;
};

export type StoredEvent = { id: number; duplicate: boolean };

const INSERT = `insert into webhook_events
    (webhook_id, event, dedupe_key, body, resource_type, resource_id, duplicate_count)
  select r.webhook_id, r.event, r.dedupe_key, substring($4::bytea from r.start for r.length),
         r.resource_type, r.resource_id, r.extra
  from unnest($1::uuid[], $2::text[], $3::text[], $5::int[], $6::int[], $7::text[], $8::text[],
              $9::int[])
    as r(webhook_id, event, dedupe_key, start, length, resource_type, resource_id, extra)
  on conflict (dedupe_key) do update
    set duplicate_count = webhook_events.duplicate_count + excluded.duplicate_count + 1
  returning id, dedupe_key, (xmax = 0) as inserted`;

/**
 * Group commit for incoming deliveries: requests that arrive while a commit is under way wait
 * for the next one, which writes them all in one multi-row INSERT (one fsync for the lot). Each
 * request is answered once the statement that holds its row has committed, so "2xx" still means
 * "stored". A duplicate (same dedupe key, now or earlier) is counted on the stored row, not
 * stored twice.
 */
export function createEventWriter(
  pool: Pool,
  options: { maxBatch: number; maxInFlight: number; onStored: () => void },
) {
  async function write(events: IncomingEvent[]): Promise<StoredEvent[]> {
    // One row per dedupe key: a statement may not touch the same row twice.
    const byKey = new Map<string, number[]>();
    for (const [index, event] of events.entries()) {
      const same = byKey.get(event.dedupeKey);
      if (same) same.push(index);
      else byKey.set(event.dedupeKey, [index]);
    }
    const rows = [...byKey.values()].map((same) => events[same[0] as number] as IncomingEvent);
    // Copies in this batch beyond the first count as duplicates too.
    const extra = [...byKey.values()].map((same) => same.length - 1);
    // The bodies travel as one binary parameter, cut apart by offset in SQL: a bytea[] would be
    // sent as text, every body hex-escaped (twice its size) and parsed back by the server.
    const starts: number[] = [];
    let offset = 1;
    for (const row of rows) {
      starts.push(offset);
      offset += row.body.length;
    }
    const bodies = Buffer.concat(rows.map((r) => r.body));
    // A named statement: parsed and planned once per connection, not once per batch.
    const result = await pool.query<{ id: string; dedupe_key: string; inserted: boolean }>({
      name: 'webhook-events-insert',
      text: INSERT,
      values: [
        rows.map((r) => r.webhookId),
        rows.map((r) => r.event),
        rows.map((r) => r.dedupeKey),
        bodies,
        starts,
        rows.map((r) => r.body.length),
        rows.map((r) => r.resourceType),
        rows.map((r) => r.resourceId),
        extra,
      ],
    });
    const stored: StoredEvent[] = new Array(events.length);
    for (const row of result.rows) {
      for (const [copy, index] of (byKey.get(row.dedupe_key) ?? []).entries()) {
        stored[index] = { id: Number(row.id), duplicate: !row.inserted || copy > 0 };
      }
    }
    options.onStored();
    return stored;
  }

  const writer = coalesce(write, options);
  return {
    /** True while deliveries are waiting or being written: a burst is under way. */
    busy: writer.busy,
    store: writer.call,
  };
}

export type EventWriter = ReturnType<typeof createEventWriter>;
