import type { FastifyBaseLogger } from 'fastify';
import type PgBoss from 'pg-boss';
import { ConnectionNotFoundError } from '../connections/errors.js';
import type { TokenVault } from '../connections/token-vault.js';
import type { Db } from '../db/database.js';
import type { SyncJobKind } from '../db/schema/index.js';
import type { PatreonClient } from '../patreon/client.js';
import { cursorCodec, cursorParts } from '../shared/cursor.js';
import { defineError } from '../shared/errors.js';
import { toPage } from '../shared/pagination.js';
import {
  activeCreatorConnections,
  cancelJob,
  findConnection,
  findJob,
  insertJob,
  type JobRow,
  listJobs,
  storeCampaigns,
  unfinishedJobs,
} from './repository.js';
import { campaignRow, defined, userRow } from './resource-rows.js';
import type { ListSyncJobsQuery, SyncJobView } from './schemas.js';

export const SYNC_QUEUE = 'sync';

export const SyncJobNotFoundError = defineError('SYNC_JOB_NOT_FOUND', 404, 'Sync job not found');
export const NotACreatorError = defineError(
  'CONNECTION_NOT_A_CREATOR',
  409,
  'Only creator connections sync',
);

/** Sync jobs, newest first: (created_at, id). */
const syncJobCursor = cursorCodec('sync-jobs', [cursorParts.timestamptz, cursorParts.uuid]);

export function createSyncService(deps: {
  db: Db;
  queue: PgBoss;
  vault: TokenVault;
  patreon: PatreonClient;
  log: FastifyBaseLogger;
  /** Wakes this instance's idle sync workers, so a queued slice does not wait for their poll. */
  wakeWorkers?: () => void;
  /** What else runs when a connection is reconciled (e.g. repairing its Patreon webhooks). */
  onReconcile?: readonly ((connectionId: string) => Promise<unknown>)[];
}) {
  const { db, queue } = deps;

  /** Queues a slice of the job (again); one pending slice per job at a time. */
  const enqueue = async (jobId: string, options: { startAfterMs?: number } = {}) => {
    const later = options.startAfterMs ? Math.ceil(options.startAfterMs / 1000) : 0;
    const queued = await queue.send(
      SYNC_QUEUE,
      { jobId },
      { singletonKey: jobId, ...(later > 0 ? { startAfter: later } : {}) },
    );
    if (later === 0) deps.wakeWorkers?.();
    return queued;
  };

  return {
    enqueue,

    /**
     * Creates one job per campaign of a creator connection and queues them. The campaign list
     * comes from Patreon (a creator has one campaign in practice; the API allows several).
     */
    async start(
      connectionId: string,
      kind: SyncJobKind,
      trigger: 'connect' | 'schedule' | 'manual',
    ) {
      const connection = await findConnection(db, connectionId);
      if (!connection) throw new ConnectionNotFoundError(`No connection ${connectionId}.`);
      if (connection.role !== 'creator') {
        throw new NotACreatorError('Patron connections have no campaign to sync.');
      }
      const found = await deps.vault.withAccessToken(
        connectionId,
        (credentials) => deps.patreon.campaigns(credentials),
        { priority: 'interactive' },
      );
      const jobs = await db.transaction(async (tx) => {
        const creators = found.flatMap((c) => (c.creator ? [defined(userRow(c.creator))] : []));
        await storeCampaigns(
          tx,
          creators,
          found.map((c) => defined({ ...campaignRow(c), connectionId })),
        );
        if (found.length === 0) return [];
        // A job already queued or running for the campaign is reused, not doubled.
        const active = await unfinishedJobs(tx, connectionId, kind);
        const created = await Promise.all(
          found
            .filter((c) => !active.some((job) => job.campaignId === c.id))
            .map((c) =>
              insertJob(tx, { connectionId, campaignId: c.id, kind, trigger, phase: 'campaign' }),
            ),
        );
        return [...active, ...created];
      });
      for (const job of jobs) await enqueue(job.id);
      deps.log.info({ connectionId, kind, jobs: jobs.length }, 'sync queued');
      if (kind === 'reconcile') {
        for (const react of deps.onReconcile ?? []) {
          await react(connectionId).catch((error: unknown) => {
            deps.log.warn({ err: error, connectionId }, 'reconcile follow-up failed');
          });
        }
      }
      return jobs.map(toView);
    },

    async get(id: string): Promise<SyncJobView> {
      const job = await findJob(db, id);
      if (!job) throw new SyncJobNotFoundError(`No sync job ${id}.`);
      return toView(job);
    },

    async list(query: ListSyncJobsQuery) {
      const { limit, cursor, ...filter } = query;
      const after = cursor === undefined ? undefined : syncJobCursor.decode(cursor);
      const rows = await listJobs(db, filter, { limit: limit + 1, after });
      return toPage(
        rows,
        limit,
        (row) => syncJobCursor.encode([row.key, row.job.id]),
        (row) => toView(row.job),
      );
    },

    async cancel(id: string): Promise<SyncJobView> {
      const job = await cancelJob(db, id);
      if (!job) return this.get(id);
      return toView(job);
    },

    /** Every active creator connection gets a reconcile pass (the scheduled job). */
    async reconcileAll() {
      const creators = await activeCreatorConnections(db);
      for (const { id } of creators) {
        await this.start(id, 'reconcile', 'schedule').catch((error: unknown) => {
          deps.log.warn({ err: error, connectionId: id }, 'could not start a reconcile');
        });
      }
      return creators.length;
    },
  };
}

export type SyncService = ReturnType<typeof createSyncService>;

const iso = (date: Date | null) => date?.toISOString() ?? null;

function toView(job: JobRow): SyncJobView {
  return {
    id: job.id,
    connectionId: job.connectionId,
    campaignId: job.campaignId,
    kind: job.kind,
    trigger: job.trigger,
    // A job waiting out Patreon's rate limit is still under way; `waitingUntil` says until when.
    status: job.status === 'waiting' ? 'running' : job.status,
    waitingUntil: iso(job.waitingUntil),
    retries: job.attempts,
    phase: job.phase,
    cursor: job.cursor,
    counts: job.counts,
    drift: job.drift ?? null,
    error: job.errorCode ? { code: job.errorCode, detail: job.errorDetail ?? '' } : null,
    createdAt: job.createdAt.toISOString(),
    startedAt: iso(job.startedAt),
    finishedAt: iso(job.finishedAt),
    updatedAt: job.updatedAt.toISOString(),
  };
}
