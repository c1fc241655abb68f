import type { FastifyInstance, FastifyRequest } from 'fastify';
import { apiErrors } from '../world/errors.js';
import type { CampaignRecord } from '../world/model.js';
import type { SandboxState } from '../world/state.js';
import { callerOf, requireScope, viewerOf } from './api-guard.js';
import type { JsonApiQuery } from './json-api.js';
import {
  buildDocument,
  decodeCursor,
  encodeCursor,
  includes,
  nextLink,
  parseQuery,
} from './json-api.js';
import type { Viewer } from './resources.js';
import { campaignResource, memberResource, postResource, userResource } from './resources.js';

const V2 = '/api/oauth2/v2';

/** docs/patreon-api.md §2: top-level `include` values per endpoint. */
const CAMPAIGN_INCLUDES = ['tiers', 'creator', 'benefits', 'goals'];
const MEMBER_INCLUDES = [
  'address',
  'campaign',
  'currently_entitled_tiers',
  'user',
  'pledge_history',
];
const POST_INCLUDES = ['user', 'campaign'];

/** Sandbox table: default page[count] 20; over the cap → clamp (docs/patreon-api.md §5). */
const DEFAULT_PAGE = 20;
const MEMBERS_CAP = 1000;
const MEMBERS_WITH_HISTORY_CAP = 500;
const POSTS_CAP = 1000;

export function registerApiRoutes(api: FastifyInstance, state: SandboxState): void {
  function pageSize(query: JsonApiQuery, cap: number): number {
    return state.quirks.ignorePageCount
      ? DEFAULT_PAGE
      : Math.min(query.pageCount ?? DEFAULT_PAGE, cap);
  }

  /** `meta.pagination` always; `links.next` only while there is a next page (or the lastPageKeepsCursor quirk). */
  function paging(
    viewer: Viewer,
    query: JsonApiQuery,
    path: string,
    total: number,
    next: number | null,
    reached: number,
  ) {
    const position = next ?? (state.quirks.lastPageKeepsCursor ? reached : null);
    const cursor = position === null ? null : encodeCursor(position);
    return {
      ...(cursor === null
        ? {}
        : { links: { next: nextLink(viewer.baseUrl, path, query.params, cursor) } }),
      meta: { pagination: { cursors: { next: cursor }, total } },
    };
  }

  /** Campaign data is for its creator only. */
  function ownCampaign(request: FastifyRequest, id: string): CampaignRecord {
    const campaign = state.world.catalog.campaigns.get(id);
    if (!campaign) throw apiErrors.notFound(`No campaign ${id}.`);
    if (campaign.creatorId !== callerOf(request).userId)
      throw apiErrors.forbidden('You do not have access to this campaign.');
    return campaign;
  }

  api.get('/identity', async (request) => {
    const caller = callerOf(request);
    requireScope(caller, 'identity');
    const query = parseQuery(request.url, 'user', ['memberships', 'campaign']);
    const viewer = viewerOf(state, request);
    const user = state.world.store.user(caller.userId);
    if (!user) throw apiErrors.notFound('The user of this token no longer exists.');
    // docs/patreon-api.md §3: the identity sample's self link is `.../v2/user/<id>`.
    return buildDocument(userResource(user, viewer), query, {
      links: { self: `${viewer.baseUrl}${V2}/user/${user.id}` },
    });
  });

  // docs/patreon-api.md §2/§10.4: a list of the campaigns owned by the token's user, even when there is one.
  api.get('/campaigns', async (request) => {
    const caller = callerOf(request);
    requireScope(caller, 'campaigns');
    const query = parseQuery(request.url, 'campaign', CAMPAIGN_INCLUDES);
    const viewer = viewerOf(state, request);
    const owned = [...state.world.catalog.campaigns.values()].filter(
      (c) => c.creatorId === caller.userId,
    );
    return buildDocument(
      owned.map((c) => campaignResource(c, viewer)),
      query,
      { meta: { pagination: { total: owned.length } } },
    );
  });

  api.get<{ Params: { id: string } }>('/campaigns/:id', async (request) => {
    requireScope(callerOf(request), 'campaigns');
    const query = parseQuery(request.url, 'campaign', CAMPAIGN_INCLUDES);
    const campaign = ownCampaign(request, request.params.id);
    const viewer = viewerOf(state, request);
    return buildDocument(campaignResource(campaign, viewer), query, {
      links: { self: `${viewer.baseUrl}${V2}/campaigns/${campaign.id}` },
    });
  });

  api.get<{ Params: { id: string } }>('/campaigns/:id/members', async (request) => {
    requireScope(callerOf(request), 'campaigns.members');
    const query = parseQuery(request.url, 'member', MEMBER_INCLUDES);
    const campaign = ownCampaign(request, request.params.id);
    const viewer = viewerOf(state, request);
    // docs/patreon-api.md §5: at most 1000 per page, 500 when pledge_history is included.
    const cap = includes(query, 'pledge_history') ? MEMBERS_WITH_HISTORY_CAP : MEMBERS_CAP;
    const page = state.world.store.page(
      campaign.id,
      decodeCursor(query.pageCursor),
      pageSize(query, cap),
    );
    return buildDocument(
      page.members.map((m) => memberResource(m, viewer)),
      query,
      paging(
        viewer,
        query,
        `${V2}/campaigns/${campaign.id}/members`,
        page.total,
        page.next,
        page.reached,
      ),
    );
  });

  api.get<{ Params: { id: string } }>('/members/:id', async (request) => {
    const caller = callerOf(request);
    requireScope(caller, 'campaigns.members');
    const query = parseQuery(request.url, 'member', MEMBER_INCLUDES);
    const member = state.world.store.member(request.params.id);
    if (!member) throw apiErrors.notFound(`No member ${request.params.id}.`);
    if (member.userId !== caller.userId) ownCampaign(request, member.campaignId);
    const viewer = viewerOf(state, request);
    return buildDocument(memberResource(member, viewer), query, {
      links: { self: `${viewer.baseUrl}${V2}/members/${member.id}` },
    });
  });

  api.get<{ Params: { id: string } }>('/campaigns/:id/posts', async (request) => {
    requireScope(callerOf(request), 'campaigns.posts');
    const query = parseQuery(request.url, 'post', POST_INCLUDES);
    const campaign = ownCampaign(request, request.params.id);
    const viewer = viewerOf(state, request);
    const posts = state.world.catalog.posts.filter((p) => p.campaignId === campaign.id);
    const from = decodeCursor(query.pageCursor);
    const to = Math.min(posts.length, from + pageSize(query, POSTS_CAP));
    return buildDocument(
      posts.slice(from, to).map((p) => postResource(p, viewer)),
      query,
      paging(
        viewer,
        query,
        `${V2}/campaigns/${campaign.id}/posts`,
        posts.length,
        to < posts.length ? to : null,
        to,
      ),
    );
  });

  api.get<{ Params: { id: string } }>('/posts/:id', async (request) => {
    requireScope(callerOf(request), 'campaigns.posts');
    const query = parseQuery(request.url, 'post', POST_INCLUDES);
    const post = state.world.catalog.posts.find((p) => p.id === request.params.id);
    if (!post) throw apiErrors.notFound(`No post ${request.params.id}.`);
    ownCampaign(request, post.campaignId);
    const viewer = viewerOf(state, request);
    return buildDocument(postResource(post, viewer), query, {
      links: { self: `${viewer.baseUrl}${V2}/posts/${post.id}` },
    });
  });
}
