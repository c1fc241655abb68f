import type { Db } from '../db/database.js';
import { defineError } from '../http/errors.js';
import { decodeCursor, toPage } from '../http/pagination.js';
import { type ConnectionRow, findConnection, listConnections } from './repository.js';
import type { ConnectionView, ListConnectionsQuery } from './schemas.js';

export const ConnectionNotFoundError = defineError(
  'CONNECTION_NOT_FOUND',
  404,
  'Connection not found',
);

export function createConnectionsService({ db }: { db: Db }) {
  return {
    async list(query: ListConnectionsQuery) {
      const { limit, cursor, ...filter } = query;
      const after = cursor === undefined ? undefined : decodeCursor(cursor, 2);
      const rows = await listConnections(db, filter, { limit: limit + 1, after });
      return toPage(rows, limit, (row) => [row.createdAtKey, row.connection.id], toView);
    },

    async get(id: string): Promise<ConnectionView> {
      const row = await findConnection(db, id);
      if (!row) throw new ConnectionNotFoundError(`No connection ${id}.`);
      return toView(row);
    },
  };
}

export type ConnectionsService = ReturnType<typeof createConnectionsService>;

const iso = (date: Date | null) => date?.toISOString() ?? null;

function toView({ connection: c, user }: ConnectionRow): ConnectionView {
  return {
    id: c.id,
    externalUserId: c.externalUserId,
    role: c.role,
    status: c.status,
    scopes: c.scopes,
    patreonUser: user,
    tokenExpiresAt: iso(c.tokenExpiresAt),
    lastRefreshedAt: iso(c.lastRefreshedAt),
    lastError:
      c.lastErrorCode && c.lastErrorAt
        ? { code: c.lastErrorCode, at: c.lastErrorAt.toISOString() }
        : null,
    createdAt: c.createdAt.toISOString(),
    updatedAt: c.updatedAt.toISOString(),
  };
}
