import type { TokenCipher } from '../crypto/token-cipher.js';
import type { Db } from '../db/database.js';
import { findWebhookSecret } from './repository.js';
import { verifySignature } from './signature.js';

type Entry = { secret: string; campaignId: string; loadedAt: number };

/** How long a secret that failed to verify stays trusted before we look for a newer one. */
const RELOAD_AFTER_MS = 1000;
/** How long any cached entry is used: a webhook deleted by another instance stops taking deliveries. */
const TTL_MS = 60_000;

/**
 * The secrets of our webhooks, opened once and kept in memory. Another instance may have
 * re-created a webhook (new secret): a signature that fails against a cached secret makes us
 * re-read the row once (at most once a second per webhook), so a stale cache cannot reject
 * good deliveries for long and bad signatures cannot hammer the database.
 */
export function createWebhookSecrets(deps: { db: Db; cipher: TokenCipher }) {
  const cache = new Map<string, Entry>();

  async function load(id: string): Promise<Entry | undefined> {
    const row = await findWebhookSecret(deps.db, id);
    if (!row?.secret || row.deletedAt) {
      cache.delete(id);
      return undefined;
    }
    const entry = {
      secret: deps.cipher.open(row.secret, id),
      campaignId: row.campaignId,
      loadedAt: Date.now(),
    };
    cache.set(id, entry);
    return entry;
  }

  return {
    /** `unknown`: no live webhook of ours has this id (or it has no secret yet). */
    async verify(
      id: string,
      body: Buffer,
      signature: unknown,
    ): Promise<'ok' | 'unknown' | 'bad-signature'> {
      const cached = cache.get(id);
      let entry = cached && Date.now() - cached.loadedAt < TTL_MS ? cached : await load(id);
      if (!entry) return 'unknown';
      if (verifySignature(entry.secret, body, signature)) return 'ok';
      if (Date.now() - entry.loadedAt < RELOAD_AFTER_MS) return 'bad-signature';
      entry = await load(id);
      if (!entry) return 'unknown';
      return verifySignature(entry.secret, body, signature) ? 'ok' : 'bad-signature';
    },
    /** After this instance changed a webhook's secret or deleted it. */
    forget(id: string) {
      cache.delete(id);
    },
  };
}

export type WebhookSecrets = ReturnType<typeof createWebhookSecrets>;
