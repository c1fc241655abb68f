import { sql } from 'drizzle-orm';
import { index, integer, pgTable, text, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { primaryUuid, rowTimes, timestamptz } from './columns.js';
import { patreonUsers } from './patreon-users.js';

export const connectionRoles = ['creator', 'patron'] as const;
export type ConnectionRole = (typeof connectionRoles)[number];

export const connectionStatuses = ['active', 'refresh_failed', 'revoked', 'disconnected'] as const;
export type ConnectionStatus = (typeof connectionStatuses)[number];

/**
 * One host user's link to one Patreon account in one role. Tokens are stored only as
 * AES-256-GCM envelopes that name the key that sealed them, so keys can rotate.
 */
export const connections = pgTable(
  'connections',
  {
    id: primaryUuid(),
    externalUserId: text('external_user_id').notNull(),
    role: text('role').$type<ConnectionRole>().notNull(),
    status: text('status').$type<ConnectionStatus>().notNull().default('active'),
    patreonUserId: text('patreon_user_id')
      .notNull()
      .references(() => patreonUsers.id),
    scopes: text('scopes').array().notNull().default([]),
    accessTokenCiphertext: text('access_token_ciphertext'),
    refreshTokenCiphertext: text('refresh_token_ciphertext'),
    tokenExpiresAt: timestamptz('token_expires_at'),
    lastRefreshedAt: timestamptz('last_refreshed_at'),
    /** Consecutive failed refreshes or 401s; drives the back-off so we never loop on Patreon. */
    failureCount: integer('failure_count').notNull().default(0),
    lastErrorCode: text('last_error_code'),
    lastErrorAt: timestamptz('last_error_at'),
    disconnectedAt: timestamptz('disconnected_at'),
    /** Patron connections: when their memberships were last read from Patreon, and next due. */
    membershipsRefreshedAt: timestamptz('memberships_refreshed_at'),
    membershipsDueAt: timestamptz('memberships_due_at'),
    ...rowTimes(),
  },
  (t) => [
    uniqueIndex('connections_external_user_patreon_user_role_key').on(
      t.externalUserId,
      t.patreonUserId,
      t.role,
    ),
    index('connections_external_user_id_idx').on(t.externalUserId, t.createdAt, t.id),
    index('connections_created_at_idx').on(t.createdAt, t.id),
    index('connections_patreon_user_id_idx').on(t.patreonUserId),
    index('connections_status_token_expires_at_idx').on(t.status, t.tokenExpiresAt),
    index('connections_memberships_due_at_idx')
      .on(t.membershipsDueAt)
      .where(sql`${t.membershipsDueAt} is not null`),
  ],
);

/**
 * A pending authorization: created by `POST /v1/connections/authorize`, consumed once by the
 * browser at `/oauth/patreon/start` (ticket) and once at the callback (state). Only hashes are kept.
 */
export const oauthStates = pgTable(
  'oauth_states',
  {
    id: primaryUuid(),
    ticketHash: text('ticket_hash').notNull().unique(),
    /** Set when the browser redeems the ticket at /oauth/patreon/start. */
    stateHash: text('state_hash').unique(),
    externalUserId: text('external_user_id').notNull(),
    role: text('role').$type<ConnectionRole>().notNull(),
    scopes: text('scopes').array().notNull(),
    returnTo: text('return_to').notNull(),
    expiresAt: timestamptz('expires_at').notNull(),
    ticketUsedAt: timestamptz('ticket_used_at'),
    completedAt: timestamptz('completed_at'),
    connectionId: uuid('connection_id').references(() => connections.id, { onDelete: 'set null' }),
    createdAt: timestamptz('created_at').notNull().defaultNow(),
  },
  (t) => [
    index('oauth_states_expires_at_idx').on(t.expiresAt),
    index('oauth_states_connection_id_idx').on(t.connectionId),
  ],
);
