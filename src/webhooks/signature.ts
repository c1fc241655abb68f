import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Patreon signs the exact body bytes: lowercase hex HMAC-MD5 keyed by the webhook's secret
 * (docs/patreon-api.md §9.2). Compared in constant time; anything not 32 hex digits is simply wrong.
 */
export function verifySignature(secret: string, body: Buffer, signature: unknown): boolean {
  if (typeof signature !== 'string' || !/^[0-9a-fA-F]{32}$/.test(signature)) return false;
  const expected = createHmac('md5', secret).update(body).digest();
  return timingSafeEqual(expected, Buffer.from(signature, 'hex'));
}

/** The same delivery (webhook, trigger and bytes) always gets the same key: a redelivery is a duplicate. */
export const dedupeKey = (webhookId: string, event: string, body: Buffer): string =>
  createHash('sha256')
    .update(webhookId)
    .update('\n')
    .update(event)
    .update('\n')
    .update(body)
    .digest('hex');
