import { and, desc, eq, type SQL, sql } from 'drizzle-orm';
import type { DbOrTx } from '../db/database.js';
import { connections, patreonUsers } from '../db/schema/index.js';
import type { ListConnectionsQuery } from './schemas.js';

const connectionColumns = {
  connection: connections,
  user: {
    id: patreonUsers.id,
    fullName: patreonUsers.fullName,
    email: patreonUsers.email,
  },
  /** Full-precision sort key for the keyset cursor. */
  createdAtKey: sql<string>`${connections.createdAt}::text`,
};

export type ConnectionRow = {
  connection: typeof connections.$inferSelect;
  user: { id: string; fullName: string | null; email: string | null };
  createdAtKey: string;
};

/** Newest first; `after` is the (created_at, id) key of the previous page's last row. */
export async function listConnections(
  db: DbOrTx,
  filter: Omit<ListConnectionsQuery, 'limit' | 'cursor'>,
  page: { limit: number; after: string[] | undefined },
): Promise<ConnectionRow[]> {
  const where: SQL[] = [];
  if (filter.externalUserId) where.push(eq(connections.externalUserId, filter.externalUserId));
  if (filter.role) where.push(eq(connections.role, filter.role));
  if (filter.status) where.push(eq(connections.status, filter.status));
  if (page.after) {
    const [createdAt, id] = page.after;
    where.push(
      sql`(${connections.createdAt}, ${connections.id}) < (${createdAt}::timestamptz, ${id}::uuid)`,
    );
  }
  return db
    .select(connectionColumns)
    .from(connections)
    .innerJoin(patreonUsers, eq(patreonUsers.id, connections.patreonUserId))
    .where(and(...where))
    .orderBy(desc(connections.createdAt), desc(connections.id))
    .limit(page.limit);
}

export async function findConnection(db: DbOrTx, id: string): Promise<ConnectionRow | undefined> {
  const [row] = await db
    .select(connectionColumns)
    .from(connections)
    .innerJoin(patreonUsers, eq(patreonUsers.id, connections.patreonUserId))
    .where(eq(connections.id, id));
  return row;
}
