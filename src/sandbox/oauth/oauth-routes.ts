import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { oauthErrors } from '../world/errors.js';
import { OWN_CAMPAIGN_ID, OWN_CREATOR_ID } from '../world/seed-ids.js';
import type { SandboxState } from '../world/state.js';
import { consentPage, errorPage } from './consent-page.js';
import { parseScopes } from './scopes.js';

/** Users offered on the consent page: the client owner, then the first seeded patrons. */
const CONSENT_PATRONS = 10;

function stringParams(...sources: unknown[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const source of sources) {
    if (!source || typeof source !== 'object') continue;
    for (const [key, value] of Object.entries(source)) {
      if (typeof value === 'string') out[key] = value;
      else if (typeof value === 'number' || typeof value === 'boolean') out[key] = String(value);
    }
  }
  return out;
}

/** Constant-time comparison of equal-length digests, whatever the inputs' lengths. */
function sameSecret(given: string, expected: string): boolean {
  const digest = (value: string) => createHash('sha256').update(value).digest();
  return timingSafeEqual(digest(given), digest(expected));
}

function membershipHint(state: SandboxState, userId: string): string {
  const member = state.world.store
    .membershipsOf(userId)
    .find((m) => m.campaignId === OWN_CAMPAIGN_ID);
  if (!member) return 'not a member';
  const status = member.attributes.patron_status;
  const tier = state.world.catalog.tiers.get(member.tierIds[0] ?? '')?.attributes.title;
  const label = status === null ? 'follower' : status.replace('_', ' ');
  return [label, tier, member.attributes.last_charge_status].filter(Boolean).join(', ');
}

function htmlError(reply: FastifyReply, status: number, title: string, detail: string) {
  return reply.code(status).type('text/html; charset=utf-8').send(errorPage(title, detail));
}

function redirectWith(
  reply: FastifyReply,
  redirectUri: string,
  params: Record<string, string | undefined>,
) {
  const target = new URL(redirectUri);
  for (const [key, value] of Object.entries(params))
    if (value !== undefined) target.searchParams.set(key, value);
  return reply.redirect(target.toString(), 302);
}

export function registerOAuthRoutes(app: FastifyInstance, state: SandboxState): void {
  const { config } = state;

  // docs/patreon-api.md §1.2: the browser leg. A bad client or redirect_uri shows an error page and never redirects.
  app.get('/oauth2/authorize', async (request, reply) => {
    const q = stringParams(request.query);
    if (q.client_id !== config.clientId)
      return htmlError(
        reply,
        400,
        'Unknown client',
        'The client_id is not a registered OAuth client.',
      );
    if (!q.redirect_uri || !config.redirectUris.includes(q.redirect_uri)) {
      return htmlError(
        reply,
        400,
        'Invalid redirect_uri',
        'The redirect_uri is not registered for this client.',
      );
    }
    if (q.response_type !== 'code')
      return redirectWith(reply, q.redirect_uri, {
        error: 'unsupported_response_type',
        state: q.state,
      });
    const parsed = parseScopes(q.scope);
    if ('unknown' in parsed)
      return redirectWith(reply, q.redirect_uri, { error: 'invalid_scope', state: q.state });

    const world = state.world;
    const owner = world.store.user(OWN_CREATOR_ID);
    const users = [
      ...(owner ? [{ user: owner, hint: 'creator, owns the client' }] : []),
      ...world.store
        .sampleUsers(CONSENT_PATRONS)
        .map((user) => ({ user, hint: membershipHint(state, user.id) })),
    ];
    const requestId = world.tokens.startAuthorization({
      clientId: q.client_id,
      redirectUri: q.redirect_uri,
      scopes: parsed.scopes,
      state: q.state,
    });
    return reply
      .type('text/html; charset=utf-8')
      .header('cache-control', 'no-store')
      .send(
        consentPage({
          requestId,
          decisionUrl: 'authorize/decision',
          clientName: 'Sandbox client',
          redirectHost: new URL(q.redirect_uri).host,
          scopes: parsed.scopes,
          users,
        }),
      );
  });

  // Sandbox-internal: the consent form posts here; Deny follows the sandbox table (error=access_denied).
  app.post('/oauth2/authorize/decision', async (request, reply) => {
    const form = stringParams(request.body);
    const pending = state.world.tokens.takeAuthorization(form.request_id ?? '');
    if (!pending)
      return htmlError(
        reply,
        400,
        'Request expired',
        'This authorization request is unknown, used or expired. Start again.',
      );
    if (form.decision !== 'allow')
      return redirectWith(reply, pending.redirectUri, {
        error: 'access_denied',
        state: pending.state,
      });
    const user = state.world.store.user(form.user_id ?? '');
    if (!user) return htmlError(reply, 400, 'Unknown user', 'Pick one of the listed users.');
    const code = state.world.tokens.issueCode({
      clientId: pending.clientId,
      redirectUri: pending.redirectUri,
      userId: user.id,
      scopes: pending.scopes,
    });
    return redirectWith(reply, pending.redirectUri, { code, state: pending.state });
  });

  // docs/patreon-api.md §1.3: parameters in the form body or the query string; unknown ones (is_creator_access) ignored.
  app.post('/api/oauth2/token', async (request, reply) => {
    state.counters.tokenRequest();
    const p = stringParams(request.query, request.body);
    if (!p.grant_type) throw oauthErrors.invalidRequest('Missing grant_type parameter.');
    if (p.grant_type !== 'authorization_code' && p.grant_type !== 'refresh_token')
      throw oauthErrors.unsupportedGrantType();
    if (!p.client_id) throw oauthErrors.invalidRequest('Missing client_id parameter.');
    if (
      p.client_id !== config.clientId ||
      !sameSecret(p.client_secret ?? '', config.clientSecret)
    ) {
      throw oauthErrors.invalidClient();
    }

    const tokens = state.world.tokens;
    let body: ReturnType<typeof tokens.refresh>;
    if (p.grant_type === 'authorization_code') {
      if (!p.code) throw oauthErrors.invalidRequest('Missing code parameter.');
      if (!p.redirect_uri) throw oauthErrors.invalidRequest('Missing redirect_uri parameter.');
      body = tokens.redeemCode(p.code, p.client_id, p.redirect_uri);
    } else {
      if (!p.refresh_token) throw oauthErrors.invalidRequest('Missing refresh_token parameter.');
      body = tokens.refresh(p.refresh_token, p.client_id);
    }
    return reply.header('cache-control', 'no-store').send(body);
  });
}
