import type { Db } from '../db/database.js';
import { cursorCodec, cursorParts } from '../shared/cursor.js';
import type { EventType } from '../shared/event-types.js';
import { toPage } from '../shared/pagination.js';
import {
  EventEndpointDisabledError,
  EventEndpointNotFoundError,
  EventNotFoundError,
} from './errors.js';
import {
  type EventRow,
  findEndpointEnabled,
  findEvent,
  listAttemptsOf,
  listDeliveriesOf,
  listEndpointIdsFor,
  listEvents,
  upsertReadyDeliveries,
} from './repository.js';
import type { DeliveryView, EventView, ListEventsQuery } from './schemas.js';

const iso = (date: Date | null) => date?.toISOString() ?? null;

/** Events, newest first: their sequence number. */
const eventCursor = cursorCodec('events', [cursorParts.int8]);

/** The host's view of recorded events and their deliveries; replay of one event. */
export function createEventService(deps: { db: Db; wakeWorker: () => void }) {
  const { db } = deps;

  async function deliveriesOf(eventIds: string[]): Promise<Map<string, DeliveryView[]>> {
    const byEvent = new Map<string, DeliveryView[]>();
    if (eventIds.length === 0) return byEvent;
    const deliveries = await listDeliveriesOf(db, eventIds);
    const attempts =
      deliveries.length === 0
        ? []
        : await listAttemptsOf(
            db,
            deliveries.map((d) => d.id),
          );
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
    const row = await findEvent(db, id);
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
      const { limit, cursor, ...filter } = query;
      const beforeSeq = cursor ? Number(eventCursor.decode(cursor)[0]) : undefined;
      const rows = await listEvents(db, filter, { limit: limit + 1, beforeSeq });
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
        const endpoint = await findEndpointEnabled(db, endpointId);
        if (!endpoint) throw new EventEndpointNotFoundError(`No event endpoint ${endpointId}.`);
        if (!endpoint.enabled) {
          throw new EventEndpointDisabledError(
            `Endpoint ${endpointId} is disabled; enable it first.`,
          );
        }
        endpointIds = [endpointId];
      } else {
        endpointIds = await listEndpointIdsFor(db, event.type);
      }
      if (endpointIds.length > 0) {
        // Ready: asked for by the host, it may go ahead of what is queued after it, never
        // alongside an earlier open one (the claim checks).
        await upsertReadyDeliveries(db, event, endpointIds, new Date());
        deps.wakeWorker();
      }
      return detail(event);
    },
  };
}

export type EventService = ReturnType<typeof createEventService>;
