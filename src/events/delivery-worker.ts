import { sql } from 'drizzle-orm';
import type { FastifyBaseLogger } from 'fastify';
import { signedHeaders } from '../crypto/outbound-signature.js';
import type { TokenCipher } from '../crypto/token-cipher.js';
import type { Db, DbOrTx } from '../db/database.js';
import type { Metrics } from '../metrics/metrics.js';
import { promoteHeads } from './delivery-lines.js';
import type { AttemptOutcome, EventSender } from './sender.js';

type Claimed = {
  id: string;
  attempts: number;
  resource_key: string | null;
  event_id: string;
  type: string;
  occurred_at: Date;
  payload: Record<string, unknown>;
  external_user_id: string | null;
  endpoint_id: string;
  url: string;
  secret_ciphertexts: string[];
  previous_secrets_expire_at: Date | null;
};

type Finished = {
  id: string;
  endpointId: string;
  resourceKey: string | null;
  status: 'delivered' | 'failed' | 'dead';
  attempts: number;
  nextAttemptAt: string | null;
  attemptedAt: string;
  outcome: AttemptOutcome;
};

/** The body every endpoint receives: `{ type, timestamp, data }` (Standard Webhooks). */
export function eventBody(event: {
  type: string;
  occurredAt: Date;
  payload: Record<string, unknown>;
  externalUserId: string | null;
}): string {
  const data = event.externalUserId
    ? { ...event.payload, externalUserId: event.externalUserId }
    : event.payload;
  return JSON.stringify({ type: event.type, timestamp: event.occurredAt.toISOString(), data });
}

/** Retry-After is honoured up to this long; a longer one is treated as this. */
const MAX_RETRY_AFTER_MS = 24 * 3_600_000;
/** A claimed delivery whose worker died is retried this long after its attempt would time out. */
const LEASE_MARGIN_MS = 30_000;
const CLAIM_BATCH = 100;
/** How often the worker repairs lines whose head was missed (see promoteHeads). */
const SWEEP_MS = 10_000;

/**
 * Delivers `outbound_deliveries` rows: claims due ones with `FOR UPDATE SKIP LOCKED` (so any
 * number of instances share the work, and the embedded database's single connection is held
 * only for the claim), sends them concurrently, and writes the outcomes back in batches.
 *
 * Claiming pushes `next_attempt_at` past the attempt's timeout: that is the lease. An instance
 * that dies mid-attempt leaves the row to be claimed again when it expires (at least once).
 *
 * Ordered per resource: a delivery is due only when no earlier event (`event_seq`) of the same
 * resource is still pending or failing at that endpoint, including one being sent right now.
 * A dead delivery no longer holds the ones after it. Only heads of line (`ready`) are candidates,
 * so a claim reads the due heads through one partial index, however long the lines behind them
 * (an endpoint that was down for hours), instead of re-checking every waiting delivery.
 */
export function createDeliveryWorker(deps: {
  db: Db;
  cipher: TokenCipher;
  sender: EventSender;
  log: FastifyBaseLogger;
  retryScheduleMs: readonly number[];
  timeoutMs: number;
  disableAfterMs: number;
  concurrency: number;
  pollIntervalMs: number;
  metrics?: Pick<Metrics, 'eventAttempted' | 'eventDeliveryEnded'>;
}) {
  const { db, log } = deps;
  const leaseMs = deps.timeoutMs + LEASE_MARGIN_MS;
  const finished: Finished[] = [];
  const sending = new Set<Promise<void>>();
  let running: Promise<void> | undefined;
  let stopped = false;
  let wake: (() => void) | undefined;
  const secretCache = new Map<string, string>();

  const notify = () => {
    const resolve = wake;
    wake = undefined;
    resolve?.();
  };
  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        wake = undefined;
        resolve();
      }, ms);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });

  function open(envelope: string, endpointId: string): string {
    let secret = secretCache.get(envelope);
    if (secret === undefined) {
      if (secretCache.size > 1000) secretCache.clear();
      secret = deps.cipher.open(envelope, endpointId);
      secretCache.set(envelope, secret);
    }
    return secret;
  }

  async function claim(limit: number): Promise<Claimed[]> {
    const result = await db.execute<Claimed>(sql`
      with due as (
        select d.id from outbound_deliveries d
        join outbound_endpoints endpoint on endpoint.id = d.endpoint_id and endpoint.enabled
        where d.status in ('pending', 'failed') and d.ready and d.next_attempt_at <= now()
          and not exists (
            select 1 from outbound_deliveries earlier
            where earlier.endpoint_id = d.endpoint_id
              and earlier.resource_key = d.resource_key
              and earlier.event_seq < d.event_seq
              and earlier.status in ('pending', 'failed'))
        order by d.next_attempt_at
        limit ${limit}
        for update of d skip locked
      )
      update outbound_deliveries d
      set next_attempt_at = now() + make_interval(secs => ${leaseMs / 1000})
      from due, outbound_events e, outbound_endpoints endpoint
      where d.id = due.id and e.id = d.event_id and endpoint.id = d.endpoint_id
      returning d.id, d.attempts, d.resource_key, e.id as event_id, e.type, e.occurred_at, e.payload,
        e.external_user_id, endpoint.id as endpoint_id, endpoint.url,
        endpoint.secret_ciphertexts, endpoint.previous_secrets_expire_at`);
    return result.rows;
  }

  function secretsOf(row: Claimed): string[] {
    const [current, ...previous] = row.secret_ciphertexts;
    const overlap =
      row.previous_secrets_expire_at !== null &&
      new Date(row.previous_secrets_expire_at).getTime() > Date.now();
    return [current, ...(overlap ? previous : [])]
      .filter((envelope): envelope is string => typeof envelope === 'string')
      .map((envelope) => open(envelope, row.endpoint_id));
  }

  async function attempt(row: Claimed): Promise<Finished> {
    const body = eventBody({
      type: row.type,
      occurredAt: new Date(row.occurred_at),
      payload: row.payload,
      externalUserId: row.external_user_id,
    });
    const attemptedAt = new Date();
    let outcome: AttemptOutcome;
    try {
      const headers = signedHeaders({
        id: row.event_id,
        timestampSeconds: Math.floor(attemptedAt.getTime() / 1000),
        body,
        secrets: secretsOf(row),
      });
      outcome = await deps.sender.send(row.url, headers, body);
    } catch (error) {
      log.error({ err: error, deliveryId: row.id }, 'event delivery could not be attempted');
      outcome = {
        ok: false,
        statusCode: null,
        error: 'internal error',
        durationMs: 0,
        responseBody: null,
        retryAfterMs: null,
      };
    }
    deps.metrics?.eventAttempted(
      outcome.ok ? 'success' : outcome.statusCode === null ? 'no_response' : 'http_error',
      outcome.durationMs,
    );
    const attempts = row.attempts + 1;
    const base = {
      id: row.id,
      endpointId: row.endpoint_id,
      resourceKey: row.resource_key,
      attempts,
      attemptedAt: attemptedAt.toISOString(),
      outcome,
    };
    if (outcome.ok) return { ...base, status: 'delivered', nextAttemptAt: null };
    const wait = deps.retryScheduleMs[attempts - 1];
    if (wait === undefined) return { ...base, status: 'dead', nextAttemptAt: null };
    const honoured = Math.min(outcome.retryAfterMs ?? 0, MAX_RETRY_AFTER_MS);
    const next = new Date(Date.now() + Math.max(wait, honoured));
    return { ...base, status: 'failed', nextAttemptAt: next.toISOString() };
  }

  function start(row: Claimed) {
    const task = attempt(row).then((done) => {
      finished.push(done);
      sending.delete(task);
      notify();
    });
    sending.add(task);
  }

  /** Completed deliveries hand the head of their line to the next open one of their resource. */
  async function handOn(tx: DbOrTx, completed: Finished[]) {
    const lines = completed.filter((d) => d.resourceKey !== null);
    if (lines.length === 0) return;
    await tx.execute(sql`
      update outbound_deliveries d set ready = true
      from (
        select distinct on (o.endpoint_id, o.resource_key) o.id
        from outbound_deliveries o
        join unnest(${sql.param(lines.map((d) => d.endpointId))}::uuid[],
          ${sql.param(lines.map((d) => d.resourceKey))}::text[]) as line(endpoint_id, resource_key)
          on o.endpoint_id = line.endpoint_id and o.resource_key = line.resource_key
        where o.status in ('pending', 'failed')
        order by o.endpoint_id, o.resource_key, o.event_seq
      ) head
      where d.id = head.id and not d.ready`);
  }

  /** Outcomes, attempt log and endpoint health in one transaction. */
  async function flush(batch: Finished[]) {
    const rows = batch.map((done) => ({
      id: done.id,
      status: done.status,
      attempts: done.attempts,
      next_attempt_at: done.nextAttemptAt,
      attempted_at: done.attemptedAt,
      status_code: done.outcome.statusCode,
      error: done.outcome.error,
      duration_ms: done.outcome.durationMs,
      response_body: done.outcome.responseBody,
    }));
    const succeeded = [...new Set(batch.filter((d) => d.outcome.ok).map((d) => d.endpointId))];
    const failedOnly = [
      ...new Set(batch.filter((d) => !d.outcome.ok).map((d) => d.endpointId)),
    ].filter((id) => !succeeded.includes(id));
    const firstFailure = batch.find((d) => !d.outcome.ok)?.attemptedAt ?? null;
    const disabled = await db.transaction(async (tx) => {
      await tx.execute(sql`
        with result as (
          select * from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) as x(
            id uuid, status text, attempts int, next_attempt_at timestamptz,
            attempted_at timestamptz, status_code int, error text, duration_ms int,
            response_body text)
        ),
        updated as (
          update outbound_deliveries d
          set status = result.status, attempts = result.attempts,
            next_attempt_at = coalesce(result.next_attempt_at, d.next_attempt_at),
            last_attempt_at = result.attempted_at, last_status_code = result.status_code,
            last_error = result.error,
            last_response = case when result.response_body is null then null
              else jsonb_build_object('body', result.response_body) end,
            delivered_at = case when result.status = 'delivered' then result.attempted_at
              else d.delivered_at end,
            updated_at = now()
          from result where d.id = result.id
        )
        insert into outbound_attempts
          (delivery_id, attempted_at, status_code, error, duration_ms, response_body)
        select result.id, result.attempted_at, result.status_code, result.error,
          result.duration_ms, result.response_body
        from result join outbound_deliveries d on d.id = result.id`);
      await handOn(
        tx,
        batch.filter((d) => d.status !== 'failed'),
      );
      if (succeeded.length > 0) {
        await tx.execute(sql`
          update outbound_endpoints set failing_since = null
          where id = any(${sql.param(succeeded)}::uuid[]) and failing_since is not null`);
      }
      if (failedOnly.length === 0) return [];
      await tx.execute(sql`
        update outbound_endpoints set failing_since = ${firstFailure}::timestamptz
        where id = any(${sql.param(failedOnly)}::uuid[]) and failing_since is null`);
      const result = await tx.execute<{ id: string }>(sql`
        update outbound_endpoints
        set enabled = false, disabled_at = now(), updated_at = now(),
          disabled_reason = 'every delivery failed since ' ||
            to_char(failing_since at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
        where id = any(${sql.param(failedOnly)}::uuid[]) and enabled
          and failing_since <= now() - make_interval(secs => ${deps.disableAfterMs / 1000})
        returning id`);
      return result.rows.map((row) => row.id);
    });
    for (const done of batch) {
      if (done.status !== 'failed') deps.metrics?.eventDeliveryEnded(done.status, done.attempts);
    }
    for (const endpointId of disabled) {
      log.warn(
        { endpointId, disableAfterMs: deps.disableAfterMs },
        'event endpoint disabled: its deliveries kept failing',
      );
    }
  }

  async function loop() {
    let sweptAt = 0;
    while (!stopped) {
      try {
        if (Date.now() - sweptAt >= SWEEP_MS) {
          sweptAt = Date.now();
          await promoteHeads(db);
        }
        if (finished.length > 0) await flush(finished.splice(0));
        const room = deps.concurrency - sending.size;
        let claimed = 0;
        let asked = 0;
        if (room > 0 && !stopped) {
          asked = Math.min(room, CLAIM_BATCH);
          const rows = await claim(asked);
          claimed = rows.length;
          for (const row of rows) start(row);
        }
        if (finished.length > 0) continue;
        // A full claim means more may be due: claim again while there is room.
        if (claimed > 0 && claimed === asked && sending.size < deps.concurrency) continue;
        await pause(deps.pollIntervalMs);
      } catch (error) {
        if (stopped) break;
        log.error({ err: error }, 'event delivery worker failed; retrying');
        await pause(deps.pollIntervalMs);
      }
    }
  }

  return {
    start() {
      running ??= loop();
    },
    /** Look for due deliveries now (e.g. after a replay) instead of at the next poll. */
    notify,
    /**
     * Stops claiming and saves the outcomes of attempts in flight that finish within `graceMs`.
     * Those still running after it are left to their lease: another instance (or this one after
     * a restart) sends them again when it expires (at least once).
     */
    async close(graceMs = 5000) {
      stopped = true;
      notify();
      await running;
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.allSettled([...sending]),
        new Promise((resolve) => {
          timer = setTimeout(resolve, graceMs);
        }),
      ]);
      clearTimeout(timer);
      if (finished.length > 0) {
        await flush(finished.splice(0)).catch((error) =>
          log.warn({ err: error }, 'event delivery outcomes not saved at shutdown'),
        );
      }
    },
  };
}

export type DeliveryWorker = ReturnType<typeof createDeliveryWorker>;
