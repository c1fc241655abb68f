/** Every event type the gateway sends to the host (architecture item 7). */
export const EVENT_TYPES = [
  'member.created',
  'member.updated',
  'member.deleted',
  'pledge.created',
  'pledge.updated',
  'pledge.deleted',
  'entitlement.granted',
  'entitlement.changed',
  'entitlement.revoked',
  'payment.declined',
  'payment.recovered',
  'post.published',
  'post.updated',
  'post.deleted',
  'connection.revoked',
  'sync.completed',
  'sync.failed',
] as const;

export type EventType = (typeof EVENT_TYPES)[number];
