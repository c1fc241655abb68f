import { sql } from 'drizzle-orm';
import type { DbOrTx } from '../db/database.js';
import type { EventType } from '../shared/event-types.js';

export type { EventType } from '../shared/event-types.js';

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
  /**
   * What the event is about; an endpoint receives one resource's events in recording order.
   * Default: `member:<id>` / `post:<id>` from the payload, `connection:<id>` for connection
   * events, `sync:<connection>:<campaign>` for sync events.
   */
  resourceKey?: string;
};

export function recordEvent(db: DbOrTx, event: EventRecord): Promise<void> {
  return recordEvents(db, [event]);
}

const idIn = (payload: Record<string, unknown>, key: string): string | undefined => {
  const inner = payload[key];
  if (inner && typeof inner === 'object' && 'id' in inner) {
    const id = (inner as { id: unknown }).id;
    if (typeof id === 'string' || typeof id === 'number') return String(id);
  }
  return undefined;
};

function resourceKeyOf(event: EventRecord): string | null {
  if (event.resourceKey) return event.resourceKey;
  const member = idIn(event.payload, 'member');
  if (member) return `member:${member}`;
  const post = idIn(event.payload, 'post');
  if (post) return `post:${post}`;
  if (event.type.startsWith('connection.') && event.connectionId) {
    return `connection:${event.connectionId}`;
  }
  if (event.type.startsWith('sync.')) {
    return `sync:${event.connectionId ?? ''}:${event.campaignId ?? ''}`;
  }
  return null;
}

/** The member's Patreon user, to find the host user who connected it as a patron. */
function patreonUserOf(payload: Record<string, unknown>): string | null {
  const member = payload.member as { patreonUserId?: unknown } | undefined;
  return typeof member?.patreonUserId === 'string' ? member.patreonUserId : null;
}

/**
 * Several events in one statement (in the given order), each deduplicated as above, and fanned
 * out to the host's endpoints in the same statement: one `outbound_deliveries` row per enabled
 * endpoint whose type filter matches.
 *
 * Fan-out here rather than in a worker that follows new events: a follower needs a watermark,
 * and `seq`/`created_at` are taken before commit, so a transaction committing after a later one
 * would slip under it (or the follower must wait out every open transaction). Here the deliveries
 * commit with their event, whoever records it, with no lag and no extra polling.
 *
 * `externalUserId` is filled in, when the caller did not give it, from the patron connection of
 * the member's Patreon user (the host user who proved that membership).
 */
export async function recordEvents(db: DbOrTx, events: EventRecord[]): Promise<void> {
  if (events.length === 0) return;
  const now = new Date();
  const rows = events.map((event, ord) => ({
    ord,
    type: event.type,
    dedupe_key: event.dedupeKey,
    campaign_id: event.campaignId ?? null,
    connection_id: event.connectionId ?? null,
    external_user_id: event.externalUserId ?? null,
    patreon_user_id: patreonUserOf(event.payload),
    resource_key: resourceKeyOf(event),
    payload: event.payload,
    occurred_at: (event.occurredAt ?? now).toISOString(),
  }));
  await db.execute(sql`
    with input as (
      select * from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) as x(
        ord int, type text, dedupe_key text, campaign_id text, connection_id uuid,
        external_user_id text, patreon_user_id text, resource_key text, payload jsonb,
        occurred_at timestamptz)
    ),
    inserted as (
      insert into outbound_events
        (type, dedupe_key, campaign_id, connection_id, external_user_id, resource_key, payload,
         occurred_at)
      select type, dedupe_key, campaign_id, connection_id,
        coalesce(external_user_id, (
          select c.external_user_id from connections c
          where c.patreon_user_id = input.patreon_user_id and c.role = 'patron'
          order by (c.status = 'active') desc, c.created_at desc
          limit 1)),
        resource_key, payload, occurred_at
      from input
      order by ord
      on conflict (dedupe_key) do nothing
      returning id, seq, type, resource_key
    )
    insert into outbound_deliveries (event_id, endpoint_id, event_seq, resource_key, ready)
    select inserted.id, endpoint.id, inserted.seq, inserted.resource_key,
      -- Head of its line: the first of its resource here, with nothing of it still open there.
      inserted.resource_key is null or (
        row_number() over (partition by endpoint.id, inserted.resource_key order by inserted.seq) = 1
        and not exists (
          select 1 from outbound_deliveries open
          where open.endpoint_id = endpoint.id and open.resource_key = inserted.resource_key
            and open.status in ('pending', 'failed')))
    from inserted
    join outbound_endpoints endpoint on endpoint.enabled
      and (cardinality(endpoint.event_types) = 0 or inserted.type = any(endpoint.event_types))`);
}
