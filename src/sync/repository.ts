import { and, desc, eq, inArray, type SQL, sql } from 'drizzle-orm';
import type { Db, DbOrTx } from '../db/database.js';
import {
  campaigns,
  connections,
  patreonUsers,
  type SyncJobKind,
  syncJobs,
} from '../db/schema/index.js';
import { upsertRows } from '../db/upsert.js';

/** Every statement of sync: its jobs, and what a job reads of its connection and campaign. */

export type JobRow = typeof syncJobs.$inferSelect;

const UNFINISHED = ['queued', 'running', 'waiting'] as const;

export async function findJob(db: DbOrTx, id: string): Promise<JobRow | undefined> {
  const [job] = await db.select().from(syncJobs).where(eq(syncJobs.id, id));
  return job;
}

/** Writes `changes` to the job and stamps `updated_at`. */
export async function updateJob(db: DbOrTx, id: string, changes: Partial<JobRow>) {
  await db
    .update(syncJobs)
    .set({ ...changes, updatedAt: sql`now()` })
    .where(eq(syncJobs.id, id));
}

/** The job's status, its row locked until the transaction ends (a page commits or not). */
export async function lockJobStatus(tx: DbOrTx, id: string) {
  const [current] = await tx
    .select({ status: syncJobs.status })
    .from(syncJobs)
    .where(eq(syncJobs.id, id))
    .for('update');
  return current?.status;
}

/** The jobs of a connection of `kind` still queued, running or waiting. */
export const unfinishedJobs = (tx: DbOrTx, connectionId: string, kind: SyncJobKind) =>
  tx
    .select()
    .from(syncJobs)
    .where(
      and(
        eq(syncJobs.connectionId, connectionId),
        eq(syncJobs.kind, kind),
        inArray(syncJobs.status, [...UNFINISHED]),
      ),
    );

export async function insertJob(tx: DbOrTx, job: typeof syncJobs.$inferInsert) {
  const [row] = await tx.insert(syncJobs).values(job).returning();
  return row as JobRow;
}

/** A page of jobs, newest first, after the (created_at, id) position `after`. */
export function listJobs(
  db: Db,
  filter: { connectionId?: string; status?: JobRow['status'] },
  { limit, after }: { limit: number; after?: readonly [string, string] },
) {
  const where: SQL[] = [];
  if (filter.connectionId) where.push(eq(syncJobs.connectionId, filter.connectionId));
  if (filter.status) where.push(eq(syncJobs.status, filter.status));
  if (after) {
    where.push(
      sql`(${syncJobs.createdAt}, ${syncJobs.id}) < (${after[0]}::timestamptz, ${after[1]}::uuid)`,
    );
  }
  return db
    .select({ job: syncJobs, key: sql<string>`${syncJobs.createdAt}::text` })
    .from(syncJobs)
    .where(and(...where))
    .orderBy(desc(syncJobs.createdAt), desc(syncJobs.id))
    .limit(limit);
}

/** Cancels the job unless it has finished; undefined when there was nothing to cancel. */
export async function cancelJob(db: Db, id: string): Promise<JobRow | undefined> {
  const [job] = await db
    .update(syncJobs)
    .set({ status: 'cancelled', finishedAt: sql`now()`, updatedAt: sql`now()` })
    .where(and(eq(syncJobs.id, id), inArray(syncJobs.status, [...UNFINISHED])))
    .returning();
  return job;
}

export async function findConnection(db: Db, id: string) {
  const [connection] = await db.select().from(connections).where(eq(connections.id, id));
  return connection;
}

export const activeCreatorConnections = (db: Db) =>
  db
    .select({ id: connections.id })
    .from(connections)
    .where(and(eq(connections.role, 'creator'), eq(connections.status, 'active')));

/** The campaigns Patreon listed for a creator connection, and their creators. */
export async function storeCampaigns(
  tx: DbOrTx,
  creators: (typeof patreonUsers.$inferInsert)[],
  rows: (typeof campaigns.$inferInsert)[],
) {
  await upsertRows(tx, patreonUsers, creators, { target: [patreonUsers.id] });
  await upsertRows(tx, campaigns, rows, { target: [campaigns.id] });
}

/** What a list phase needs of its connection: whether it may read members' addresses. */
export async function connectionScopes(db: Db, id: string): Promise<string[]> {
  const [connection] = await db
    .select({ scopes: connections.scopes })
    .from(connections)
    .where(eq(connections.id, id));
  return connection?.scopes ?? [];
}

/** The campaign's currency and when it was last synced (null before its first import). */
export async function campaignSyncState(db: DbOrTx, id: string) {
  const [campaign] = await db
    .select({ currency: campaigns.currency, lastSyncedAt: campaigns.lastSyncedAt })
    .from(campaigns)
    .where(eq(campaigns.id, id));
  return campaign;
}

export async function markCampaignSynced(tx: DbOrTx, id: string) {
  await tx.update(campaigns).set({ lastSyncedAt: sql`now()` }).where(eq(campaigns.id, id));
}
