import { hkdfSync } from 'node:crypto';
import cookie from '@fastify/cookie';
import type { FastifyReply } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Config } from '../config/config.js';
import { browserSecurityHeaders, sendHtmlPage } from '../http/html-page.js';
import type { FlowResult } from './oauth-flow.js';

const STATE_COOKIE = 'pgw_oauth_state';
const COOKIE_PATH = '/oauth/patreon';

const redirect = z.null().describe('Redirect (302); see the description for where.');
const page = {
  description: 'A plain HTML page explaining the problem (no trustworthy returnTo).',
  content: { 'text/html': { schema: z.string() } },
};

/** The two browser-facing steps of connecting an account. No API key: the ticket and state are the credentials. */
export const oauthRoutes: FastifyPluginAsyncZod<{ config: Config }> = async (app, { config }) => {
  // Only these routes read or set a cookie, so only their requests pay for parsing them. The
  // signing keys are derived from the token keys (HKDF), so they rotate with them.
  await app.register(cookie, {
    secret: config.tokenKeys.map((key) =>
      Buffer.from(hkdfSync('sha256', key.key, '', 'patreon-gateway oauth cookie', 32)).toString(
        'hex',
      ),
    ),
  });
  const secure = config.server.publicUrl.startsWith('https:');
  const ttlSeconds = config.oauth.stateTtlSeconds;

  const answer = (reply: FastifyReply, result: FlowResult) =>
    result.kind === 'redirect'
      ? browserSecurityHeaders(reply).redirect(result.location, 302)
      : sendHtmlPage(reply, result.status, result.title, result.message);

  app.get(
    '/oauth/patreon/start',
    {
      schema: {
        operationId: 'startPatreonOAuth',
        tags: ['oauth'],
        security: [],
        summary: 'Browser: begin connecting a Patreon account',
        description:
          'Open the `authorizeUrl` from `POST /v1/connections/authorize` in the user’s browser. Redeems the one-time ticket, binds the OAuth state to a signed HttpOnly cookie and redirects to Patreon’s consent page. An expired or used ticket redirects to `returnTo?error=ticket_invalid`.',
        querystring: z.object({ ticket: z.string().max(200).optional() }),
        response: { 302: redirect, 400: page },
      },
    },
    async (request, reply) => {
      const result = await app.connections.flow.start(request.query.ticket);
      if (result.kind === 'redirect' && result.state) {
        reply.setCookie(STATE_COOKIE, result.state, {
          signed: true,
          httpOnly: true,
          sameSite: 'lax',
          secure,
          path: COOKIE_PATH,
          maxAge: ttlSeconds,
        });
      }
      return answer(reply, result);
    },
  );

  app.get(
    '/oauth/patreon/callback',
    {
      schema: {
        operationId: 'patreonOAuthCallback',
        tags: ['oauth'],
        security: [],
        summary: 'Browser: Patreon redirects here after consent',
        description:
          'Register this URL (`PATREON_REDIRECT_URI`) with Patreon. Checks the state against the cookie, exchanges the code, stores the connection and redirects to `returnTo?connection=<id>`, or to `returnTo?error=<code>` with one of `access_denied`, `state_expired`, `state_used`, `browser_mismatch`, `patreon_error`.',
        querystring: z.object({
          code: z.string().max(2000).optional(),
          state: z.string().max(200).optional(),
          error: z.string().max(200).optional(),
        }),
        response: { 302: redirect, 400: page },
      },
    },
    async (request, reply) => {
      const cookie = request.cookies[STATE_COOKIE];
      const unsigned = cookie ? request.unsignCookie(cookie) : undefined;
      const result = await app.connections.flow.callback(
        request.query,
        unsigned?.valid ? (unsigned.value ?? undefined) : undefined,
      );
      reply.clearCookie(STATE_COOKIE, { path: COOKIE_PATH });
      return answer(reply, result);
    },
  );
};
