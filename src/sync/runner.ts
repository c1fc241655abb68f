import type { FastifyBaseLogger } from 'fastify';
import type { TokenVault } from '../connections/token-vault.js';
import type { Db, DbOrTx } from '../db/database.js';
import type { SyncCounts } from '../db/schema/index.js';
import { recordEvent } from '../events/record-event.js';
import type { EntitlementReview } from '../members/entitlement-review.js';
import type { Metrics } from '../metrics/metrics.js';
import type { Credentials, PatreonClient } from '../patreon/client.js';
import { isPatreonError } from '../patreon/errors.js';
import { usageScope } from '../patreon/usage.js';
import type { Clock } from '../shared/clock.js';
import { storedError } from '../shared/stored-error.js';
import { add, growth } from './job-counts.js';
import type { PreparedMembersPage } from './members-page.js';
import type { MembersPageDecoder } from './members-page-decoder.js';
import { type Chunk, memberChunks, postChunks } from './page-chunks.js';
import { tombstoneUnseen, writeCampaign, writeMembersPage, writePostsPage } from './page-writer.js';
import {
  campaignSyncState,
  connectionScopes,
  findJob,
  type JobRow,
  lockJobStatus,
  markCampaignSynced,
  updateJob,
} from './repository.js';

export type SyncPhase = 'campaign' | 'members' | 'posts' | 'finalize';

/**
 * Whether a job records host events for the member changes it finds, as the webhook would have:
 * every reconcile, and a full sync of a campaign synced before. A campaign's first import is
 * summed up by its `sync.completed` instead of an event per member.
 */
const emitsChanges = (job: { kind: string; connectionId: string }, lastSyncedAt: Date | null) =>
  job.kind === 'reconcile' || lastSyncedAt !== null
    ? { connectionId: job.connectionId }
    : undefined;

/** What a job stores for a failure that is not ours to name (a database or runtime error). */
const SYNC_FAILED = {
  code: 'SYNC_ERROR',
  message: 'The sync slice failed; the service log has the cause under this job id.',
};

/** Errors after which retrying cannot help: the job fails at once. */
const PERMANENT = new Set([
  'CONNECTION_REVOKED',
  'CONNECTION_DISCONNECTED',
  'CONNECTION_NOT_FOUND',
  'PATREON_FORBIDDEN',
  'PATREON_NOT_FOUND',
  'PATREON_BAD_REQUEST',
]);

/**
 * Runs one slice of a sync job: campaign (tiers, benefits, goals), then members page by page,
 * then posts, then the tombstones. Every page is written in one transaction together with the
 * job's cursor and counts, so a job that dies resumes from its last committed page. A slice stops
 * after `sliceMs` so other creators' jobs get their turn.
 */
export function createSyncRunner(deps: {
  db: Db;
  vault: TokenVault;
  patreon: PatreonClient;
  usage: Map<string, { calls: number; rateLimited: number }>;
  log: FastifyBaseLogger;
  sliceMs: number;
  /** Rows of one page written per transaction (see listPhase). */
  maxRowsPerTransaction: number;
  decoder: MembersPageDecoder;
  /** The member pipeline's entitlement review: every page's linked host users are decided. */
  entitlements: EntitlementReview;
  clock: Clock;
  metrics?: Pick<Metrics, 'syncCounted' | 'syncJobEnded' | 'syncSliceFailed' | 'syncRateLimitWait'>;
}) {
  const { db, vault, patreon } = deps;

  const load = (jobId: string) => findJob(db, jobId);

  /** Patreon usage of the job (its slices run in its usage scope) at the last save. */
  const usageMarks = new WeakMap<JobRow, { calls: number; rateLimited: number }>();
  const usageOf = (job: JobRow) => ({
    ...(deps.usage.get(job.id) ?? { calls: 0, rateLimited: 0 }),
  });

  async function save(tx: DbOrTx, job: JobRow, changes: Partial<JobRow>) {
    const now = usageOf(job);
    const mark = usageMarks.get(job) ?? now;
    usageMarks.set(job, now);
    if (now.calls !== mark.calls || changes.counts) {
      changes.counts = add(changes.counts ?? job.counts, {
        patreonCalls: now.calls - mark.calls,
        rateLimited: now.rateLimited - mark.rateLimited,
      });
    }
    await updateJob(tx, job.id, changes);
    // Counted when saved: a page whose transaction then fails to commit counts twice once retried.
    if (changes.counts) deps.metrics?.syncCounted(job.kind, growth(job.counts, changes.counts));
    Object.assign(job, changes);
  }

  async function campaignPhase(job: JobRow) {
    const campaign = await vault.withAccessToken(job.connectionId, (credentials) =>
      patreon.campaign(credentials, job.campaignId as string),
    );
    await db.transaction(async (tx) => {
      const written = await writeCampaign(tx, campaign, job.connectionId, {
        entitlements: deps.entitlements,
        cause: `sync:${job.id}`,
      });
      await save(tx, job, {
        phase: 'members',
        cursor: null,
        counts: add(job.counts, { campaigns: 1, ...written }),
      });
    });
  }

  /** What a list phase knows of its campaign while it pages. */
  type ListContext = {
    kind: 'members' | 'posts';
    address: boolean;
    currency: string | null;
    emitChanges: { connectionId: string } | undefined;
  };

  /**
   * The phase's pages from the job's cursor, each in chunks of at most maxRowsPerTransaction rows.
   * Members pages arrive decoded and prepared (rows and their JSON) by the members page worker,
   * off the event loop.
   */
  function openPages(
    job: JobRow,
    credentials: Credentials,
    context: ListContext,
  ): AsyncGenerator<{ nextCursor: string | undefined; chunks: Chunk[] }> {
    const campaignId = job.campaignId as string;
    if (context.kind === 'posts') {
      return postChunks(
        patreon.posts(credentials, campaignId, {
          cursor: job.cursor ?? undefined,
          alreadyFetched: job.counts.posts ?? 0,
        }),
        deps.maxRowsPerTransaction,
      );
    }
    let decoded = 0;
    const options = {
      pledgeHistory: true,
      address: context.address,
      cursor: job.cursor ?? undefined,
      alreadyFetched: job.counts.members ?? 0,
    };
    return memberChunks(
      patreon.memberPages(credentials, campaignId, options, (body) =>
        deps.decoder.decode(
          {
            ...body,
            campaignId,
            currency: context.currency,
            chunkSize: deps.maxRowsPerTransaction,
            withChanges: context.emitChanges !== undefined,
          },
          // The slice's first page: nothing is being written yet that decoding here could hold
          // up, and the worker is still starting.
          decoded++ === 0,
        ),
      ),
    );
  }

  /** Counts and drift written since the cursor last moved (a page's chunks before its last). */
  type Progress = { pending: SyncCounts; drift: JobRow['drift'] };

  /**
   * Writes one chunk of a page in its own transaction; its page's last chunk also moves the cursor
   * and the counts. False when the job was cancelled meanwhile (nothing is written then).
   */
  async function writeChunk(
    job: JobRow,
    context: ListContext,
    { count, members: prepared, posts }: Chunk,
    page: { last: boolean; nextCursor: string | undefined; fetchedAt: Date },
    progress: Progress,
  ): Promise<boolean> {
    const { kind } = context;
    const done = page.nextCursor === undefined;
    return db.transaction(async (tx) => {
      // A job cancelled (or its connection disconnected) meanwhile writes nothing more.
      if ((await lockJobStatus(tx, job.id)) !== 'running') return false;
      let delta: SyncCounts;
      let drift = progress.drift;
      if (kind === 'members') {
        const written = await writeMembersPage(tx, {
          jobId: job.id,
          prepared: prepared as PreparedMembersPage,
          emitChanges: context.emitChanges,
          entitlements: deps.entitlements,
          seenAt: page.fetchedAt,
        });
        delta = {
          pages: page.last ? 1 : 0,
          members: count,
          users: written.users,
          pledgeEvents: written.pledgeEvents,
        };
        drift = {
          added: (drift?.added ?? 0) + written.added,
          changed: (drift?.changed ?? 0) + written.changed,
          removed: drift?.removed ?? 0,
        };
      } else {
        const written = await writePostsPage(tx, {
          jobId: job.id,
          campaignId: job.campaignId as string,
          posts: posts ?? [],
        });
        delta = { pages: page.last ? 1 : 0, posts: written };
      }
      progress.drift = drift;
      if (!page.last) {
        // Counts move with the cursor only, so a re-read page is not counted twice.
        progress.pending = add(progress.pending, delta);
        return true;
      }
      await save(tx, job, {
        cursor: done ? null : page.nextCursor,
        phase: done ? (kind === 'members' ? 'posts' : 'finalize') : kind,
        counts: add(add(job.counts, progress.pending), delta),
        drift,
      });
      progress.pending = {};
      return true;
    });
  }

  /** Pages through members or posts until done or the slice is over; true when done. */
  async function listPhase(job: JobRow, kind: 'members' | 'posts', deadline: number) {
    const scopes = await connectionScopes(db, job.connectionId);
    const campaign = await campaignSyncState(db, job.campaignId as string);
    const context: ListContext = {
      kind,
      address: scopes.includes('campaigns.members.address'),
      currency: campaign?.currency ?? null,
      emitChanges: emitsChanges(job, campaign?.lastSyncedAt ?? null),
    };

    // Re-run from the saved cursor if the token had to be refreshed midway.
    return vault.withAccessToken(job.connectionId, async (credentials) => {
      // One transaction per page (a chunk of it on the embedded database), committed with the
      // cursor.
      const progress: Progress = { pending: {}, drift: job.drift };
      const pages = openPages(job, credentials, context);
      // The next page is fetched and decoded while this one is written: Patreon's latency, the
      // decoding and the database overlap. A crash between the chunks of a page re-reads the
      // page (upserts are idempotent); only its last chunk moves the cursor.
      const fetchNext = () =>
        pages.next().then((result) => (result.done ? undefined : result.value));
      let upcoming = fetchNext();
      for (;;) {
        const fetched = await upcoming;
        if (!fetched) break;
        const { nextCursor, chunks } = fetched;
        // Close enough to when Patreon answered (the next page is only fetched from here on).
        const fetchedAt = deps.clock();
        const done = nextCursor === undefined;
        // Past the slice's deadline this page is the slice's last: the next one is not fetched
        // (a page fetched and then dropped would cost Patreon calls twice).
        const sliceEnds = !done && Date.now() >= deadline;
        if (!done && !sliceEnds) {
          upcoming = fetchNext();
          // Settled later or never (when a cancelled job stops here): never an unhandled rejection.
          upcoming.catch(() => {});
        }
        for (const [index, chunk] of chunks.entries()) {
          const last = index === chunks.length - 1;
          const page = { last, nextCursor, fetchedAt };
          if (!(await writeChunk(job, context, chunk, page, progress))) return true;
        }
        if (done) return true;
        if (sliceEnds) return false;
      }
      return true;
    });
  }

  async function finalize(job: JobRow) {
    await db.transaction(async (tx) => {
      const campaign = await campaignSyncState(tx, job.campaignId as string);
      const removed = await tombstoneUnseen(
        tx,
        job.id,
        job.campaignId as string,
        deps.entitlements,
        emitsChanges(job, campaign?.lastSyncedAt ?? null),
      );
      await markCampaignSynced(tx, job.campaignId as string);
      await save(tx, job, {
        phase: 'done',
        status: 'succeeded',
        finishedAt: new Date(),
        counts: add(job.counts, {
          membersTombstoned: removed.members,
          postsTombstoned: removed.posts,
        }),
        drift: {
          added: job.drift?.added ?? 0,
          changed: job.drift?.changed ?? 0,
          removed: removed.members,
        },
      });
      await recordSyncEvent(tx, job, 'sync.completed', { counts: job.counts, drift: job.drift });
    });
  }

  /** `sync.completed` / `sync.failed` for the host, in the transaction that ends the job. */
  const recordSyncEvent = (
    tx: DbOrTx,
    job: JobRow,
    type: 'sync.completed' | 'sync.failed',
    details: Record<string, unknown>,
  ) =>
    recordEvent(tx, {
      type,
      dedupeKey: `${type}:${job.id}`,
      connectionId: job.connectionId,
      campaignId: job.campaignId ?? undefined,
      payload: { jobId: job.id, kind: job.kind, campaignId: job.campaignId, ...details },
    });

  return {
    /**
     * Works on the job until it is done or the slice is over. Returns 'done', 'continue', or how
     * long to wait before continuing (Patreon kept answering 429: the job waits, it does not
     * fail); throws a retryable error (the queue retries the slice later). `retry` says the queue
     * is retrying a slice that failed or whose worker died: the job's `attempts` counts those.
     */
    runSlice(
      jobId: string,
      options: { retry?: boolean } = {},
    ): Promise<'done' | 'continue' | { waitMs: number }> {
      // Patreon calls made by this slice are counted into this job alone.
      return usageScope.run(jobId, () => runSlice(jobId, options));
    },
  };

  async function runSlice(
    jobId: string,
    options: { retry?: boolean },
  ): Promise<'done' | 'continue' | { waitMs: number }> {
    const job = await load(jobId);
    if (!job || ['succeeded', 'failed', 'cancelled'].includes(job.status)) return 'done';
    const deadline = Date.now() + deps.sliceMs;
    // Members pages are coming: the worker loads while the campaign and the first page arrive.
    if (job.phase === null || job.phase === 'campaign' || job.phase === 'members') {
      deps.decoder.warm();
    }
    usageMarks.set(job, usageOf(job));
    await save(db, job, {
      status: 'running',
      waitingUntil: null,
      startedAt: job.startedAt ?? new Date(),
      attempts: job.attempts + (options.retry ? 1 : 0),
      phase: job.phase ?? 'campaign',
    });
    try {
      for (;;) {
        const current = await load(jobId);
        if (!current || current.status === 'cancelled') return 'done';
        if (job.phase === 'campaign') await campaignPhase(job);
        else if (job.phase === 'members' || job.phase === 'posts') {
          if (!(await listPhase(job, job.phase, deadline))) return 'continue';
        } else if (job.phase === 'finalize') {
          await finalize(job);
          deps.metrics?.syncJobEnded(job.kind, 'succeeded', job.startedAt);
          return 'done';
        } else return 'done';
        if (Date.now() >= deadline) return 'continue';
      }
    } catch (error) {
      if (isPatreonError(error, 'PATREON_RATE_LIMITED')) {
        // The client already waited out several 429s: the job now waits as long as Patreon
        // asked (at least a few seconds), visibly, and then continues from its cursor.
        const waitMs = Math.max(5_000, error.details.retryAfterMs ?? 0);
        await save(db, job, { status: 'waiting', waitingUntil: new Date(Date.now() + waitMs) });
        deps.log.warn({ jobId, waitMs }, 'sync waits for Patreon rate limit');
        deps.metrics?.syncRateLimitWait(job.kind);
        return { waitMs };
      }
      // Only our own errors keep their code and message; a database error's text stays in the log.
      const { code, message } = storedError(error, SYNC_FAILED);
      const permanent = PERMANENT.has(code);
      await db.transaction(async (tx) => {
        await save(tx, job, {
          status: permanent ? 'failed' : 'queued',
          errorCode: code,
          errorDetail: message,
          finishedAt: permanent ? new Date() : null,
        });
        if (permanent) {
          await recordSyncEvent(tx, job, 'sync.failed', { errorCode: code });
        }
      });
      deps.log.warn({ jobId, code, permanent, err: error }, 'sync slice failed');
      if (permanent) deps.metrics?.syncJobEnded(job.kind, 'failed', job.startedAt);
      else deps.metrics?.syncSliceFailed(job.kind);
      if (permanent) return 'done';
      throw error;
    } finally {
      // Calls made since the last save (e.g. a failed page) still count.
      const current = await load(jobId);
      if (current) await save(db, Object.assign(job, { counts: current.counts }), {});
    }
  }
}

export type SyncRunner = ReturnType<typeof createSyncRunner>;
