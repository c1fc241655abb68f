import { and, asc, desc, eq, gte, inArray, lt, type SQL, sql } from 'drizzle-orm';
import type { Db } from '../db/database.js';
import {
  outboundAttempts,
  outboundDeliveries,
  outboundEndpoints,
  outboundEvents,
} from '../db/schema/index.js';
import { cursorCodec, cursorParts } from '../shared/cursor.js';
import type { EventType } from '../shared/event-types.js';
import { toPage } from '../shared/pagination.js';
import {
  EventEndpointDisabledError,
  EventEndpointNotFoundError,
  EventNotFoundError,
} from './errors.js';
import type { DeliveryView, EventView, ListEventsQuery } from './schemas.js';

type EventRow = typeof outboundEvents.$inferSelect;

const iso = (date: Date | null) => date?.toISOString() ?? null;

/** Events, newest first: their sequence number. */
const eventCursor = cursorCodec('events', [cursorParts.int8]);

/** The host's view of recorded events and their deliveries; replay of one event. */
export function createEventService(deps: { db: Db; wakeWorker: () => void }) {
  const { db } = deps;

  async function deliveriesOf(eventIds: string[]): Promise<Map<string, DeliveryView[]>> {
    const byEvent = new Map<string, DeliveryView[]>();
    if (eventIds.length === 0) return byEvent;
    const deliveries = await db
      .select()
      .from(outboundDeliveries)
      .where(inArray(outboundDeliveries.eventId, eventIds))
      .orderBy(asc(outboundDeliveries.createdAt), asc(outboundDeliveries.endpointId));
    const attempts =
      deliveries.length === 0
        ? []
        : await db
            .select()
            .from(outboundAttempts)
            .where(
              inArray(
                outboundAttempts.deliveryId,
                deliveries.map((d) => d.id),
              ),
            )
            .orderBy(asc(outboundAttempts.id));
    const attemptsOf = new Map<string, DeliveryView['attempts']>();
    for (const attempt of attempts) {
      const list = attemptsOf.get(attempt.deliveryId) ?? [];
      list.push({
        attemptedAt: attempt.attemptedAt.toISOString(),
        statusCode: attempt.statusCode,
        error: attempt.error,
        durationMs: attempt.durationMs,
      });
      attemptsOf.set(attempt.deliveryId, list);
    }
    for (const delivery of deliveries) {
      const list = byEvent.get(delivery.eventId) ?? [];
      const open = delivery.status === 'pending' || delivery.status === 'failed';
      list.push({
        endpointId: delivery.endpointId,
        status: delivery.status,
        attemptCount: delivery.attempts,
        nextAttemptAt: open ? delivery.nextAttemptAt.toISOString() : null,
        lastAttemptAt: iso(delivery.lastAttemptAt),
        lastStatusCode: delivery.lastStatusCode,
        lastError: delivery.lastError,
        deliveredAt: iso(delivery.deliveredAt),
        attempts: attemptsOf.get(delivery.id) ?? [],
      });
      byEvent.set(delivery.eventId, list);
    }
    return byEvent;
  }

  const view = (row: EventRow, deliveries: DeliveryView[]): EventView => ({
    id: row.id,
    type: row.type as EventType,
    timestamp: row.occurredAt.toISOString(),
    createdAt: row.createdAt.toISOString(),
    resourceKey: row.resourceKey,
    campaignId: row.campaignId,
    connectionId: row.connectionId,
    externalUserId: row.externalUserId,
    deliveries,
  });

  async function find(id: string): Promise<EventRow> {
    const [row] = await db.select().from(outboundEvents).where(eq(outboundEvents.id, id));
    if (!row) throw new EventNotFoundError(`No event ${id}.`);
    return row;
  }

  async function detail(row: EventRow) {
    const deliveries = (await deliveriesOf([row.id])).get(row.id) ?? [];
    const data = row.externalUserId
      ? { ...row.payload, externalUserId: row.externalUserId }
      : row.payload;
    return { ...view(row, deliveries), data };
  }

  return {
    /** Newest first. */
    async list(query: ListEventsQuery) {
      const where: SQL[] = [];
      if (query.type) where.push(eq(outboundEvents.type, query.type));
      if (query.since) where.push(gte(outboundEvents.createdAt, new Date(query.since)));
      if (query.status || query.endpointId) {
        const conditions: SQL[] = [sql`d.event_id = ${outboundEvents.id}`];
        if (query.status) conditions.push(sql`d.status = ${query.status}`);
        if (query.endpointId) conditions.push(sql`d.endpoint_id = ${query.endpointId}::uuid`);
        where.push(
          sql`exists (select 1 from outbound_deliveries d where ${sql.join(conditions, sql` and `)})`,
        );
      }
      if (query.cursor) {
        const [seq] = eventCursor.decode(query.cursor);
        where.push(lt(outboundEvents.seq, Number(seq)));
      }
      const rows = await db
        .select()
        .from(outboundEvents)
        .where(and(...where))
        .orderBy(desc(outboundEvents.seq))
        .limit(query.limit + 1);
      const page = rows.slice(0, query.limit);
      const deliveries = await deliveriesOf(page.map((row) => row.id));
      return toPage(
        rows,
        query.limit,
        (row) => eventCursor.encode([String(row.seq)]),
        (row) => view(row, deliveries.get(row.id) ?? []),
      );
    },

    async get(id: string) {
      return detail(await find(id));
    },

    /**
     * Queues the event again: to one endpoint, or to every enabled endpoint whose filter matches
     * now. A delivery that exists starts over (attempt count reset, history kept).
     */
    async replay(id: string, endpointId?: string) {
      const event = await find(id);
      let endpointIds: string[];
      if (endpointId) {
        const [endpoint] = await db
          .select({ enabled: outboundEndpoints.enabled })
          .from(outboundEndpoints)
          .where(eq(outboundEndpoints.id, endpointId));
        if (!endpoint) throw new EventEndpointNotFoundError(`No event endpoint ${endpointId}.`);
        if (!endpoint.enabled) {
          throw new EventEndpointDisabledError(
            `Endpoint ${endpointId} is disabled; enable it first.`,
          );
        }
        endpointIds = [endpointId];
      } else {
        const matching = await db
          .select({ id: outboundEndpoints.id })
          .from(outboundEndpoints)
          .where(
            and(
              eq(outboundEndpoints.enabled, true),
              sql`(cardinality(${outboundEndpoints.eventTypes}) = 0 or ${event.type} = any(${outboundEndpoints.eventTypes}))`,
            ),
          );
        endpointIds = matching.map((row) => row.id);
      }
      if (endpointIds.length > 0) {
        const now = new Date();
        await db
          .insert(outboundDeliveries)
          .values(
            endpointIds.map((endpoint) => ({
              eventId: event.id,
              endpointId: endpoint,
              eventSeq: event.seq,
              resourceKey: event.resourceKey,
              // Asked for by the host: it may go ahead of what is queued after it, never
              // alongside an earlier open one (the claim checks).
              ready: true,
            })),
          )
          .onConflictDoUpdate({
            target: [outboundDeliveries.eventId, outboundDeliveries.endpointId],
            set: {
              status: 'pending',
              attempts: 0,
              ready: true,
              nextAttemptAt: now,
              updatedAt: now,
            },
          });
        deps.wakeWorker();
      }
      return detail(event);
    },
  };
}

export type EventService = ReturnType<typeof createEventService>;
