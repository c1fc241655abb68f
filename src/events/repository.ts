import { and, asc, desc, eq, gte, inArray, lt, type SQL, sql } from 'drizzle-orm';
import type { DbOrTx } from '../db/database.js';
import {
  outboundAttempts,
  outboundDeliveries,
  outboundEndpoints,
  outboundEvents,
} from '../db/schema/index.js';
import type { ListEventsQuery } from './schemas.js';

export type EndpointRow = typeof outboundEndpoints.$inferSelect;
export type EventRow = typeof outboundEvents.$inferSelect;
export type DeliveryRow = typeof outboundDeliveries.$inferSelect;
export type AttemptRow = typeof outboundAttempts.$inferSelect;
type EndpointInsert = typeof outboundEndpoints.$inferInsert;

// Endpoints

export async function findEndpoint(db: DbOrTx, id: string): Promise<EndpointRow | undefined> {
  const [row] = await db.select().from(outboundEndpoints).where(eq(outboundEndpoints.id, id));
  return row;
}

/** Only whether the endpoint exists and is enabled. */
export async function findEndpointEnabled(
  db: DbOrTx,
  id: string,
): Promise<{ enabled: boolean } | undefined> {
  const [row] = await db
    .select({ enabled: outboundEndpoints.enabled })
    .from(outboundEndpoints)
    .where(eq(outboundEndpoints.id, id));
  return row;
}

/** Newest first; `after` is the (created_at, id) key of the previous page's last row. */
export async function listEndpoints(
  db: DbOrTx,
  page: { limit: number; after: readonly [string, string] | undefined },
): Promise<Array<{ row: EndpointRow; key: string }>> {
  const where: SQL[] = [];
  if (page.after) {
    const [createdAt, id] = page.after;
    where.push(
      sql`(${outboundEndpoints.createdAt}, ${outboundEndpoints.id}) < (${createdAt}::timestamptz, ${id}::uuid)`,
    );
  }
  return db
    .select({ row: outboundEndpoints, key: sql<string>`${outboundEndpoints.createdAt}::text` })
    .from(outboundEndpoints)
    .where(and(...where))
    .orderBy(desc(outboundEndpoints.createdAt), desc(outboundEndpoints.id))
    .limit(page.limit);
}

/** Ids of the enabled endpoints whose type filter (empty: every type) takes `type`. */
export async function listEndpointIdsFor(db: DbOrTx, type: string): Promise<string[]> {
  const rows = await db
    .select({ id: outboundEndpoints.id })
    .from(outboundEndpoints)
    .where(
      and(
        eq(outboundEndpoints.enabled, true),
        sql`(cardinality(${outboundEndpoints.eventTypes}) = 0 or ${type} = any(${outboundEndpoints.eventTypes}))`,
      ),
    );
  return rows.map((row) => row.id);
}

export async function insertEndpoint(db: DbOrTx, values: EndpointInsert): Promise<EndpointRow> {
  const [row] = await db.insert(outboundEndpoints).values(values).returning();
  return row as EndpointRow;
}

/** Writes `changes` to the endpoint and returns it as it is now (none if it is gone). */
export async function updateEndpoint(
  db: DbOrTx,
  id: string,
  changes: Partial<Omit<EndpointInsert, 'id'>>,
): Promise<EndpointRow | undefined> {
  const [row] = await db
    .update(outboundEndpoints)
    .set(changes)
    .where(eq(outboundEndpoints.id, id))
    .returning();
  return row;
}

/** Deletes the endpoint (its deliveries and attempts go with it). */
export async function deleteEndpoint(db: DbOrTx, id: string): Promise<void> {
  await db.delete(outboundEndpoints).where(eq(outboundEndpoints.id, id));
}

// The endpoint from config: at most one row, held to it by the unique index on `source = 'config'`.

export async function findConfigEndpoint(db: DbOrTx): Promise<EndpointRow | undefined> {
  const [row] = await db
    .select()
    .from(outboundEndpoints)
    .where(eq(outboundEndpoints.source, 'config'));
  return row;
}

/** Inserts the endpoint from config unless there is one already (then nothing changes). */
export async function insertConfigEndpointIfNone(
  db: DbOrTx,
  values: Omit<EndpointInsert, 'source'>,
): Promise<void> {
  await db
    .insert(outboundEndpoints)
    .values({ ...values, source: 'config' })
    .onConflictDoNothing({
      target: outboundEndpoints.source,
      where: sql`${outboundEndpoints.source} = 'config'`,
    });
}

/** Disables the endpoint from config, if it is enabled, giving `reason`. */
export async function disableConfigEndpoint(db: DbOrTx, reason: string): Promise<void> {
  await db
    .update(outboundEndpoints)
    .set({
      enabled: false,
      disabledReason: reason,
      disabledAt: new Date(),
      updatedAt: new Date(),
    })
    .where(and(eq(outboundEndpoints.source, 'config'), eq(outboundEndpoints.enabled, true)));
}

// Endpoint secrets, for key rotation

/** Endpoints holding a secret envelope not sealed under key `keyId`. */
export async function listEndpointSecretsNotUnder(
  db: DbOrTx,
  keyId: string,
): Promise<Array<{ id: string; secrets: string[] }>> {
  return db
    .select({ id: outboundEndpoints.id, secrets: outboundEndpoints.secretCiphertexts })
    .from(outboundEndpoints)
    .where(
      sql`exists (select 1 from unnest(${outboundEndpoints.secretCiphertexts}) s where s not like ${`v1.${keyId}.%`})`,
    );
}

/** Replaces the endpoint's secrets if it still holds `expected`; 1 if it did, else 0. */
export async function replaceEndpointSecrets(
  db: DbOrTx,
  id: string,
  expected: string[],
  secrets: string[],
): Promise<number> {
  const result = await db
    .update(outboundEndpoints)
    .set({ secretCiphertexts: secrets })
    .where(
      and(
        eq(outboundEndpoints.id, id),
        sql`${outboundEndpoints.secretCiphertexts} = ${sql.param(expected)}::text[]`,
      ),
    );
  return result.rowCount ?? 0;
}

// Events

export async function findEvent(db: DbOrTx, id: string): Promise<EventRow | undefined> {
  const [row] = await db.select().from(outboundEvents).where(eq(outboundEvents.id, id));
  return row;
}

/**
 * Newest first; a status or endpoint keeps events with a delivery in that status or to that
 * endpoint. `beforeSeq` is the sequence number of the previous page's last event.
 */
export async function listEvents(
  db: DbOrTx,
  filter: Omit<ListEventsQuery, 'limit' | 'cursor'>,
  page: { limit: number; beforeSeq: number | undefined },
): Promise<EventRow[]> {
  const where: SQL[] = [];
  if (filter.type) where.push(eq(outboundEvents.type, filter.type));
  if (filter.since) where.push(gte(outboundEvents.createdAt, new Date(filter.since)));
  if (filter.status || filter.endpointId) {
    const conditions: SQL[] = [sql`d.event_id = ${outboundEvents.id}`];
    if (filter.status) conditions.push(sql`d.status = ${filter.status}`);
    if (filter.endpointId) conditions.push(sql`d.endpoint_id = ${filter.endpointId}::uuid`);
    where.push(
      sql`exists (select 1 from outbound_deliveries d where ${sql.join(conditions, sql` and `)})`,
    );
  }
  if (page.beforeSeq !== undefined) where.push(lt(outboundEvents.seq, page.beforeSeq));
  return db
    .select()
    .from(outboundEvents)
    .where(and(...where))
    .orderBy(desc(outboundEvents.seq))
    .limit(page.limit);
}

// Deliveries and attempts

/** The deliveries of these events, oldest first, then by endpoint. */
export async function listDeliveriesOf(db: DbOrTx, eventIds: string[]): Promise<DeliveryRow[]> {
  return db
    .select()
    .from(outboundDeliveries)
    .where(inArray(outboundDeliveries.eventId, eventIds))
    .orderBy(asc(outboundDeliveries.createdAt), asc(outboundDeliveries.endpointId));
}

/** The attempts of these deliveries, in the order they were made. */
export async function listAttemptsOf(db: DbOrTx, deliveryIds: string[]): Promise<AttemptRow[]> {
  return db
    .select()
    .from(outboundAttempts)
    .where(inArray(outboundAttempts.deliveryId, deliveryIds))
    .orderBy(asc(outboundAttempts.id));
}

/**
 * Queues the event to these endpoints as a head of its line (`ready`): a new delivery each, or
 * the existing one starting over (pending, attempt count reset, due `now`; history kept).
 */
export async function upsertReadyDeliveries(
  db: DbOrTx,
  event: Pick<EventRow, 'id' | 'seq' | 'resourceKey'>,
  endpointIds: string[],
  now: Date,
): Promise<void> {
  await db
    .insert(outboundDeliveries)
    .values(
      endpointIds.map((endpointId) => ({
        eventId: event.id,
        endpointId,
        eventSeq: event.seq,
        resourceKey: event.resourceKey,
        ready: true,
      })),
    )
    .onConflictDoUpdate({
      target: [outboundDeliveries.eventId, outboundDeliveries.endpointId],
      set: { status: 'pending', attempts: 0, ready: true, nextAttemptAt: now, updatedAt: now },
    });
}

/** Makes the endpoint's pending and failed deliveries due now. */
export async function makeOpenDeliveriesDue(db: DbOrTx, endpointId: string): Promise<void> {
  await db
    .update(outboundDeliveries)
    .set({ nextAttemptAt: new Date() })
    .where(
      and(
        eq(outboundDeliveries.endpointId, endpointId),
        inArray(outboundDeliveries.status, ['pending', 'failed']),
      ),
    );
}

/**
 * Puts the endpoint's failed and dead deliveries created since `since` back to pending, due now,
 * attempt count reset and not ready (the line decides); returns their ids.
 */
export async function requeueFailedDeliveries(
  db: DbOrTx,
  endpointId: string,
  since: Date,
): Promise<Array<{ id: string }>> {
  return db
    .update(outboundDeliveries)
    .set({
      status: 'pending',
      attempts: 0,
      ready: false,
      nextAttemptAt: new Date(),
      updatedAt: new Date(),
    })
    .where(
      and(
        eq(outboundDeliveries.endpointId, endpointId),
        inArray(outboundDeliveries.status, ['failed', 'dead']),
        gte(outboundDeliveries.createdAt, since),
      ),
    )
    .returning({ id: outboundDeliveries.id });
}
