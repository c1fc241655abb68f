import { and, eq, inArray, isNull, sql } from 'drizzle-orm';
import type { FastifyBaseLogger } from 'fastify';
import type { Db } from '../db/database.js';
import { campaigns, members, patreonWebhooks, syncJobs } from '../db/schema/index.js';
import { announceCampaignChanges } from '../entitlements/changes.js';
import { recordEvent } from '../events/record-event.js';
import type { EntitlementReview } from '../members/entitlement-review.js';
import type { PatreonClient } from '../patreon/client.js';
import { cursorCodec, cursorParts } from '../shared/cursor.js';
import { toPage } from '../shared/pagination.js';
import { ConnectionNotFoundError } from './errors.js';
import {
  type ConnectionRow,
  findConnection,
  listConnections,
  updateConnection,
} from './repository.js';
import type { ConnectionView, ListConnectionsQuery } from './schemas.js';
import type { TokenVault } from './token-vault.js';

/** Connections, newest first: (created_at, id). */
const connectionCursor = cursorCodec('connections', [cursorParts.timestamptz, cursorParts.uuid]);

export function createConnectionsService(deps: {
  db: Db;
  vault: TokenVault;
  patreon: PatreonClient;
  log: FastifyBaseLogger;
  /** The member pipeline's review: unlinking (or purging) changes the host user's answers. */
  entitlements: EntitlementReview;
}) {
  const { db } = deps;

  async function get(id: string): Promise<ConnectionView> {
    const row = await findConnection(db, id);
    if (!row) throw new ConnectionNotFoundError(`No connection ${id}.`);
    return toView(row);
  }

  return {
    async list(query: ListConnectionsQuery) {
      const { limit, cursor, ...filter } = query;
      const after = cursor === undefined ? undefined : connectionCursor.decode(cursor);
      const rows = await listConnections(db, filter, { limit: limit + 1, after });
      return toPage(
        rows,
        limit,
        (row) => connectionCursor.encode([row.createdAtKey, row.connection.id]),
        toView,
      );
    },

    get,

    /** Refreshes now (even if the token is fresh) and returns the updated connection. */
    async refresh(id: string): Promise<ConnectionView> {
      await get(id);
      await deps.vault.refresh(id, { force: true });
      return get(id);
    },

    /**
     * Disconnects: deletes our Patreon webhooks (creators), cancels pending sync jobs and forgets
     * the tokens. With `purge`, also deletes the data synced through this connection.
     */
    async disconnect(id: string, purge: boolean): Promise<void> {
      const row = await findConnection(db, id);
      if (!row) throw new ConnectionNotFoundError(`No connection ${id}.`);
      const { connection } = row;
      if (connection.role === 'creator' && connection.status !== 'disconnected') {
        const webhooks = await db
          .select({ id: patreonWebhooks.id, patreonId: patreonWebhooks.patreonWebhookId })
          .from(patreonWebhooks)
          .where(and(eq(patreonWebhooks.connectionId, id), isNull(patreonWebhooks.deletedAt)));
        for (const webhook of webhooks) {
          if (!webhook.patreonId) continue;
          // Best effort: a revoked token cannot delete; Patreon pauses webhooks that fail anyway.
          await deps.vault
            .withAccessToken(id, (credentials) =>
              deps.patreon.deleteWebhook(credentials, webhook.patreonId as string),
            )
            .catch((error: unknown) => {
              deps.log.warn({ err: error, connectionId: id }, 'could not delete a Patreon webhook');
            });
        }
        if (webhooks.length > 0) {
          await db
            .update(patreonWebhooks)
            .set({ deletedAt: sql`now()`, updatedAt: sql`now()` })
            .where(
              inArray(
                patreonWebhooks.id,
                webhooks.map((w) => w.id),
              ),
            );
        }
      }
      await db.transaction(async (tx) => {
        await tx
          .update(syncJobs)
          .set({ status: 'cancelled', finishedAt: sql`now()`, updatedAt: sql`now()` })
          .where(
            and(
              eq(syncJobs.connectionId, id),
              inArray(syncJobs.status, ['queued', 'running', 'waiting']),
            ),
          );
        if (connection.status !== 'disconnected' && connection.status !== 'revoked') {
          // The host disconnected it: the same event as a grant Patreon revoked, so every
          // consumer of the stream learns that this connection no longer answers for its user.
          await recordEvent(tx, {
            type: 'connection.revoked',
            dedupeKey: `connection.revoked:${id}:disconnected`,
            connectionId: id,
            externalUserId: connection.externalUserId,
            payload: {
              connectionId: id,
              externalUserId: connection.externalUserId,
              role: connection.role,
              patreonUserId: connection.patreonUserId,
              reason: 'disconnected',
            },
          });
        }
        await updateConnection(tx, id, {
          status: 'disconnected',
          accessTokenCiphertext: null,
          refreshTokenCiphertext: null,
          disconnectedAt: connection.disconnectedAt ?? new Date(),
        });
        const cause = `connection:${id}`;
        if (purge && connection.role === 'creator') {
          const owned = await tx
            .select({ id: campaigns.id })
            .from(campaigns)
            .where(eq(campaigns.connectionId, id));
          // Everything of these campaigns goes (cascades): one notification, not one per row.
          await announceCampaignChanges(
            tx,
            owned.map((campaign) => campaign.id),
          );
          await tx.delete(campaigns).where(eq(campaigns.connectionId, id));
          for (const campaign of owned) await deps.entitlements.campaign(tx, campaign.id, cause);
        } else if (purge) {
          await tx
            .delete(members)
            .where(
              and(eq(members.userId, connection.patreonUserId), eq(members.lastSource, 'identity')),
            );
        }
        await deps.entitlements.externalUser(tx, connection.externalUserId, cause);
      });
      deps.log.info({ connectionId: id, purge }, 'connection disconnected');
    },
  };
}

export type ConnectionsService = ReturnType<typeof createConnectionsService>;

const iso = (date: Date | null) => date?.toISOString() ?? null;

function toView({ connection: c, user }: ConnectionRow): ConnectionView {
  return {
    id: c.id,
    externalUserId: c.externalUserId,
    role: c.role,
    status: c.status,
    scopes: c.scopes,
    patreonUser: user,
    tokenExpiresAt: iso(c.tokenExpiresAt),
    lastRefreshedAt: iso(c.lastRefreshedAt),
    lastError:
      c.lastErrorCode && c.lastErrorAt
        ? { code: c.lastErrorCode, at: c.lastErrorAt.toISOString() }
        : null,
    createdAt: c.createdAt.toISOString(),
    updatedAt: c.updatedAt.toISOString(),
  };
}
