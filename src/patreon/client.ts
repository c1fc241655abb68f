import { createHash } from 'node:crypto';
import type { Dispatcher } from 'undici';
import { API_PREFIX, queries, queryString } from './endpoints.js';
import { PatreonError } from './errors.js';
import { badResponse, decodeMany, decodeOne, type PageInfo } from './json-api.js';
import { authorizeUrl, type OAuthClient, requestTokens, type TokenSet } from './oauth.js';
import { type Page, paginate } from './pagination.js';
import {
  createRateGovernor,
  type GovernorOptions,
  type Priority,
  patreonLimits,
  type RateGovernor,
} from './rate-governor.js';
import type {
  Campaign,
  Member,
  Post,
  ResourceOf,
  ResourceType,
  User,
  Webhook,
} from './resources.js';
import { type CallEvent, createTransport, type Response } from './transport.js';

export type PatreonClientOptions = OAuthClient & {
  governor?: RateGovernor;
  limits?: Partial<Pick<GovernorOptions, 'client' | 'token' | 'headroom'>>;
  dispatcher?: Dispatcher;
  timeouts?: { connectMs?: number; headersMs?: number; bodyMs?: number };
  retry?: { attempts?: number; baseDelayMs?: number; maxDelayMs?: number };
  rateLimitRetries?: number;
  /** Metrics hooks. */
  onCall?: (event: CallEvent) => void;
  onWait?: GovernorOptions['onWait'];
};

/** Whose token a call uses. `key` names its rate window (e.g. the connection id). */
export type Credentials = { accessToken: string; key?: string; priority?: Priority };

export type WebhookInput = { uri: string; triggers: readonly string[] };

export type MembersOptions = {
  pledgeHistory?: boolean;
  address?: boolean;
  /** Resume after this cursor (a sync's saved one). */
  cursor?: string;
  /** Members the earlier pages of this pass brought (see `paginate`). */
  alreadyFetched?: number;
};

/** A 2xx response's body as it came, for a caller that decodes it itself. */
export type RawBody = { text: string; contentType: unknown; endpoint: string };

const MEMBERS_ENDPOINT = '/campaigns/{id}/members';

const tokenKey = (credentials: Credentials) =>
  credentials.key ?? createHash('sha256').update(credentials.accessToken).digest('base64url');

/**
 * The one module that talks to Patreon: OAuth grants, API v2 reads, and webhook management,
 * each decoded into typed objects, paced by the rate governor.
 */
export function createPatreonClient(options: PatreonClientOptions) {
  const governor =
    options.governor ??
    createRateGovernor({ ...patreonLimits, ...options.limits, onWait: options.onWait });
  const transport = createTransport({
    baseUrl: options.baseUrl,
    governor,
    dispatcher: options.dispatcher,
    timeouts: options.timeouts,
    retry: options.retry,
    rateLimitRetries: options.rateLimitRetries,
    onCall: options.onCall,
  });

  async function api(
    credentials: Credentials,
    method: 'GET' | 'POST' | 'PATCH' | 'DELETE',
    endpoint: string,
    path: string,
    body?: unknown,
    raw = false,
  ): Promise<Response> {
    const response = await transport.send({
      raw,
      method,
      path: `${API_PREFIX}${path}`,
      endpoint,
      tokenKey: tokenKey(credentials),
      priority: credentials.priority,
      idempotent: method === 'GET' || method === 'DELETE',
      headers: {
        authorization: `Bearer ${credentials.accessToken}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (response.status >= 200 && response.status < 300) return response;
    throw apiError(response, endpoint);
  }

  async function one<T extends ResourceType>(
    credentials: Credentials,
    type: T,
    endpoint: string,
    path: string,
  ): Promise<ResourceOf[T]> {
    const response = await api(credentials, 'GET', endpoint, path);
    return decodeOne(response.body, type, endpoint);
  }

  async function many<T extends ResourceType>(
    credentials: Credentials,
    type: T,
    endpoint: string,
    path: string,
  ) {
    const response = await api(credentials, 'GET', endpoint, path);
    return decodeMany(response.body, type, endpoint);
  }

  const id = (value: string) => encodeURIComponent(value);
  const membersPath = (campaignId: string, opts: MembersOptions, cursor: string | undefined) =>
    `/campaigns/${id(campaignId)}/members${queryString(
      queries.members({
        pledgeHistory: opts.pledgeHistory ?? false,
        address: opts.address ?? false,
        cursor,
      }),
    )}`;

  return {
    governor,

    authorizeUrl: (request: { redirectUri: string; scopes: readonly string[]; state: string }) =>
      authorizeUrl(options, request),

    exchangeCode: (code: string, redirectUri: string): Promise<TokenSet> =>
      requestTokens(transport, options, {
        grant_type: 'authorization_code',
        code,
        redirect_uri: redirectUri,
      }),

    refreshTokens: (refreshToken: string): Promise<TokenSet> =>
      requestTokens(transport, options, {
        grant_type: 'refresh_token',
        refresh_token: refreshToken,
      }),

    /** The token's user; with `memberships`, their memberships with campaign and entitled tiers. */
    identity: (credentials: Credentials, opts: { memberships?: boolean } = {}): Promise<User> =>
      one(
        credentials,
        'user',
        '/identity',
        `/identity${queryString(queries.identity({ memberships: opts.memberships ?? false }))}`,
      ),

    /** Campaigns owned by the token's user (a list even for one campaign). */
    async campaigns(credentials: Credentials): Promise<Campaign[]> {
      const all: Campaign[] = [];
      for await (const page of paginate((cursor) =>
        many(
          credentials,
          'campaign',
          '/campaigns',
          `/campaigns${queryString({ ...queries.campaigns(), page: { cursor } })}`,
        ),
      )) {
        all.push(...page.items);
      }
      return all;
    },

    /** A campaign with its creator, tiers (and their benefits), benefits and goals. */
    campaign: (credentials: Credentials, campaignId: string): Promise<Campaign> =>
      one(
        credentials,
        'campaign',
        '/campaigns/{id}',
        `/campaigns/${id(campaignId)}${queryString(queries.campaign())}`,
      ),

    /** Members page by page at the largest page size; resume from a saved `cursor`. */
    members(
      credentials: Credentials,
      campaignId: string,
      opts: MembersOptions = {},
    ): AsyncGenerator<Page<Member>> {
      return paginate(
        (cursor) =>
          many(credentials, 'member', MEMBERS_ENDPOINT, membersPath(campaignId, opts, cursor)),
        opts,
      );
    },

    /**
     * As `members`, but each page's body is handed to `decode` as text, and each page carries
     * what `decode` returned (the sync decodes on a worker thread, off the event loop).
     */
    memberPages<P extends { items: { id: string }[]; page: PageInfo }>(
      credentials: Credentials,
      campaignId: string,
      opts: MembersOptions,
      decode: (body: RawBody) => Promise<P>,
    ) {
      return paginate<P['items'][number], P>(async (cursor) => {
        const path = membersPath(campaignId, opts, cursor);
        const response = await api(credentials, 'GET', MEMBERS_ENDPOINT, path, undefined, true);
        return decode({
          text: response.body as string,
          contentType: response.headers['content-type'],
          endpoint: MEMBERS_ENDPOINT,
        });
      }, opts);
    },

    member: (credentials: Credentials, memberId: string, opts: { address?: boolean } = {}) =>
      one(
        credentials,
        'member',
        '/members/{id}',
        `/members/${id(memberId)}${queryString(queries.member({ address: opts.address ?? false }))}`,
      ),

    posts(
      credentials: Credentials,
      campaignId: string,
      opts: { cursor?: string; alreadyFetched?: number } = {},
    ): AsyncGenerator<Page<Post>> {
      return paginate(
        (cursor) =>
          many(
            credentials,
            'post',
            '/campaigns/{id}/posts',
            `/campaigns/${id(campaignId)}/posts${queryString(queries.posts({ cursor }))}`,
          ),
        opts,
      );
    },

    post: (credentials: Credentials, postId: string): Promise<Post> =>
      one(credentials, 'post', '/posts/{id}', `/posts/${id(postId)}${queryString(queries.post())}`),

    /** Webhooks created by this client (docs/patreon-api.md §2: a client sees only its own). */
    async webhooks(credentials: Credentials): Promise<Webhook[]> {
      const all: Webhook[] = [];
      for await (const page of paginate((cursor) =>
        many(
          credentials,
          'webhook',
          '/webhooks',
          `/webhooks${queryString({ ...queries.webhooks(), page: { cursor } })}`,
        ),
      )) {
        all.push(...page.items);
      }
      return all;
    },

    /** Registers a webhook; Patreon answers 201 (or 200) with its `secret`, which we require. */
    async createWebhook(credentials: Credentials, campaignId: string, input: WebhookInput) {
      const endpoint = '/webhooks';
      const response = await api(credentials, 'POST', endpoint, '/webhooks', {
        data: {
          type: 'webhook',
          attributes: { triggers: input.triggers, uri: input.uri },
          relationships: { campaign: { data: { type: 'campaign', id: campaignId } } },
        },
      });
      const webhook = decodeOne(response.body, 'webhook', endpoint);
      if (!webhook.secret) throw badResponse(endpoint, 'data.attributes.secret', 'is missing');
      return webhook as Webhook & { secret: string };
    },

    async updateWebhook(
      credentials: Credentials,
      webhookId: string,
      changes: Partial<WebhookInput> & { paused?: boolean },
    ): Promise<Webhook> {
      const endpoint = '/webhooks/{id}';
      const response = await api(credentials, 'PATCH', endpoint, `/webhooks/${id(webhookId)}`, {
        data: { id: webhookId, type: 'webhook', attributes: changes },
      });
      return decodeOne(response.body, 'webhook', endpoint);
    },

    /** Deletes a webhook; one already gone counts as deleted (as patreon-wordpress does). */
    async deleteWebhook(credentials: Credentials, webhookId: string): Promise<void> {
      try {
        await api(credentials, 'DELETE', '/webhooks/{id}', `/webhooks/${id(webhookId)}`);
      } catch (error) {
        if (!(error instanceof PatreonError && error.code === 'PATREON_NOT_FOUND')) throw error;
      }
    },

    close: async () => {
      governor.close();
      await transport.close();
    },
  };
}

export type PatreonClient = ReturnType<typeof createPatreonClient>;

/** JSON:API error bodies (docs/patreon-api.md §8); only Patreon's `code_name` is echoed. */
function apiError(response: Response, endpoint: string): PatreonError {
  const first = (response.body as { errors?: { code_name?: unknown }[] } | undefined)?.errors?.[0];
  const name = typeof first?.code_name === 'string' ? ` (${first.code_name})` : '';
  const details = { httpStatus: response.status, endpoint };
  const detail = `${endpoint}: Patreon answered ${response.status}${name}`;
  switch (true) {
    case response.status === 401:
      return new PatreonError(
        'PATREON_UNAUTHORIZED',
        `${detail}: the token is invalid, expired or lacks a scope.`,
        details,
      );
    case response.status === 403:
      return new PatreonError('PATREON_FORBIDDEN', `${detail}.`, details);
    case response.status === 404 || response.status === 410:
      return new PatreonError('PATREON_NOT_FOUND', `${detail}.`, details);
    case response.status >= 500:
      return new PatreonError('PATREON_UNAVAILABLE', `${detail}.`, details);
    case response.status >= 400:
      return new PatreonError('PATREON_BAD_REQUEST', `${detail}.`, details);
    default:
      return new PatreonError('PATREON_BAD_RESPONSE', `${detail}.`, details);
  }
}
