import { randomUUID } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import type { TokenVault } from '../connections/token-vault.js';
import type { TokenCipher } from '../crypto/token-cipher.js';
import type { Db } from '../db/database.js';
import { withLease } from '../db/lease.js';
import type { PatreonClient } from '../patreon/client.js';
import type { Webhook } from '../patreon/resources.js';
import {
  findCampaignWebhook,
  insertWebhook,
  listConnectionCampaignIds,
  updateReconciledWebhook,
} from './repository.js';
import type { WebhookSecrets } from './secrets.js';
import { TRIGGERS } from './triggers.js';

export type ReconcileAction = 'created' | 'recreated' | 'updated' | 'unpaused' | 'unchanged';
export type ReconcileOutcome = {
  campaignId: string;
  webhookId: string;
  action: ReconcileAction;
  orphansDeleted: number;
};

const sameSet = (a: readonly string[], b: readonly string[]) =>
  a.length === b.length && [...a].sort().join() === [...b].sort().join();

/**
 * Makes Patreon's webhooks match what we need: one per campaign of a creator connection, with
 * every trigger we handle, pointing at `PUBLIC_URL/webhooks/patreon/{our id}`, not paused. Fixes
 * whatever differs (missing at Patreon, other triggers or URI, paused after failed deliveries:
 * un-pausing makes Patreon resend what it queued) and removes webhooks of ours that no row
 * knows (left by a create whose answer was lost). One instance at a time per connection.
 */
export function createWebhookRegistration(deps: {
  db: Db;
  vault: TokenVault;
  patreon: PatreonClient;
  cipher: TokenCipher;
  secrets: WebhookSecrets;
  publicUrl: string;
  log: FastifyBaseLogger;
}) {
  const { db, patreon } = deps;
  const base = `${deps.publicUrl.replace(/\/$/, '')}/webhooks/patreon/`;
  const uriOf = (id: string) => `${base}${id}`;

  async function reconcileCampaign(
    connectionId: string,
    campaignId: string,
    remote: Webhook[],
  ): Promise<ReconcileOutcome> {
    const row = await findCampaignWebhook(db, campaignId);
    const ourId = row?.id ?? randomUUID();
    const mine = remote.filter((hook) => hook.campaign?.id === campaignId);
    const current = mine.find((hook) => row?.patreonWebhookId === hook.id);

    // Ours at Patreon that no row of ours knows: a create whose answer we never stored.
    let orphansDeleted = 0;
    for (const hook of mine) {
      if (hook === current || !hook.uri?.startsWith(base)) continue;
      await deps.vault.withAccessToken(connectionId, (c) => patreon.deleteWebhook(c, hook.id));
      orphansDeleted++;
    }

    if (!current) {
      if (!row) {
        await insertWebhook(db, {
          id: ourId,
          connectionId,
          campaignId,
          uri: uriOf(ourId),
          triggers: [...TRIGGERS],
        });
      }
      const created = await deps.vault.withAccessToken(connectionId, (c) =>
        patreon.createWebhook(c, campaignId, { uri: uriOf(ourId), triggers: TRIGGERS }),
      );
      await updateReconciledWebhook(db, ourId, {
        patreonWebhookId: created.id,
        connectionId,
        uri: uriOf(ourId),
        triggers: [...TRIGGERS],
        secretCiphertext: deps.cipher.seal(created.secret, ourId),
        paused: created.paused ?? false,
        numConsecutiveTimesFailed: created.numConsecutiveTimesFailed ?? 0,
        lastAttemptedAt: created.lastAttemptedAt ?? null,
      });
      deps.secrets.forget(ourId);
      const action = row?.patreonWebhookId ? 'recreated' : 'created';
      deps.log.info({ campaignId, webhookId: ourId, action }, 'Patreon webhook registered');
      return { campaignId, webhookId: ourId, action, orphansDeleted };
    }

    const changes: { uri?: string; triggers?: string[]; paused?: boolean } = {};
    if (current.uri !== uriOf(ourId)) changes.uri = uriOf(ourId);
    if (!sameSet(current.triggers ?? [], TRIGGERS)) changes.triggers = [...TRIGGERS];
    if (current.paused) changes.paused = false;
    let state = current;
    if (Object.keys(changes).length > 0) {
      state = await deps.vault.withAccessToken(connectionId, (c) =>
        patreon.updateWebhook(c, current.id, changes),
      );
    }
    await updateReconciledWebhook(db, ourId, {
      connectionId,
      uri: uriOf(ourId),
      triggers: [...TRIGGERS],
      paused: state.paused ?? false,
      numConsecutiveTimesFailed: state.numConsecutiveTimesFailed ?? 0,
      lastAttemptedAt: state.lastAttemptedAt ?? null,
    });
    const action: ReconcileAction =
      changes.paused === false
        ? 'unpaused'
        : Object.keys(changes).length > 0
          ? 'updated'
          : 'unchanged';
    if (action !== 'unchanged') {
      deps.log.info({ campaignId, webhookId: ourId, action }, 'Patreon webhook repaired');
    }
    return { campaignId, webhookId: ourId, action, orphansDeleted };
  }

  return {
    uriOf,
    /** Reconciles the webhooks of every campaign of a creator connection (or just one). */
    reconcile(connectionId: string, onlyCampaignId?: string): Promise<ReconcileOutcome[]> {
      return withLease(
        db,
        `webhooks:${connectionId}`,
        { ttlMs: 120_000, waitMs: 60_000 },
        async () => {
          const owned = await listConnectionCampaignIds(db, connectionId);
          const remote = await deps.vault.withAccessToken(connectionId, (c) => patreon.webhooks(c));
          const outcomes: ReconcileOutcome[] = [];
          for (const { id } of owned) {
            if (onlyCampaignId && id !== onlyCampaignId) continue;
            outcomes.push(await reconcileCampaign(connectionId, id, remote));
          }
          return outcomes;
        },
      );
    },
  };
}

export type WebhookRegistration = ReturnType<typeof createWebhookRegistration>;
