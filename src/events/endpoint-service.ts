import { randomUUID } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import { generateSecret } from '../crypto/outbound-signature.js';
import type { TokenCipher } from '../crypto/token-cipher.js';
import type { Db } from '../db/database.js';
import { cursorCodec, cursorParts } from '../shared/cursor.js';
import type { EventType } from '../shared/event-types.js';
import { toPage } from '../shared/pagination.js';
import { promoteHeads } from './delivery-lines.js';
import {
  EventEndpointFromConfigError,
  EventEndpointNotFoundError,
  EventEndpointUrlRejectedError,
} from './errors.js';
import {
  deleteEndpoint,
  disableConfigEndpoint,
  type EndpointRow,
  findConfigEndpoint,
  findEndpoint,
  insertConfigEndpointIfNone,
  insertEndpoint,
  listEndpoints,
  makeOpenDeliveriesDue,
  requeueFailedDeliveries,
  updateEndpoint,
} from './repository.js';
import type { CreateEndpointBody, EndpointView, UpdateEndpointBody } from './schemas.js';
import { checkEndpointUrl } from './url-guard.js';

const iso = (date: Date | null) => date?.toISOString() ?? null;
/** Secrets from config all sign, with no end. */
const NO_END = new Date('9999-12-31T00:00:00Z');
/** Why the endpoint from config is disabled when the configuration no longer names one. */
const CONFIG_UNSET = 'EVENTS_ENDPOINT_URL is no longer set';

export function endpointView(row: EndpointRow): EndpointView {
  return {
    id: row.id,
    url: row.url,
    description: row.description,
    eventTypes: row.eventTypes as EventType[],
    enabled: row.enabled,
    disabledReason: row.disabledReason,
    disabledAt: iso(row.disabledAt),
    failingSince: iso(row.failingSince),
    source: row.source,
    previousSecretsExpireAt:
      row.source === 'api' &&
      row.previousSecretsExpireAt &&
      row.previousSecretsExpireAt.getTime() > Date.now()
        ? row.previousSecretsExpireAt.toISOString()
        : null,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

/** Endpoints, newest first: (created_at, id). */
const endpointCursor = cursorCodec('event-endpoints', [cursorParts.timestamptz, cursorParts.uuid]);

/**
 * The host's event endpoints: created with a fresh `whsec_` secret (returned once, sealed at
 * rest with the row id as associated data), URL checked by the SSRF guard, secret rotation with
 * an overlap, and the one endpoint from config kept in sync at start.
 */
export function createEndpointService(deps: {
  db: Db;
  cipher: TokenCipher;
  log: FastifyBaseLogger;
  allowPrivateUrls: boolean;
  secretOverlapMs: number;
  /** Called when deliveries became due now (a re-enable, a recover). */
  wakeWorker: () => void;
}) {
  const { db, cipher } = deps;

  async function checkUrl(url: string) {
    const verdict = await checkEndpointUrl(url, { allowPrivate: deps.allowPrivateUrls });
    if (!verdict.ok)
      throw new EventEndpointUrlRejectedError(`The URL is refused: ${verdict.reason}.`);
  }

  async function find(id: string): Promise<EndpointRow> {
    const row = await findEndpoint(db, id);
    if (!row) throw new EventEndpointNotFoundError(`No event endpoint ${id}.`);
    return row;
  }

  const fromConfig = (row: EndpointRow, what: string) =>
    new EventEndpointFromConfigError(
      `Endpoint ${row.id} comes from EVENTS_ENDPOINT_URL: ${what} in the configuration.`,
    );

  return {
    async create(input: CreateEndpointBody) {
      await checkUrl(input.url);
      const id = randomUUID();
      const secret = generateSecret();
      const row = await insertEndpoint(db, {
        id,
        url: input.url,
        description: input.description ?? null,
        eventTypes: input.eventTypes,
        enabled: input.enabled,
        secretCiphertexts: [cipher.seal(secret, id)],
      });
      deps.log.info({ endpointId: id }, 'event endpoint created');
      return { ...endpointView(row), secret };
    },

    async list(query: { limit: number; cursor?: string }) {
      const after = query.cursor ? endpointCursor.decode(query.cursor) : undefined;
      const rows = await listEndpoints(db, { limit: query.limit + 1, after });
      return toPage(
        rows,
        query.limit,
        (r) => endpointCursor.encode([r.key, r.row.id]),
        (r) => endpointView(r.row),
      );
    },

    async get(id: string) {
      return endpointView(await find(id));
    },

    async update(id: string, patch: UpdateEndpointBody) {
      const row = await find(id);
      if (row.source === 'config' && Object.keys(patch).some((key) => key !== 'enabled')) {
        throw fromConfig(row, 'change its URL and event types');
      }
      if (patch.url !== undefined) await checkUrl(patch.url);
      const reenable = patch.enabled === true;
      const updated = await updateEndpoint(db, id, {
        ...(patch.url !== undefined ? { url: patch.url } : {}),
        ...(patch.eventTypes !== undefined ? { eventTypes: patch.eventTypes } : {}),
        ...(patch.description !== undefined ? { description: patch.description } : {}),
        ...(patch.enabled !== undefined ? { enabled: patch.enabled } : {}),
        ...(reenable ? { disabledReason: null, disabledAt: null, failingSince: null } : {}),
        updatedAt: new Date(),
      });
      if (reenable && !row.enabled) {
        // The host fixed its endpoint: what waited for it goes out now, not at its next retry.
        await makeOpenDeliveriesDue(db, id);
        deps.wakeWorker();
      }
      return endpointView(updated as EndpointRow);
    },

    async remove(id: string) {
      const row = await find(id);
      if (row.source === 'config') throw fromConfig(row, 'unset EVENTS_ENDPOINT_URL');
      await deleteEndpoint(db, id);
      deps.log.info({ endpointId: id }, 'event endpoint deleted');
    },

    /** A new secret signs from now on; the current one too, until the overlap ends. */
    async rotateSecret(id: string, overlapMs = deps.secretOverlapMs) {
      const row = await find(id);
      if (row.source === 'config') throw fromConfig(row, 'rotate EVENTS_ENDPOINT_SECRET');
      const secret = generateSecret();
      const [current] = row.secretCiphertexts;
      const keepOld = overlapMs > 0 && current !== undefined;
      const updated = await updateEndpoint(db, id, {
        secretCiphertexts: [cipher.seal(secret, id), ...(keepOld ? [current] : [])],
        previousSecretsExpireAt: keepOld ? new Date(Date.now() + overlapMs) : null,
        updatedAt: new Date(),
      });
      deps.log.info({ endpointId: id, overlapMs }, 'event endpoint secret rotated');
      return { ...endpointView(updated as EndpointRow), secret };
    },

    /** Failed and dead deliveries of events recorded since `since` go out again now. */
    async recover(id: string, since: Date) {
      await find(id);
      const requeued = await requeueFailedDeliveries(db, id, since);
      // Requeued deliveries rejoin their lines in event order: only the heads may go first.
      await promoteHeads(db, id);
      deps.wakeWorker();
      return { requeued: requeued.length };
    },

    /**
     * Makes the endpoint from config match it (at start, on every instance: the unique index on
     * `source = 'config'` keeps one row). A changed URL re-enables it; no URL disables it.
     */
    async syncConfigEndpoint(
      endpoint:
        | { url: string; secrets: readonly string[]; eventTypes: readonly string[] }
        | undefined,
    ) {
      if (!endpoint) {
        await disableConfigEndpoint(db, CONFIG_UNSET);
        return;
      }
      const id = randomUUID();
      await insertConfigEndpointIfNone(db, {
        id,
        url: endpoint.url,
        description: 'From EVENTS_ENDPOINT_URL',
        eventTypes: [...endpoint.eventTypes],
        secretCiphertexts: endpoint.secrets.map((secret) => cipher.seal(secret, id)),
        previousSecretsExpireAt: NO_END,
      });
      const row = await findConfigEndpoint(db);
      if (!row || row.id === id) return;
      const urlChanged = row.url !== endpoint.url;
      await updateEndpoint(db, row.id, {
        url: endpoint.url,
        eventTypes: [...endpoint.eventTypes],
        secretCiphertexts: endpoint.secrets.map((secret) => cipher.seal(secret, row.id)),
        previousSecretsExpireAt: NO_END,
        ...(urlChanged || row.disabledReason === CONFIG_UNSET
          ? { enabled: true, disabledReason: null, disabledAt: null, failingSince: null }
          : {}),
        updatedAt: new Date(),
      });
    },
  };
}

export type EndpointService = ReturnType<typeof createEndpointService>;
