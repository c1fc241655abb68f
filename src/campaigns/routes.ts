import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { csvStream, wantsCsv } from '../http/csv.js';
import { problemResponses } from '../http/problem.js';
import { pageOf } from '../shared/pagination.js';
import { campaignParams } from '../shared/schemas.js';
import { memberCsvColumns, pledgeEventCsvColumns } from './csv-columns.js';
import {
  listMembersQuery,
  listPledgeEventsQuery,
  memberDetail,
  memberParams,
  memberView,
  pledgeEventView,
} from './member-schemas.js';
import {
  campaignDetail,
  campaignView,
  listCampaignsQuery,
  listPostsQuery,
  listTiersQuery,
  postView,
  tierView,
} from './schemas.js';

/** Rows per page read while streaming an export. */
const EXPORT_PAGE = 1000;

/** Walks a keyset-paginated list to its end, one page at a time. */
async function* exportPages<T>(
  page: (cursor: string | undefined) => Promise<{ data: T[]; nextCursor: string | null }>,
): AsyncGenerator<T[]> {
  let cursor: string | undefined;
  do {
    const next = await page(cursor);
    yield next.data;
    cursor = next.nextCursor ?? undefined;
  } while (cursor);
}

/** Read API for synced Patreon data (campaigns, tiers, members, posts, pledge events). */
export const campaignRoutes: FastifyPluginAsyncZod = async (app) => {
  const service = app.campaigns;

  app.get(
    '/campaigns',
    {
      schema: {
        operationId: 'listCampaigns',
        tags: ['campaigns'],
        summary: 'List synced campaigns',
        description:
          'By id. Campaigns Patreon no longer returns are left out unless `includeDeleted=true`.',
        querystring: listCampaignsQuery,
        response: { 200: pageOf(campaignView), ...problemResponses(400, 401, 500) },
      },
    },
    async (request) => service.list(request.query),
  );

  app.get(
    '/campaigns/:id',
    {
      schema: {
        operationId: 'getCampaign',
        tags: ['campaigns'],
        summary: 'Get a campaign with its tiers, benefits and goals',
        description:
          'Current tiers (cheapest first), benefits (each with the ids of the current tiers that include it) and goals. A deleted campaign is still returned, with `deletedAt` set.',
        params: campaignParams,
        response: { 200: campaignDetail, ...problemResponses(400, 401, 404, 500) },
      },
    },
    async (request) => service.get(request.params.id),
  );

  app.get(
    '/campaigns/:id/tiers',
    {
      schema: {
        operationId: 'listCampaignTiers',
        tags: ['campaigns'],
        summary: 'List a campaign’s tiers',
        description:
          'Cheapest first. Deleted tiers only with `includeDeleted=true`. `404 CAMPAIGN_NOT_FOUND` for an unknown campaign.',
        params: campaignParams,
        querystring: listTiersQuery,
        response: { 200: pageOf(tierView), ...problemResponses(400, 401, 404, 500) },
      },
    },
    async (request) => service.listTiers(request.params.id, request.query),
  );

  app.get(
    '/campaigns/:id/members',
    {
      schema: {
        operationId: 'listCampaignMembers',
        tags: ['members'],
        summary: 'List a campaign’s members',
        description:
          'Filter by patron status, entitled tier, last charge status, email (exact, case-insensitive) or change time; sort by change time, pledge start or name. Deleted members only with `includeDeleted=true`. Keep the same filters and sort while following `nextCursor`. With `Accept: text/csv`: every matching member as CSV, streamed (filters and sort apply; `limit` and `cursor` do not).',
        params: campaignParams,
        querystring: listMembersQuery,
        response: { 200: pageOf(memberView), ...problemResponses(400, 401, 404, 500) },
      },
    },
    async (request, reply) => {
      if (!wantsCsv(request.headers.accept)) {
        return service.listMembers(request.params.id, request.query);
      }
      const { id } = request.params;
      await service.requireCampaign(id);
      return reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="campaign-${id}-members.csv"`)
        .send(
          csvStream(
            memberCsvColumns,
            exportPages((cursor) =>
              service.listMembers(id, { ...request.query, limit: EXPORT_PAGE, cursor }),
            ),
          ) as never, // a stream is sent as is, never through the JSON schema
        );
    },
  );

  app.get(
    '/members/:id',
    {
      schema: {
        operationId: 'getMember',
        tags: ['members'],
        summary: 'Get a member with entitled tiers and pledge history',
        description:
          'A deleted member is still returned, with `deletedAt` set. `404 MEMBER_NOT_FOUND` for an unknown id.',
        params: memberParams,
        response: { 200: memberDetail, ...problemResponses(400, 401, 404, 500) },
      },
    },
    async (request) => service.getMember(request.params.id),
  );

  app.get(
    '/campaigns/:id/posts',
    {
      schema: {
        operationId: 'listCampaignPosts',
        tags: ['posts'],
        summary: 'List a campaign’s posts',
        description:
          'Newest `publishedAt` first, unpublished posts last. Deleted posts only with `includeDeleted=true`.',
        params: campaignParams,
        querystring: listPostsQuery,
        response: { 200: pageOf(postView), ...problemResponses(400, 401, 404, 500) },
      },
    },
    async (request) => service.listPosts(request.params.id, request.query),
  );

  app.get(
    '/campaigns/:id/pledge-events',
    {
      schema: {
        operationId: 'listCampaignPledgeEvents',
        tags: ['payments'],
        summary: 'List a campaign’s pledge events (payments history)',
        description:
          'Newest first. Filter by type, date range (`from` inclusive, `to` exclusive), tier or member. Amounts are in the currency the patron paid in. With `Accept: text/csv`: every matching event as CSV, streamed (`limit` and `cursor` do not apply).',
        params: campaignParams,
        querystring: listPledgeEventsQuery,
        response: { 200: pageOf(pledgeEventView), ...problemResponses(400, 401, 404, 500) },
      },
    },
    async (request, reply) => {
      if (!wantsCsv(request.headers.accept)) {
        return service.listPledgeEvents(request.params.id, request.query);
      }
      const { id } = request.params;
      await service.requireCampaign(id);
      return reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="campaign-${id}-pledge-events.csv"`)
        .send(
          csvStream(
            pledgeEventCsvColumns,
            exportPages((cursor) =>
              service.listPledgeEvents(id, { ...request.query, limit: EXPORT_PAGE, cursor }),
            ),
          ) as never, // a stream is sent as is, never through the JSON schema
        );
    },
  );
};
