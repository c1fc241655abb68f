import { and, desc, eq, gt, isNull, lt, type SQL, sql } from 'drizzle-orm';
import type { DbOrTx } from '../db/database.js';
import { connections, oauthStates, patreonUsers } from '../db/schema/index.js';
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

type ConnectionInsert = typeof connections.$inferInsert;

export async function findConnectionRow(db: DbOrTx, id: string) {
  const [row] = await db.select().from(connections).where(eq(connections.id, id));
  return row;
}

/** Reads the row under a lock held until the transaction ends: one refresh per connection. */
export async function lockConnection(db: DbOrTx, id: string) {
  const [row] = await db.select().from(connections).where(eq(connections.id, id)).for('update');
  return row;
}

/**
 * Creates the connection for (host user, Patreon user, role) or revives the existing one, and
 * returns its id: the id is the associated data its token envelopes are sealed with.
 */
export async function upsertConnection(
  db: DbOrTx,
  values: Pick<ConnectionInsert, 'externalUserId' | 'role' | 'patreonUserId' | 'scopes'>,
): Promise<string> {
  const [row] = await db
    .insert(connections)
    .values({ ...values, status: 'active' })
    .onConflictDoUpdate({
      target: [connections.externalUserId, connections.patreonUserId, connections.role],
      set: {
        scopes: values.scopes,
        status: 'active',
        failureCount: 0,
        lastErrorCode: null,
        lastErrorAt: null,
        disconnectedAt: null,
        updatedAt: sql`now()`,
      },
    })
    .returning({ id: connections.id });
  return (row as { id: string }).id;
}

export async function updateConnection(
  db: DbOrTx,
  id: string,
  changes: Partial<Omit<ConnectionInsert, 'id' | 'createdAt'>>,
): Promise<void> {
  await db
    .update(connections)
    .set({ ...changes, updatedAt: sql`now()` })
    .where(eq(connections.id, id));
}

export async function insertOAuthState(db: DbOrTx, values: typeof oauthStates.$inferInsert) {
  await db.insert(oauthStates).values(values);
}

/** Redeems a ticket once, before it expires, attaching the state the browser now carries. */
export async function redeemTicket(db: DbOrTx, ticketHash: string, stateHash: string) {
  const [row] = await db
    .update(oauthStates)
    .set({ ticketUsedAt: sql`now()`, stateHash })
    .where(
      and(
        eq(oauthStates.ticketHash, ticketHash),
        isNull(oauthStates.ticketUsedAt),
        gt(oauthStates.expiresAt, sql`now()`),
      ),
    )
    .returning();
  return row;
}

export async function findStateByTicket(db: DbOrTx, ticketHash: string) {
  const [row] = await db.select().from(oauthStates).where(eq(oauthStates.ticketHash, ticketHash));
  return row;
}

/** Marks a state used; `claimed` is false when it had been used before (a replayed callback). */
export async function claimState(db: DbOrTx, stateHash: string) {
  const [claimed] = await db
    .update(oauthStates)
    .set({ completedAt: sql`now()` })
    .where(and(eq(oauthStates.stateHash, stateHash), isNull(oauthStates.completedAt)))
    .returning();
  if (claimed) return { row: claimed, claimed: true };
  const [row] = await db.select().from(oauthStates).where(eq(oauthStates.stateHash, stateHash));
  return { row, claimed: false };
}

export async function linkStateToConnection(db: DbOrTx, stateId: string, connectionId: string) {
  await db.update(oauthStates).set({ connectionId }).where(eq(oauthStates.id, stateId));
}

/** Expired states older than a day serve no purpose (not even explaining a late replay). */
export async function deleteStaleStates(db: DbOrTx): Promise<number> {
  const result = await db
    .delete(oauthStates)
    .where(lt(oauthStates.expiresAt, sql`now() - interval '1 day'`));
  return result.rowCount ?? 0;
}
