import path from 'node:path';
import { EVENT_TYPES } from '../shared/event-types.js';
import { type Env, envSchema, isStandardWebhookSecret, splitList } from './schema.js';

export type TokenKey = Readonly<{ id: string; key: Buffer }>;

export type PatreonMode = 'sandbox' | 'live';

export type Config = Readonly<{
  server: Readonly<{
    host: string;
    port: number;
    publicUrl: string;
    bodyLimitBytes: number;
    requestTimeoutMs: number;
    keepAliveTimeoutMs: number;
    shutdownTimeoutMs: number;
    /** Fastify's `trustProxy`: which peers may name the client in `X-Forwarded-For`. */
    trustProxy: boolean | number | readonly string[];
  }>;
  /** Requests per minute; 0: no limit. */
  requestLimits: Readonly<{ apiPerMinute: number; oauthPerMinute: number }>;
  logLevel: Env['LOG_LEVEL'];
  /** Absolute path. */
  dataDir: string;
  database: Readonly<{ url: string | undefined; poolMax: number }>;
  apiKeys: readonly string[];
  patreon: Readonly<{
    /** `sandbox` when no Patreon credentials are configured: the built-in sandbox is used. */
    mode: PatreonMode;
    clientId: string;
    clientSecret: string;
    redirectUri: string;
    baseUrl: string;
  }>;
  tokenKeys: readonly TokenKey[];
  rateLimits: Readonly<{ clientPer2s: number; tokenPerMinute: number }>;
  sync: Readonly<{
    concurrency: number;
    sliceSeconds: number;
    expireSeconds: number;
    reconcileCron: string;
  }>;
  /** Finished deliveries in and events out older than this are deleted; 0 keeps everything. */
  retentionMs: number;
  events: Readonly<{
    /** The endpoint from config, if any (secrets: newest first, all sign). */
    endpoint:
      | Readonly<{ url: string; secrets: readonly string[]; eventTypes: readonly string[] }>
      | undefined;
    allowPrivateUrls: boolean;
    /** Waits after each failed attempt, in ms; one more attempt than entries. */
    retryScheduleMs: readonly number[];
    timeoutMs: number;
    disableAfterMs: number;
    secretOverlapMs: number;
    concurrency: number;
    pollIntervalMs: number;
  }>;
  entitlements: Readonly<{
    /** Days a declined patron keeps access after the declined charge. */
    declinedGraceDays: number;
    /** Lookups cached per instance (0: none), and how long one is served at most. */
    cacheEntries: number;
    cacheTtlMs: number;
    /** How often answers whose `until` has passed (and patrons due a refresh) are looked for. */
    schedulePollMs: number;
    /** When patron connections' memberships are read again through their own tokens. */
    patronRefresh: Readonly<{ intervalMs: number; afterChargeMs: number }>;
  }>;
  /** `/metrics` requires this bearer token when set. */
  metrics: Readonly<{ token: string | undefined }>;
  oauth: Readonly<{
    /** Allowed `returnTo` prefixes; empty in sandbox mode means loopback URLs only. */
    returnToAllowlist: readonly string[];
    stateTtlSeconds: number;
    refreshMarginSeconds: number;
  }>;
}>;

export class ConfigError extends Error {
  readonly code = 'CONFIG_INVALID';
  constructor(readonly problems: readonly string[]) {
    super(`Invalid configuration:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** The credentials the built-in sandbox registers for its one OAuth client. */
export const SANDBOX_CLIENT = Object.freeze({
  clientId: 'sandbox-client-id',
  clientSecret: 'sandbox-client-secret',
});

const MIN_API_KEY_LENGTH = 32;

/**
 * Parses the environment once into a frozen, typed config. Throws ConfigError listing every
 * problem; messages name the variable and the rule, never the value.
 */
export function loadConfig(env: Record<string, string | undefined>): Config {
  const parsed = envSchema.safeParse(env);
  const problems = parsed.success
    ? []
    : parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
  // The rules across variables are checked even when a single variable failed, so one run
  // lists every problem.
  const apiKeys = splitList(env.API_KEYS);
  const tokenKeys = parseTokenKeys(splitList(env.TOKEN_KEYS), problems);
  const mode = checkCredentials(env, apiKeys, problems);
  checkEventsEndpoint(env, problems);
  if (!parsed.success || problems.length > 0) throw new ConfigError(problems);

  const e = parsed.data;
  const publicUrl = e.PUBLIC_URL ?? `http://localhost:${e.PORT}`;
  const patreon =
    mode === 'live'
      ? {
          mode,
          clientId: e.PATREON_CLIENT_ID as string,
          clientSecret: e.PATREON_CLIENT_SECRET as string,
          baseUrl: e.PATREON_BASE_URL,
        }
      : { mode, ...SANDBOX_CLIENT, baseUrl: `${publicUrl}/sandbox` };

  return deepFreeze({
    server: {
      host: e.HOST,
      port: e.PORT,
      publicUrl,
      bodyLimitBytes: e.BODY_LIMIT_BYTES,
      requestTimeoutMs: e.REQUEST_TIMEOUT_MS,
      keepAliveTimeoutMs: e.KEEP_ALIVE_TIMEOUT_MS,
      shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
      trustProxy: e.TRUST_PROXY ?? false,
    },
    requestLimits: { apiPerMinute: e.API_RATE_LIMIT, oauthPerMinute: e.OAUTH_RATE_LIMIT },
    logLevel: e.LOG_LEVEL,
    dataDir: path.resolve(e.DATA_DIR),
    database: { url: e.DATABASE_URL, poolMax: e.DATABASE_POOL_MAX },
    apiKeys,
    patreon: {
      ...patreon,
      redirectUri: e.PATREON_REDIRECT_URI ?? `${publicUrl}/oauth/patreon/callback`,
    },
    tokenKeys,
    rateLimits: { clientPer2s: e.PATREON_CLIENT_RATE, tokenPerMinute: e.PATREON_TOKEN_RATE },
    sync: {
      concurrency: e.SYNC_CONCURRENCY,
      sliceSeconds: e.SYNC_SLICE_SECONDS,
      expireSeconds: e.SYNC_JOB_EXPIRE_SECONDS,
      reconcileCron: e.SYNC_RECONCILE_CRON,
    },
    retentionMs: e.RETENTION_PERIOD,
    events: {
      endpoint: e.EVENTS_ENDPOINT_URL
        ? {
            url: e.EVENTS_ENDPOINT_URL,
            secrets: e.EVENTS_ENDPOINT_SECRET,
            eventTypes: e.EVENTS_ENDPOINT_TYPES,
          }
        : undefined,
      allowPrivateUrls: e.EVENTS_ALLOW_PRIVATE_URLS ?? mode === 'sandbox',
      retryScheduleMs: e.EVENTS_RETRY_SCHEDULE,
      timeoutMs: e.EVENTS_TIMEOUT_MS,
      disableAfterMs: e.EVENTS_DISABLE_AFTER,
      secretOverlapMs: e.EVENTS_SECRET_OVERLAP,
      concurrency: e.EVENTS_CONCURRENCY,
      pollIntervalMs: e.EVENTS_POLL_INTERVAL_MS,
    },
    entitlements: {
      declinedGraceDays: e.ENTITLEMENT_DECLINED_GRACE_DAYS,
      cacheEntries: e.ENTITLEMENT_CACHE_ENTRIES,
      cacheTtlMs: e.ENTITLEMENT_CACHE_TTL,
      schedulePollMs: e.ENTITLEMENT_SCHEDULE_POLL,
      patronRefresh: {
        intervalMs: e.PATRON_REFRESH_INTERVAL,
        afterChargeMs: e.PATRON_REFRESH_AFTER_CHARGE,
      },
    },
    metrics: { token: e.METRICS_TOKEN },
    oauth: {
      returnToAllowlist: e.RETURN_TO_ALLOWLIST,
      stateTtlSeconds: e.OAUTH_STATE_TTL_SECONDS,
      refreshMarginSeconds: e.TOKEN_REFRESH_MARGIN_SECONDS,
    },
  });
}

function checkCredentials(
  env: Record<string, string | undefined>,
  apiKeys: readonly string[],
  problems: string[],
): PatreonMode {
  const weakKeys = apiKeys.filter((key) => key.length < MIN_API_KEY_LENGTH).length;
  if (weakKeys > 0) {
    problems.push(`API_KEYS: ${weakKeys} key(s) shorter than ${MIN_API_KEY_LENGTH} characters`);
  }
  const hasId = Boolean(env.PATREON_CLIENT_ID?.trim());
  const hasSecret = Boolean(env.PATREON_CLIENT_SECRET?.trim());
  if (hasId !== hasSecret) {
    problems.push(
      'PATREON_CLIENT_ID, PATREON_CLIENT_SECRET: set both (live Patreon) or neither (sandbox mode)',
    );
  }
  if (!(hasId && hasSecret)) return 'sandbox';
  if (apiKeys.length === 0) problems.push('API_KEYS: required when Patreon credentials are set');
  if (splitList(env.TOKEN_KEYS).length === 0) {
    problems.push('TOKEN_KEYS: required when Patreon credentials are set');
  }
  const allowlist = splitList(env.RETURN_TO_ALLOWLIST);
  if (allowlist.length === 0) {
    problems.push('RETURN_TO_ALLOWLIST: required when Patreon credentials are set');
  }
  allowlist.forEach((entry, index) => {
    if (!/^https?:\/\//.test(entry) || !URL.canParse(entry)) {
      problems.push(`RETURN_TO_ALLOWLIST[${index}]: must be an absolute http(s) URL prefix`);
    }
  });
  return 'live';
}

/** The configured event endpoint needs a secret, and every secret must be a Standard one. */
function checkEventsEndpoint(env: Record<string, string | undefined>, problems: string[]) {
  const secrets = splitList(env.EVENTS_ENDPOINT_SECRET);
  if (env.EVENTS_ENDPOINT_URL?.trim() && secrets.length === 0) {
    problems.push('EVENTS_ENDPOINT_SECRET: required when EVENTS_ENDPOINT_URL is set');
  }
  secrets.forEach((secret, index) => {
    if (!isStandardWebhookSecret(secret)) {
      problems.push(
        `EVENTS_ENDPOINT_SECRET[${index}]: must be whsec_ followed by the base64 of 24 to 64 bytes`,
      );
    }
  });
  const known = new Set<string>(EVENT_TYPES);
  splitList(env.EVENTS_ENDPOINT_TYPES).forEach((type, index) => {
    if (!known.has(type)) problems.push(`EVENTS_ENDPOINT_TYPES[${index}]: unknown event type`);
  });
}

/** `keyId:base64Key` entries; 32-byte keys for AES-256-GCM. */
export function parseTokenKeys(entries: readonly string[], problems: string[]): TokenKey[] {
  const keys: TokenKey[] = [];
  entries.forEach((entry, index) => {
    const where = `TOKEN_KEYS[${index}]`;
    const separator = entry.indexOf(':');
    const id = separator > 0 ? entry.slice(0, separator) : '';
    if (!/^[A-Za-z0-9_.-]{1,32}$/.test(id)) {
      problems.push(
        `${where}: expected keyId:base64Key with a keyId of 1-32 letters, digits, _ . -`,
      );
      return;
    }
    const key = Buffer.from(entry.slice(separator + 1), 'base64');
    if (key.length !== 32) {
      problems.push(`${where} (${id}): the key must be 32 bytes, base64-encoded`);
      return;
    }
    if (keys.some((existing) => existing.id === id)) {
      problems.push(`${where} (${id}): duplicate keyId`);
      return;
    }
    keys.push({ id, key });
  });
  return keys;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Buffer.isBuffer(value)) {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}
