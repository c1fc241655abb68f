import { randomBytes } from 'node:crypto';

/** docs/patreon-api.md §9.1: the v2 triggers. */
export const TRIGGERS = [
  'members:create',
  'members:update',
  'members:delete',
  'members:pledge:create',
  'members:pledge:update',
  'members:pledge:delete',
  'posts:publish',
  'posts:update',
  'posts:delete',
] as const;
export type Trigger = (typeof TRIGGERS)[number];

export interface QueuedEvent {
  trigger: Trigger;
  /** The exact bytes to send; signed at send time. */
  body: string;
}

export interface WebhookRecord {
  id: string;
  clientId: string;
  campaignId: string;
  uri: string;
  triggers: Trigger[];
  secret: string;
  paused: boolean;
  numConsecutiveTimesFailed: number;
  lastAttemptedAt: number | null;
  /** Scopes of the token that created it: they decide email/address in payloads (docs/patreon-api.md §9.3). */
  scopes: string[];
  /** Events not yet delivered, oldest first; the head is the one being tried. */
  queue: QueuedEvent[];
}

export function createWebhookStore() {
  const webhooks = new Map<string, WebhookRecord>();
  // Webhook ids are small numeric strings, e.g. "3955" (docs/patreon-api.md §2.1).
  let nextId = 3955;

  return {
    create(
      input: Pick<WebhookRecord, 'clientId' | 'campaignId' | 'uri' | 'triggers' | 'scopes'>,
    ): WebhookRecord {
      const record: WebhookRecord = {
        ...input,
        id: String(nextId++),
        secret: randomBytes(32).toString('base64url'),
        paused: false,
        numConsecutiveTimesFailed: 0,
        lastAttemptedAt: null,
        queue: [],
      };
      webhooks.set(record.id, record);
      return record;
    },
    get: (id: string) => webhooks.get(id),
    delete: (id: string) => webhooks.delete(id),
    list: (): WebhookRecord[] => [...webhooks.values()],
    forEvent: (campaignId: string, trigger: Trigger): WebhookRecord[] =>
      [...webhooks.values()].filter(
        (w) => w.campaignId === campaignId && w.triggers.includes(trigger),
      ),
  };
}

export type WebhookStore = ReturnType<typeof createWebhookStore>;
