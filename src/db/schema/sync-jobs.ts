import { bigserial, index, integer, jsonb, pgTable, text, uuid } from 'drizzle-orm/pg-core';
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

export type SyncCounts = Partial<
  Record<
    | 'pages'
    | 'patreonCalls'
    | 'rateLimited'
    | 'campaigns'
    | 'tiers'
    | 'benefits'
    | 'goals'
    | 'members'
    | 'users'
    | 'pledgeEvents'
    | 'posts'
    | 'membersTombstoned'
    | 'postsTombstoned',
    number
  >
>;
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

/**
 * Ids a sync pass has seen, one row per page written, committed with that page. After a complete
 * pass, rows of the campaign not in here are tombstoned; kept in a table (not in memory) so a
 * resumed job still knows what its earlier pages saw. A page read again after a crash adds its ids
 * again, which changes nothing. Deleted when the job finishes.
 */
export const syncSeen = pgTable(
  'sync_seen',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    jobId: uuid('job_id')
      .notNull()
      .references(() => syncJobs.id, { onDelete: 'cascade' }),
    kind: text('kind').$type<'member' | 'post'>().notNull(),
    resourceIds: text('resource_ids').array().notNull(),
  },
  (t) => [index('sync_seen_job_id_kind_idx').on(t.jobId, t.kind)],
);

/**
 * Patreon requests in flight or recently answered, per rate window key, shared by every instance
 * so together they stay within Patreon's budget. Rows older than the longest window are deleted.
 */
export const patreonRateSlots = pgTable(
  'patreon_rate_slots',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    key: text('key').notNull(),
    sentAt: timestamptz('sent_at').notNull().defaultNow(),
    doneAt: timestamptz('done_at'),
  },
  (t) => [index('patreon_rate_slots_key_idx').on(t.key, t.doneAt)],
);
