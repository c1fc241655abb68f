import type { FastifyBaseLogger } from 'fastify';
import type { TokenCipher } from '../crypto/token-cipher.js';
import type { Db, DbOrTx } from '../db/database.js';
import { recordEvent } from '../events/record-event.js';
import type { Metrics } from '../metrics/metrics.js';
import type { Credentials, PatreonClient } from '../patreon/client.js';
import { isPatreonError } from '../patreon/errors.js';
import type { TokenSet } from '../patreon/oauth.js';
import type { Priority } from '../patreon/rate-governor.js';
import {
  ConnectionDisconnectedError,
  ConnectionNotFoundError,
  ConnectionRefreshFailedError,
  ConnectionRevokedError,
} from './errors.js';
import { findConnectionRow, lockConnection, updateConnection } from './repository.js';

type ConnectionRow = NonNullable<Awaited<ReturnType<typeof findConnectionRow>>>;

/** A 401 right after a refresh means a missing scope, not a stale token: don't refresh again. */
const FORCED_REFRESH_COOLDOWN_MS = 60_000;

/** After n failed refreshes, wait 30 s · 2^(n-1), at most an hour, before trying Patreon again. */
export const refreshBackoffMs = (failures: number) =>
  Math.min(3_600_000, 30_000 * 2 ** Math.max(0, failures - 1));

/**
 * The only way code gets a Patreon token. Tokens are sealed at rest with the connection id as
 * associated data. Refreshes happen ahead of expiry, once per connection at a time across every
 * process (a row lock, plus one in-flight promise per process), never overwrite good tokens with
 * a failed answer, mark the connection revoked on `invalid_grant`, and back off when failing.
 */
export function createTokenVault(deps: {
  db: Db;
  cipher: TokenCipher;
  patreon: PatreonClient;
  refreshMarginMs: number;
  log: FastifyBaseLogger;
  metrics?: Pick<Metrics, 'tokenRefreshes'>;
  now?: () => number;
}) {
  const { db, cipher, patreon } = deps;
  const now = deps.now ?? Date.now;
  const inflight = new Map<string, Promise<string>>();

  const seal = (connectionId: string, tokens: TokenSet) => ({
    accessTokenCiphertext: cipher.seal(tokens.accessToken, connectionId),
    refreshTokenCiphertext: cipher.seal(tokens.refreshToken, connectionId),
    tokenExpiresAt: tokens.expiresAt,
  });

  function usable(row: ConnectionRow): Error | undefined {
    if (row.status === 'revoked')
      return new ConnectionRevokedError(
        `Connection ${row.id} was revoked at Patreon; the user must connect again.`,
      );
    if (row.status === 'disconnected' || !row.accessTokenCiphertext) {
      return new ConnectionDisconnectedError(`Connection ${row.id} is disconnected.`);
    }
    return undefined;
  }

  const expiresSoon = (row: ConnectionRow) =>
    !row.tokenExpiresAt || row.tokenExpiresAt.getTime() - deps.refreshMarginMs <= now();
  const stillValid = (row: ConnectionRow) =>
    row.tokenExpiresAt !== null && row.tokenExpiresAt.getTime() > now() + 30_000;

  type Outcome = { token?: string; error?: Error };

  async function refreshLocked(
    tx: DbOrTx,
    connectionId: string,
    force: boolean,
    staleToken: string | undefined,
  ): Promise<Outcome> {
    const row = await lockConnection(tx, connectionId);
    if (!row) return { error: new ConnectionNotFoundError(`No connection ${connectionId}.`) };
    const unusable = usable(row);
    if (unusable) return { error: unusable };
    const current = cipher.open(row.accessTokenCiphertext as string, connectionId);

    // Someone refreshed while we waited for the lock, or (forced) just did: use theirs.
    if (!force && !expiresSoon(row)) return { token: current };
    if (force && staleToken !== undefined && current !== staleToken) return { token: current };
    if (
      force &&
      row.lastRefreshedAt &&
      now() - row.lastRefreshedAt.getTime() < FORCED_REFRESH_COOLDOWN_MS
    ) {
      return { token: current };
    }
    const fallback = stillValid(row) ? current : undefined;
    if (
      row.failureCount > 0 &&
      row.lastErrorAt &&
      now() < row.lastErrorAt.getTime() + refreshBackoffMs(row.failureCount)
    ) {
      deps.metrics?.tokenRefreshes.backoff.inc();
      return {
        token: fallback,
        error: new ConnectionRefreshFailedError(
          `Refreshing connection ${connectionId} is failing (${row.lastErrorCode}); backing off.`,
        ),
      };
    }

    let tokens: TokenSet;
    try {
      tokens = await patreon.refreshTokens(
        cipher.open(row.refreshTokenCiphertext as string, connectionId),
      );
    } catch (error) {
      const code = isPatreonError(error) ? error.code : 'REFRESH_ERROR';
      if (isPatreonError(error, 'PATREON_INVALID_GRANT')) {
        await updateConnection(tx, connectionId, {
          status: 'revoked',
          accessTokenCiphertext: null,
          refreshTokenCiphertext: null,
          lastErrorCode: code,
          lastErrorAt: new Date(now()),
        });
        await recordEvent(tx, {
          type: 'connection.revoked',
          dedupeKey: `connection.revoked:${connectionId}:${row.updatedAt.toISOString()}`,
          connectionId,
          externalUserId: row.externalUserId,
          payload: {
            connectionId,
            externalUserId: row.externalUserId,
            role: row.role,
            patreonUserId: row.patreonUserId,
            reason: 'invalid_grant',
          },
        });
        deps.log.warn({ connectionId }, 'Patreon revoked the grant; connection marked revoked');
        deps.metrics?.tokenRefreshes.revoked.inc();
        return {
          error: new ConnectionRevokedError(
            `Connection ${connectionId} was revoked at Patreon; the user must connect again.`,
          ),
        };
      }
      await updateConnection(tx, connectionId, {
        status: fallback ? row.status : 'refresh_failed',
        failureCount: row.failureCount + 1,
        lastErrorCode: code,
        lastErrorAt: new Date(now()),
      });
      deps.log.warn(
        { connectionId, code, failures: row.failureCount + 1 },
        'token refresh failed; stored tokens kept',
      );
      deps.metrics?.tokenRefreshes.failed.inc();
      return {
        token: fallback,
        error: new ConnectionRefreshFailedError(
          `Refreshing connection ${connectionId} failed (${code}).`,
          { cause: error },
        ),
      };
    }
    await updateConnection(tx, connectionId, {
      ...seal(connectionId, tokens),
      scopes: tokens.scopes.length > 0 ? tokens.scopes : row.scopes,
      status: 'active',
      lastRefreshedAt: new Date(now()),
      failureCount: 0,
      lastErrorCode: null,
      lastErrorAt: null,
    });
    deps.log.info({ connectionId }, 'token refreshed');
    deps.metrics?.tokenRefreshes.refreshed.inc();
    return { token: tokens.accessToken };
  }

  /** Refreshes (or adopts a refresh another caller made) and returns the current access token. */
  function refresh(
    connectionId: string,
    options: { force?: boolean; staleToken?: string } = {},
  ): Promise<string> {
    const running = inflight.get(connectionId);
    if (running) return running;
    const promise = db
      .transaction((tx) =>
        refreshLocked(tx, connectionId, options.force ?? false, options.staleToken),
      )
      .then((outcome) => {
        if (outcome.token !== undefined && (!outcome.error || !options.force)) return outcome.token;
        throw outcome.error;
      })
      .finally(() => inflight.delete(connectionId));
    inflight.set(connectionId, promise);
    return promise;
  }

  async function accessTokenFor(connectionId: string): Promise<string> {
    const row = await findConnectionRow(db, connectionId);
    if (!row) throw new ConnectionNotFoundError(`No connection ${connectionId}.`);
    const unusable = usable(row);
    if (unusable) throw unusable;
    if (expiresSoon(row)) return refresh(connectionId);
    return cipher.open(row.accessTokenCiphertext as string, connectionId);
  }

  return {
    seal,

    refresh,

    /**
     * Runs `fn` with the connection's credentials. On a 401 from Patreon it refreshes once and
     * retries once; revoked or disconnected connections fail fast without calling Patreon.
     */
    async withAccessToken<T>(
      connectionId: string,
      fn: (credentials: Credentials) => Promise<T>,
      options: { priority?: Priority } = {},
    ): Promise<T> {
      const accessToken = await accessTokenFor(connectionId);
      try {
        return await fn({ accessToken, key: connectionId, priority: options.priority });
      } catch (error) {
        if (!isPatreonError(error, 'PATREON_UNAUTHORIZED')) throw error;
        const fresh = await refresh(connectionId, { force: true, staleToken: accessToken });
        if (fresh === accessToken) throw error;
        return fn({ accessToken: fresh, key: connectionId, priority: options.priority });
      }
    },
  };
}

export type TokenVault = ReturnType<typeof createTokenVault>;
