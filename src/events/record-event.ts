import type { DbOrTx } from '../db/database.js';
import { outboundEvents } from '../db/schema/index.js';

export type EventType =
  | 'connection.revoked'
  | 'member.created'
  | 'member.updated'
  | 'member.deleted'
  | 'pledge.created'
  | 'pledge.updated'
  | 'pledge.deleted'
  | 'entitlement.granted'
  | 'entitlement.changed'
  | 'entitlement.revoked'
  | 'payment.declined'
  | 'payment.recovered'
  | 'post.published'
  | 'post.updated'
  | 'post.deleted'
  | 'sync.completed'
  | 'sync.failed';

/**
 * Records a normalised event for the host, in the caller's transaction, so the event exists if
 * and only if the change that caused it was committed. The dedupe key makes a replayed cause a
 * no-op. Delivery to the host's endpoints is a separate worker.
 */
export type EventRecord = {
  type: EventType;
  dedupeKey: string;
  payload: Record<string, unknown>;
  occurredAt?: Date;
  connectionId?: string;
  campaignId?: string;
  externalUserId?: string;
};

export function recordEvent(db: DbOrTx, event: EventRecord): Promise<void> {
  return recordEvents(db, [event]);
}

/** Several events in one statement (in the given order), each deduplicated as above. */
export async function recordEvents(db: DbOrTx, events: EventRecord[]): Promise<void> {
  if (events.length === 0) return;
  const now = new Date();
  await db
    .insert(outboundEvents)
    .values(events.map((event) => ({ ...event, occurredAt: event.occurredAt ?? now })))
    .onConflictDoNothing({ target: outboundEvents.dedupeKey });
}
