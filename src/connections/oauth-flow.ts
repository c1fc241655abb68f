import { createHash, randomBytes } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import type { Config } from '../config/config.js';
import type { Db } from '../db/database.js';
import type { ConnectionRole } from '../db/schema/index.js';
import type { EntitlementReview } from '../members/entitlement-review.js';
import type { PatreonClient } from '../patreon/client.js';
import { isPatreonError } from '../patreon/errors.js';
import type { PatreonScope } from '../patreon/oauth.js';
import type { Member } from '../patreon/resources.js';
import type { Clock } from '../shared/clock.js';
import { ReturnToNotAllowedError } from './errors.js';
import { storeIdentity } from './identity-store.js';
import {
  claimState,
  deleteStaleStates,
  findStateByTicket,
  insertOAuthState,
  linkStateToConnection,
  redeemTicket,
  updateConnection,
  upsertConnection,
} from './repository.js';
import type { TokenVault } from './token-vault.js';

export const defaultScopes: Record<ConnectionRole, PatreonScope[]> = {
  creator: [
    'identity',
    'identity[email]',
    'campaigns',
    'campaigns.members',
    'campaigns.members[email]',
    'campaigns.posts',
    'w:campaigns.webhook',
  ],
  patron: ['identity', 'identity[email]', 'identity.memberships'],
};

/** Codes appended as `?error=` to `returnTo` when a connection attempt fails. */
export type OAuthErrorCode =
  | 'access_denied'
  | 'ticket_invalid'
  | 'state_expired'
  | 'state_used'
  | 'browser_mismatch'
  | 'patreon_error';

export type FlowResult =
  | { kind: 'redirect'; location: string }
  /** No trustworthy returnTo: show a plain page instead of redirecting anywhere. */
  | { kind: 'page'; status: number; title: string; message: string };

const hash = (value: string) => createHash('sha256').update(value).digest('base64url');
const secret = () => randomBytes(32).toString('base64url');

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

export function isAllowedReturnTo(config: Config, returnTo: string): boolean {
  if (!URL.canParse(returnTo)) return false;
  const url = new URL(returnTo);
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return false;
  if (url.username || url.password) return false;
  const allowlist = config.oauth.returnToAllowlist;
  if (allowlist.length === 0)
    return config.patreon.mode === 'sandbox' && LOOPBACK.has(url.hostname);
  // An encoded slash, backslash or dot in the path could be decoded into another path by the
  // host's server after our prefix check.
  if (/%(2f|5c|2e)/i.test(url.pathname)) return false;
  return allowlist.some((entry) => {
    const allowed = new URL(entry);
    // The prefix ends at a segment boundary: `/settings` allows `/settings/x`, not `/settings-x`.
    const prefix = allowed.pathname.endsWith('/') ? allowed.pathname : `${allowed.pathname}/`;
    return (
      url.origin === allowed.origin &&
      (url.pathname === allowed.pathname || url.pathname.startsWith(prefix))
    );
  });
}

function withParam(returnTo: string, name: string, value: string): string {
  const url = new URL(returnTo);
  url.searchParams.set(name, value);
  return url.toString();
}

/**
 * The browser side of connecting a Patreon account: a one-time ticket from the host, a state
 * bound to a cookie, the consent page at Patreon, and the callback that exchanges the code.
 */
export function createOAuthFlow(deps: {
  db: Db;
  config: Config;
  patreon: PatreonClient;
  vault: TokenVault;
  log: FastifyBaseLogger;
  /** The member pipeline's review: a new link changes the host user's answers. */
  entitlements: EntitlementReview;
  clock: Clock;
  /** When a new patron connection's memberships are next read (see membership-refresh.ts). */
  scheduleRefresh: (
    memberships: Member[],
    now: Date,
  ) => { membershipsRefreshedAt: Date; membershipsDueAt: Date };
  /** Called after a creator connection is stored: the seam for sync and webhook registration. */
  onCreatorConnected: (connectionId: string) => Promise<void>;
}) {
  const { db, config, patreon } = deps;
  const fail = (returnTo: string, code: OAuthErrorCode): FlowResult => ({
    kind: 'redirect',
    location: withParam(returnTo, 'error', code),
  });

  return {
    async authorize(input: {
      externalUserId: string;
      role: ConnectionRole;
      returnTo: string;
      scopes?: PatreonScope[] | undefined;
    }) {
      if (!isAllowedReturnTo(config, input.returnTo)) {
        throw new ReturnToNotAllowedError(
          'returnTo must start with one of the configured RETURN_TO_ALLOWLIST prefixes.',
        );
      }
      // Housekeeping where states are made: long-expired ones explain nothing any more.
      await deleteStaleStates(db);
      const ticket = secret();
      const expiresAt = new Date(Date.now() + config.oauth.stateTtlSeconds * 1000);
      const scopes = [...new Set([...defaultScopes[input.role], ...(input.scopes ?? [])])];
      await insertOAuthState(db, {
        ticketHash: hash(ticket),
        externalUserId: input.externalUserId,
        role: input.role,
        scopes,
        returnTo: input.returnTo,
        expiresAt,
      });
      return {
        authorizeUrl: `${config.server.publicUrl}/oauth/patreon/start?ticket=${ticket}`,
        expiresAt: expiresAt.toISOString(),
        scopes,
      };
    },

    /** Redeems the ticket once; returns Patreon's consent URL and the state for the cookie. */
    async start(ticket: string | undefined): Promise<FlowResult & { state?: string }> {
      const state = secret();
      const row = ticket ? await redeemTicket(db, hash(ticket), hash(state)) : undefined;
      if (!row) {
        const known = ticket ? await findStateByTicket(db, hash(ticket)) : undefined;
        if (known) return fail(known.returnTo, 'ticket_invalid');
        return {
          kind: 'page',
          status: 400,
          title: 'This link is not valid',
          message: 'The connect link is unknown or malformed. Go back to the app and start again.',
        };
      }
      return {
        kind: 'redirect',
        state,
        location: patreon.authorizeUrl({
          redirectUri: config.patreon.redirectUri,
          scopes: row.scopes,
          state,
        }),
      };
    },

    async callback(
      query: { code?: string | undefined; state?: string | undefined; error?: string | undefined },
      cookieState: string | undefined,
    ): Promise<FlowResult> {
      const claim = query.state ? await claimState(db, hash(query.state)) : undefined;
      const row = claim?.row;
      if (!claim || !row) {
        return {
          kind: 'page',
          status: 400,
          title: 'This sign-in link is not valid',
          message:
            'The sign-in could not be matched to a request from the app. Go back to the app and start again.',
        };
      }
      if (!claim.claimed) return fail(row.returnTo, 'state_used');
      if (row.expiresAt.getTime() <= Date.now()) return fail(row.returnTo, 'state_expired');
      if (!cookieState || cookieState !== query.state)
        return fail(row.returnTo, 'browser_mismatch');
      if (query.error || !query.code) return fail(row.returnTo, 'access_denied');

      try {
        const tokens = await patreon.exchangeCode(query.code, config.patreon.redirectUri);
        const patron = row.role === 'patron';
        const user = await patreon.identity(
          { accessToken: tokens.accessToken, priority: 'interactive' },
          { memberships: patron },
        );
        const connectionId = await db.transaction(async (tx) => {
          const now = deps.clock();
          await storeIdentity(tx, user, patron, now);
          const id = await upsertConnection(tx, {
            externalUserId: row.externalUserId,
            role: row.role,
            patreonUserId: user.id,
            scopes: tokens.scopes.length > 0 ? tokens.scopes : row.scopes,
          });
          await updateConnection(tx, id, {
            ...deps.vault.seal(id, tokens),
            ...(patron ? deps.scheduleRefresh(user.memberships ?? [], now) : {}),
          });
          await linkStateToConnection(tx, row.id, id);
          await deps.entitlements.externalUser(tx, row.externalUserId, `connection:${id}`);
          return id;
        });
        deps.log.info({ connectionId, role: row.role }, 'Patreon account connected');
        if (row.role === 'creator') {
          await deps.onCreatorConnected(connectionId).catch((error: unknown) => {
            deps.log.error({ err: error, connectionId }, 'connection follow-up failed');
          });
        }
        return { kind: 'redirect', location: withParam(row.returnTo, 'connection', connectionId) };
      } catch (error) {
        deps.log.warn(
          {
            code: isPatreonError(error) ? error.code : undefined,
            err: isPatreonError(error) ? undefined : error,
          },
          'connecting a Patreon account failed',
        );
        return fail(row.returnTo, 'patreon_error');
      }
    },
  };
}

export type OAuthFlow = ReturnType<typeof createOAuthFlow>;
