import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import type { Test } from 'tap';
import type { Database } from '../../src/db/database.js';
import { type EventRecord, recordEvents } from '../../src/events/record-event.js';
import { auth, build } from '../helper.js';

/** Fast settings: retries in milliseconds, a worker that polls often. */
export const FAST_EVENTS = {
  EVENTS_ALLOW_PRIVATE_URLS: 'true',
  EVENTS_RETRY_SCHEDULE: '50ms,100ms,150ms',
  EVENTS_POLL_INTERVAL_MS: '20',
  EVENTS_TIMEOUT_MS: '2000',
};

export async function buildEvents(
  t: Test,
  options: { env?: Record<string, string>; logger?: FastifyBaseLogger; database?: Database } = {},
) {
  return build(t, { ...options, env: { ...FAST_EVENTS, ...options.env } });
}

export type EndpointJson = {
  id: string;
  url: string;
  eventTypes: string[];
  enabled: boolean;
  disabledReason: string | null;
  failingSince: string | null;
  source: string;
  previousSecretsExpireAt: string | null;
  secret?: string;
};

export async function createEndpoint(
  app: FastifyInstance,
  body: { url: string; eventTypes?: string[]; enabled?: boolean; description?: string },
): Promise<EndpointJson & { secret: string }> {
  const response = await app.inject({
    method: 'POST',
    url: '/v1/event-endpoints',
    headers: auth(),
    payload: body,
  });
  if (response.statusCode !== 201) throw new Error(`create endpoint: ${response.body}`);
  return response.json();
}

let counter = 0;

/** A member event as the webhook applier records it (only what delivery needs). */
export function memberEvent(
  memberId: string,
  type: EventRecord['type'] = 'member.updated',
  extra: Record<string, unknown> = {},
): EventRecord {
  counter += 1;
  return {
    type,
    dedupeKey: `test:${type}:${memberId}:${counter}:${Math.random()}`,
    campaignId: '1234560',
    payload: { member: { id: memberId, n: counter, ...extra }, previous: null, change: 'test' },
  };
}

export const record = (app: FastifyInstance, events: EventRecord[]) =>
  app.database.db.transaction((tx) => recordEvents(tx, events));

export type EventJson = {
  id: string;
  type: string;
  deliveries: {
    endpointId: string;
    status: string;
    attemptCount: number;
    attempts: { statusCode: number | null; error: string | null }[];
  }[];
};

export async function listEvents(app: FastifyInstance, query = ''): Promise<EventJson[]> {
  const response = await app.inject({ url: `/v1/events?limit=200${query}`, headers: auth() });
  if (response.statusCode !== 200) throw new Error(`list events: ${response.body}`);
  return response.json().data;
}
