import { index, integer, jsonb, pgTable, text, uuid } from 'drizzle-orm/pg-core';
import { campaigns } from './campaigns.js';
import { primaryUuid, rowTimes, timestamptz } from './columns.js';
import { connections } from './connections.js';

export const syncJobKinds = ['full', 'reconcile'] as const;
export type SyncJobKind = (typeof syncJobKinds)[number];

export const syncJobStatuses = [
  'queued',
  'running',
  'waiting',
  'succeeded',
  'failed',
  'cancelled',
] as const;
export type SyncJobStatus = (typeof syncJobStatuses)[number];

export type SyncCounts = Record<string, number>;
export type DriftReport = {
  added: number;
  changed: number;
  removed: number;
  sample?: { memberId: string; change: 'added' | 'changed' | 'removed' }[];
};

/**
 * The visible, resumable record of one sync: the phase and Patreon cursor are committed with each
 * page, so a restarted job continues from the last committed page.
 */
export const syncJobs = pgTable(
  'sync_jobs',
  {
    id: primaryUuid(),
    connectionId: uuid('connection_id')
      .notNull()
      .references(() => connections.id, { onDelete: 'cascade' }),
    campaignId: text('campaign_id').references(() => campaigns.id, { onDelete: 'cascade' }),
    kind: text('kind').$type<SyncJobKind>().notNull(),
    status: text('status').$type<SyncJobStatus>().notNull().default('queued'),
    trigger: text('trigger').$type<'connect' | 'schedule' | 'manual'>().notNull(),
    phase: text('phase'),
    cursor: text('cursor'),
    counts: jsonb('counts').$type<SyncCounts>().notNull().default({}),
    drift: jsonb('drift').$type<DriftReport>(),
    attempts: integer('attempts').notNull().default(0),
    /** Id of the job in the queue library, to cancel or inspect it. */
    queueJobId: text('queue_job_id'),
    errorCode: text('error_code'),
    errorDetail: text('error_detail'),
    waitingUntil: timestamptz('waiting_until'),
    startedAt: timestamptz('started_at'),
    finishedAt: timestamptz('finished_at'),
    ...rowTimes(),
  },
  (t) => [
    index('sync_jobs_connection_id_created_at_idx').on(t.connectionId, t.createdAt),
    index('sync_jobs_campaign_id_created_at_idx').on(t.campaignId, t.createdAt),
    index('sync_jobs_status_idx').on(t.status),
  ],
);
