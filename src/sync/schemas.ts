import { z } from 'zod';
import { pageQuery } from '../shared/pagination.js';

export const syncJobStatus = z.enum(['queued', 'running', 'succeeded', 'failed', 'cancelled']);

const count = z.number().int().optional();

export const syncJobView = z
  .object({
    id: z.uuid(),
    connectionId: z.uuid(),
    campaignId: z.string().nullable(),
    kind: z.enum(['full', 'reconcile']),
    trigger: z.enum(['connect', 'schedule', 'manual']),
    status: syncJobStatus,
    phase: z
      .string()
      .nullable()
      .describe('`campaign`, `members`, `posts`, `finalize`, then `done`.'),
    cursor: z.string().nullable().describe('Patreon cursor of the next page in this phase.'),
    waitingUntil: z.iso
      .datetime()
      .nullable()
      .describe(
        'Set while the job waits out Patreon’s rate limit (it kept answering 429); the job continues from its cursor then.',
      ),
    retries: z
      .number()
      .int()
      .describe('Times a slice of the job failed (or its worker died) and was retried.'),
    counts: z
      .object({
        pages: count,
        patreonCalls: count.describe('Calls made to Patreon, retries included.'),
        rateLimited: count.describe('429 answers waited out.'),
        campaigns: count,
        tiers: count,
        benefits: count,
        goals: count,
        members: count,
        users: count,
        pledgeEvents: count,
        posts: count,
        membersTombstoned: count,
        postsTombstoned: count,
      })
      .describe('Progress so far.'),
    drift: z
      .object({
        added: z.number().int(),
        changed: z.number().int(),
        removed: z.number().int(),
      })
      .nullable()
      .describe(
        'Members this pass added, changed or removed: for a reconcile, what webhooks had not told us.',
      ),
    error: z.object({ code: z.string(), detail: z.string() }).nullable(),
    createdAt: z.iso.datetime(),
    startedAt: z.iso.datetime().nullable(),
    finishedAt: z.iso.datetime().nullable(),
    updatedAt: z.iso.datetime(),
  })
  .meta({ id: 'SyncJob' });

export type SyncJobView = z.infer<typeof syncJobView>;

export const startSyncBody = z
  .object({ mode: z.enum(['full', 'reconcile']).default('full') })
  .meta({ id: 'StartSyncRequest' });

export const listSyncJobsQuery = pageQuery.extend({
  connectionId: z.uuid().optional(),
  status: syncJobStatus.optional(),
});
export type ListSyncJobsQuery = z.infer<typeof listSyncJobsQuery>;

export const syncJobParams = z.object({ id: z.uuid() });
