import { randomBytes } from 'node:crypto';
import { oauthErrors } from './errors.js';

/** One OAuth connection: a user's grant to the client and every token rotated from it. */
export interface Lineage {
  id: string;
  kind: 'user' | 'creator';
  clientId: string;
  userId: string;
  scopes: string[];
  refreshes: number;
  revoked: boolean;
}

export interface TokenResponse {
  access_token: string;
  refresh_token: string;
  expires_in: number;
  scope: string;
  token_type: 'Bearer';
  version: string;
}

interface AuthorizationCode {
  clientId: string;
  redirectUri: string;
  userId: string;
  scopes: string[];
  expiresAt: number;
}

export interface PendingAuthorization {
  clientId: string;
  redirectUri: string;
  scopes: string[];
  state: string | undefined;
  expiresAt: number;
}

const CODE_TTL_MS = 10 * 60_000;

function opaque(bytes = 24): string {
  return randomBytes(bytes).toString('base64url');
}

export function createTokenStore(clock: () => number, tokenTtlSeconds: () => number) {
  const lineages = new Map<string, Lineage>();
  const access = new Map<string, { lineageId: string; expiresAt: number }>();
  const refresh = new Map<string, string>();
  const codes = new Map<string, AuthorizationCode>();
  const pending = new Map<string, PendingAuthorization>();
  const currentPair = new Map<string, TokenResponse>();
  /** Every token string ever handed out, so tests can prove none of them leaks anywhere. */
  const issuedTokens: string[] = [];
  let lineageCounter = 0;

  function issue(lineage: Lineage): TokenResponse {
    const ttl = tokenTtlSeconds();
    const pair: TokenResponse = {
      access_token: opaque(),
      refresh_token: opaque(),
      expires_in: ttl,
      scope: lineage.scopes.join(' '),
      token_type: 'Bearer',
      // docs/patreon-api.md §1.4: an undocumented field seen in real responses.
      version: '0.0.1',
    };
    access.set(pair.access_token, { lineageId: lineage.id, expiresAt: clock() + ttl * 1000 });
    issuedTokens.push(pair.access_token, pair.refresh_token);
    refresh.set(pair.refresh_token, lineage.id);
    currentPair.set(lineage.id, pair);
    return pair;
  }

  function startLineage(
    kind: Lineage['kind'],
    clientId: string,
    userId: string,
    scopes: string[],
  ): Lineage {
    const lineage: Lineage = {
      id: `conn-${++lineageCounter}`,
      kind,
      clientId,
      userId,
      scopes,
      refreshes: 0,
      revoked: false,
    };
    lineages.set(lineage.id, lineage);
    return lineage;
  }

  /** Finds the lineage an access token, refresh token or lineage id belongs to. */
  function lineageOf(tokenOrId: string): Lineage | undefined {
    const id = lineages.has(tokenOrId)
      ? tokenOrId
      : (access.get(tokenOrId)?.lineageId ?? refresh.get(tokenOrId));
    return id === undefined ? undefined : lineages.get(id);
  }

  return {
    issued(): readonly string[] {
      return issuedTokens;
    },

    startAuthorization(request: Omit<PendingAuthorization, 'expiresAt'>): string {
      const id = opaque(12);
      pending.set(id, { ...request, expiresAt: clock() + CODE_TTL_MS });
      return id;
    },

    /** Consumes a pending consent request (single use, like the code it becomes). */
    takeAuthorization(id: string): PendingAuthorization | undefined {
      const request = pending.get(id);
      pending.delete(id);
      return request && request.expiresAt > clock() ? request : undefined;
    },

    issueCode(grant: Omit<AuthorizationCode, 'expiresAt'>): string {
      const code = opaque(18);
      codes.set(code, { ...grant, expiresAt: clock() + CODE_TTL_MS });
      return code;
    },

    /** docs/patreon-api.md §1.3/§1.6: single-use codes; a bad, reused or expired code is `invalid_grant`. */
    redeemCode(code: string, clientId: string, redirectUri: string): TokenResponse {
      const grant = codes.get(code);
      codes.delete(code);
      if (
        !grant ||
        grant.expiresAt <= clock() ||
        grant.clientId !== clientId ||
        grant.redirectUri !== redirectUri
      ) {
        throw oauthErrors.invalidGrant();
      }
      return issue(startLineage('user', clientId, grant.userId, grant.scopes));
    },

    /** docs/patreon-api.md §1.5 and the sandbox table: the old refresh token dies at once. */
    refresh(refreshToken: string, clientId: string): TokenResponse {
      const lineage = lineageOf(refreshToken);
      if (
        !lineage ||
        !refresh.has(refreshToken) ||
        lineage.revoked ||
        lineage.clientId !== clientId
      ) {
        throw oauthErrors.invalidGrant();
      }
      refresh.delete(refreshToken);
      lineage.refreshes++;
      return issue(lineage);
    },

    issueCreatorToken(clientId: string, userId: string, scopes: string[]): TokenResponse {
      return issue(startLineage('creator', clientId, userId, scopes));
    },

    /** The creator lineage's newest pair, as the developer portal would show it. */
    currentCreatorToken(): TokenResponse | undefined {
      for (const lineage of lineages.values()) {
        if (lineage.kind === 'creator' && !lineage.revoked) return currentPair.get(lineage.id);
      }
      return undefined;
    },

    authenticate(accessToken: string): Lineage | undefined {
      const entry = access.get(accessToken);
      if (!entry || entry.expiresAt <= clock()) return undefined;
      const lineage = lineages.get(entry.lineageId);
      return lineage && !lineage.revoked ? lineage : undefined;
    },

    /** Expires every access token of the lineage; its refresh token still works. */
    expire(tokenOrId: string): Lineage | undefined {
      const lineage = lineageOf(tokenOrId);
      if (!lineage) return undefined;
      for (const entry of access.values())
        if (entry.lineageId === lineage.id) entry.expiresAt = clock();
      return lineage;
    },

    /** Kills the whole lineage: access and refresh tokens alike. */
    revoke(tokenOrId: string): Lineage | undefined {
      const lineage = lineageOf(tokenOrId);
      if (lineage) lineage.revoked = true;
      return lineage;
    },

    lineages: (): Lineage[] => [...lineages.values()],
  };
}

export type TokenStore = ReturnType<typeof createTokenStore>;
