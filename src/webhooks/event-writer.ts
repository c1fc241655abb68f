import pg, { type Pool } from 'pg';
import { coalesce } from '../db/coalesce.js';
import type { StoredError } from '../shared/stored-error.js';

export type IncomingEvent = {
  webhookId: string;
  event: string;
  dedupeKey: string;
  body: Buffer;
  resourceType: string | null;
  resourceId: string | null;
  /** Why it can never apply, known at ingest: it is stored `failed` with this, not applied. */
  refusal: StoredError | null;
};

export type StoredEvent = {
  id: number;
  duplicate: boolean;
  /** Set when it was stored `failed`: refused at ingest, or not storable with its resource. */
  refusal: StoredError | null;
};

/**
 * A delivery the database would not take as it came (its resource id past what an index entry
 * holds, say) is stored as its bytes alone, failed with this: never refused, never lost.
 */
const UNSTORABLE: StoredError = {
  code: 'UNSTORABLE_RESOURCE',
  message: 'The delivery could not be stored with its resource reference; kept as received.',
};

/**
 * SQLSTATE classes that blame the rows, not the database: data exceptions (22), integrity
 * violations (23), program limits such as an index entry too large (54). Anything else (a lost
 * connection, a shutdown, no space) means the store is unavailable.
 */
const ROW_ERROR = /^(22|23|54)/;
const blamesRows = (error: unknown) =>
  error instanceof pg.DatabaseError && ROW_ERROR.test(error.code ?? '');

// One statement per batch. A row that is the first of its resource in the batch (`first`) is a
// redelivery when its key is the key of the latest stored delivery of that resource on its
// webhook (or, for a body whose resource could not be read, of any stored delivery); later rows
// of a resource follow another delivery of it in this batch, so they are news. Redeliveries are
// counted on the row they repeat (`extra` counts the batch's own copies, folded before). The
// inserted ids come from one sequence in insertion order, which follows `ord`.
const INSERT = `with r as (
    select * from unnest($1::uuid[], $2::text[], $3::text[], $5::int[], $6::int[], $7::text[],
                         $8::text[], $9::int[], $10::bool[], $11::text[], $12::text[])
      with ordinality
      as r(webhook_id, event, dedupe_key, start, length, resource_type, resource_id, extra,
           first, error_code, last_error, ord)
  ),
  judged as (
    select r.*,
      case when head.dedupe_key = r.dedupe_key then head.id else same.id end as repeats
    from r
    left join lateral (
      select e.id, e.dedupe_key from webhook_events e
      where r.first and r.resource_id is not null and e.resource_type = r.resource_type
        and e.resource_id = r.resource_id and e.webhook_id = r.webhook_id
      order by e.id desc limit 1
    ) head on true
    left join lateral (
      select e.id from webhook_events e
      where r.first and r.resource_id is null and e.webhook_id = r.webhook_id
        and e.dedupe_key = r.dedupe_key
      limit 1
    ) same on true
  ),
  inserted as (
    insert into webhook_events
      (webhook_id, event, dedupe_key, body, resource_type, resource_id, duplicate_count,
       status, error_code, last_error)
    select webhook_id, event, dedupe_key, substring($4::bytea from start for length),
           resource_type, resource_id, extra,
           case when error_code is null then 'received' else 'failed' end, error_code, last_error
    from judged where repeats is null order by ord
    returning id
  ),
  counted as (
    update webhook_events e set duplicate_count = e.duplicate_count + d.copies
    from (select repeats, sum(1 + extra)::int as copies from judged
          where repeats is not null group by repeats) d
    where e.id = d.repeats
  )
  select null::int as ord, id from inserted
  union all
  select ord::int, repeats from judged where repeats is not null`;

/** Where a delivery's redeliveries are looked for: its resource, or else its own bytes. */
const resourceOf = (event: IncomingEvent) =>
  event.resourceId === null
    ? `${event.webhookId}\0${event.dedupeKey}`
    : `${event.webhookId}\0${event.resourceType}\0${event.resourceId}`;

/**
 * Group commit for incoming deliveries: requests that arrive while a commit is under way wait
 * for the next one, which writes them all in one multi-row INSERT (one fsync for the lot). Each
 * request is answered once the statement that holds its row has committed, so "2xx" still means
 * "stored". A redelivery (the same bytes as the latest delivery of its resource, see INSERT) is
 * counted on the stored row, not stored twice; the same bytes after another delivery of the
 * resource are stored, so a change back to an earlier state is applied.
 */
export function createEventWriter(
  pool: Pool,
  options: {
    maxBatch: number;
    maxInFlight: number;
    onStored: () => void;
    /**
     * Prepare the statement once per connection. Only on a real server: PGlite is one backend
     * behind every socket, so a statement prepared on a connection the pool later discarded
     * (after any failed query) is still there, and preparing it on the next one fails forever.
     */
    prepared: boolean;
  },
) {
  async function insert(events: IncomingEvent[]): Promise<StoredEvent[]> {
    // Copies that follow the same delivery of their resource in this batch fold into it.
    const rows: IncomingEvent[] = [];
    const extra: number[] = [];
    const first: boolean[] = [];
    /** For each delivery: its row, and whether it is a copy folded into that row. */
    const placed: { row: number; copy: boolean }[] = [];
    const lastOf = new Map<string, number>();
    for (const event of events) {
      const resource = resourceOf(event);
      const previous = lastOf.get(resource);
      if (previous !== undefined && rows[previous]?.dedupeKey === event.dedupeKey) {
        extra[previous] = (extra[previous] as number) + 1;
        placed.push({ row: previous, copy: true });
        continue;
      }
      placed.push({ row: rows.length, copy: false });
      lastOf.set(resource, rows.length);
      first.push(previous === undefined);
      rows.push(event);
      extra.push(0);
    }
    // The bodies travel as one binary parameter, cut apart by offset in SQL: a bytea[] would be
    // sent as text, every body hex-escaped (twice its size) and parsed back by the server.
    const starts: number[] = [];
    let offset = 1;
    for (const row of rows) {
      starts.push(offset);
      offset += row.body.length;
    }
    const bodies = Buffer.concat(rows.map((r) => r.body));
    // Named (on a real server): parsed and planned once per connection, not once per batch.
    const result = await pool.query<{ ord: number | null; id: string }>({
      ...(options.prepared ? { name: 'webhook-events-insert' } : {}),
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
        first,
        rows.map((r) => r.refusal?.code ?? null),
        rows.map((r) => r.refusal?.message ?? null),
      ],
    });
    const repeated = new Map<number, number>();
    const insertedIds: number[] = [];
    for (const row of result.rows) {
      if (row.ord === null) insertedIds.push(Number(row.id));
      else repeated.set(row.ord - 1, Number(row.id));
    }
    insertedIds.sort((a, b) => a - b);
    let next = 0;
    const stored = rows.map((row, index): StoredEvent => {
      const repeats = repeated.get(index);
      return repeats !== undefined
        ? { id: repeats, duplicate: true, refusal: row.refusal }
        : { id: insertedIds[next++] as number, duplicate: false, refusal: row.refusal };
    });
    options.onStored();
    return placed.map(({ row, copy }) => {
      const own = stored[row] as StoredEvent;
      return copy ? { ...own, duplicate: true } : own;
    });
  }

  /** One delivery alone; if the database will not take it as it came, its bytes alone. */
  async function insertAlone(event: IncomingEvent): Promise<StoredEvent> {
    try {
      return (await insert([event]))[0] as StoredEvent;
    } catch (error) {
      if (!blamesRows(error) || event.refusal === UNSTORABLE) throw error;
      const bare = { ...event, resourceType: null, resourceId: null, refusal: UNSTORABLE };
      return (await insert([bare]))[0] as StoredEvent;
    }
  }

  /**
   * A batch the database refuses because of a row is written again one delivery at a time, so
   * one bad row fails none of the others (in arrival order, so redeliveries are still judged
   * against what came before them).
   */
  async function write(events: IncomingEvent[]): Promise<StoredEvent[]> {
    try {
      return await insert(events);
    } catch (error) {
      if (!blamesRows(error)) throw error;
      const stored: StoredEvent[] = [];
      for (const event of events) stored.push(await insertAlone(event));
      return stored;
    }
  }

  const writer = coalesce(write, options);
  return {
    /** True while deliveries are waiting or being written: a burst is under way. */
    busy: writer.busy,
    store: writer.call,
  };
}

export type EventWriter = ReturnType<typeof createEventWriter>;
