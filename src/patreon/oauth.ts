import { z } from 'zod';
import { PatreonError } from './errors.js';
import { badResponse } from './json-api.js';
import type { Response, Transport } from './transport.js';

/** docs/patreon-api.md §1.8 (plus the live scopes PATS lists). */
export const patreonScopes = [
  'identity',
  'identity[email]',
  'identity.memberships',
  'campaigns',
  'w:campaigns.webhook',
  'campaigns.members',
  'campaigns.members[email]',
  'campaigns.members.address',
  'campaigns.posts',
  'campaigns.lives',
  'w:campaigns.lives',
] as const;
export type PatreonScope = (typeof patreonScopes)[number];

export type TokenSet = {
  accessToken: string;
  refreshToken: string;
  expiresAt: Date;
  scopes: string[];
};

const tokenResponse = z.object({
  access_token: z.string().min(1),
  refresh_token: z.string().min(1),
  expires_in: z.coerce.number().positive(),
  scope: z.string().nullish(),
  token_type: z.string().nullish(),
});

export type OAuthClient = { baseUrl: string; clientId: string; clientSecret: string };

/** Browser URL of Patreon's consent page (docs/patreon-api.md §1.2). */
export function authorizeUrl(
  client: OAuthClient,
  request: { redirectUri: string; scopes: readonly string[]; state: string },
): string {
  const query = new URLSearchParams({
    response_type: 'code',
    client_id: client.clientId,
    redirect_uri: request.redirectUri,
    scope: request.scopes.join(' '),
    state: request.state,
  });
  return `${client.baseUrl}/oauth2/authorize?${query}`;
}

/**
 * Token grants go in a form body with the client credentials (§1.3). They are never retried
 * after a network failure or 5xx: Patreon may have rotated the refresh token already.
 */
export async function requestTokens(
  transport: Transport,
  client: OAuthClient,
  grant: Record<string, string>,
  requestedAt = Date.now(),
): Promise<TokenSet> {
  const endpoint = '/api/oauth2/token';
  const response = await transport.send({
    method: 'POST',
    path: endpoint,
    endpoint,
    // The token endpoint counts against the client's window only; a fixed key keeps one shared window.
    tokenKey: 'oauth-token-endpoint',
    priority: 'interactive',
    idempotent: false,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      ...grant,
      client_id: client.clientId,
      client_secret: client.clientSecret,
    }).toString(),
  });
  if (response.status !== 200) throw tokenError(response, endpoint);
  const parsed = tokenResponse.safeParse(response.body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw badResponse(endpoint, issue?.path.join('.') ?? '', issue?.message ?? 'is invalid');
  }
  const body = parsed.data;
  return {
    accessToken: body.access_token,
    refreshToken: body.refresh_token,
    expiresAt: new Date(requestedAt + body.expires_in * 1000),
    scopes: (body.scope ?? '').split(/\s+/).filter(Boolean),
  };
}

/** OAuth-style bodies (`{"error":"invalid_grant"}`, §1.6), never echoing what we sent. */
function tokenError(response: Response, endpoint: string): PatreonError {
  const error = (response.body as { error?: unknown } | undefined)?.error;
  const details = { httpStatus: response.status, endpoint };
  if (error === 'invalid_grant') {
    return new PatreonError(
      'PATREON_INVALID_GRANT',
      'The code or refresh token is invalid, expired or already used.',
      details,
    );
  }
  if (response.status >= 500) {
    return new PatreonError(
      'PATREON_UNAVAILABLE',
      `Patreon's token endpoint answered ${response.status}.`,
      details,
    );
  }
  if (response.status === 401 || error === 'invalid_client' || error === 'access_denied') {
    return new PatreonError(
      'PATREON_UNAUTHORIZED',
      `Patreon refused the client credentials (${String(error ?? response.status)}).`,
      details,
    );
  }
  return new PatreonError(
    'PATREON_BAD_REQUEST',
    `Patreon rejected the token request (${String(error ?? response.status)}).`,
    details,
  );
}
