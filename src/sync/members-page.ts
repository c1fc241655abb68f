import { members, patreonUsers, pledgeEvents } from '../db/schema/index.js';
import { type PreparedUpsert, prepareUpsert } from '../db/upsert.js';
import type { RawBody } from '../patreon/client.js';
import { decodeMany, type PageInfo, parseBody } from '../patreon/json-api.js';
import type { Member, User } from '../patreon/resources.js';

import { memberRow, pledgeEventRow, userRow } from './resource-rows.js';

/**
 * A page of members from Patreon's response text to the statements that write it, with no
 * database in reach: this module is what the members page worker runs (see
 * `members-page-decoder.ts`), so it imports nothing that opens a connection.
 */

export type MemberRow = typeof members.$inferInsert;

/**
 * A page of members turned into statements, ready before its transaction starts. Plain data, so
 * a worker thread can build it.
 */
export type PreparedMembersPage = {
  campaignId: string;
  ids: string[];
  usersCount: number;
  eventsCount: number;
  users: PreparedUpsert;
  members: PreparedUpsert;
  /** [member id, tier id] pairs: the page's entitled tiers. */
  links: [string, string][];
  events: PreparedUpsert;
  /** The members and their rows, kept only when the page's changes become host events. */
  changes?: { members: Member[]; rows: MemberRow[] };
};

const uniqueById = <T extends { id: string }>(items: T[]) => [
  ...new Map(items.map((item) => [item.id, item])).values(),
];

/** Everything about a page of members that needs no database: its rows and their JSON. */
export function prepareMembersPage(input: {
  campaignId: string;
  currency: string | null;
  members: Member[];
  /** Keep the members and their rows (see `changes`). */
  withChanges?: boolean;
}): PreparedMembersPage {
  const page = input.members;
  // Rows keep their undefined attributes: the upsert leaves them out of its statements anyway,
  // and deleting them (`defined`) turned every row into a slow dictionary object (bench: a page
  // of 500 members prepared in ~20 instead of ~27 ms).
  const users = uniqueById(page.flatMap((m) => (m.user ? [m.user as User] : [])));
  const rows = page.map((m) => memberRow(m, input.campaignId, 'sync', input.currency));
  const events = uniqueById(
    page.flatMap((m) =>
      (m.pledgeHistory ?? []).map((event) => ({
        id: event.id,
        row: pledgeEventRow(event, input.campaignId, m.id, m.user?.id),
      })),
    ),
  );
  return {
    campaignId: input.campaignId,
    ids: page.map((m) => m.id),
    usersCount: users.length,
    eventsCount: events.length,
    users: prepareUpsert(
      patreonUsers,
      users.map((u) => userRow(u)),
      { target: [patreonUsers.id] },
    ),
    members: prepareUpsert(members, rows, { target: [members.id] }),
    links: page.flatMap((m) =>
      (m.currentlyEntitledTiers ?? []).map((tier): [string, string] => [m.id, tier.id]),
    ),
    events: prepareUpsert(
      pledgeEvents,
      events.map((e) => e.row),
      { target: [pledgeEvents.id] },
    ),
    ...(input.withChanges ? { changes: { members: page, rows: rows as MemberRow[] } } : {}),
  };
}

export type MembersPageRequest = RawBody & {
  campaignId: string;
  currency: string | null;
  /** Members per transaction: a page is prepared in chunks of this many. */
  chunkSize: number;
  withChanges: boolean;
};

/** A decoded page: its members' ids (for pagination), Patreon's page info, its chunks. */
export type DecodedMembersPage = {
  items: { id: string }[];
  page: PageInfo;
  /** At least one (an empty page is one empty chunk: it still moves the cursor). */
  chunks: PreparedMembersPage[];
};

/** Decodes a members page exactly as the client would, then prepares it chunk by chunk. */
export function decodeMembersPage(request: MembersPageRequest): DecodedMembersPage {
  const { items, page } = decodeMany(
    parseBody(request.text, request.contentType),
    'member',
    request.endpoint,
  );
  const chunks: PreparedMembersPage[] = [];
  for (let i = 0; i < items.length || i === 0; i += request.chunkSize) {
    chunks.push(
      prepareMembersPage({
        campaignId: request.campaignId,
        currency: request.currency,
        members: items.slice(i, i + request.chunkSize),
        withChanges: request.withChanges,
      }),
    );
  }
  return { items: items.map((member) => ({ id: member.id })), page, chunks };
}
