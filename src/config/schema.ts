import { isIP } from 'node:net';
import { z } from 'zod';

/**
 * Every setting the service reads, as environment variables. This object is the single source
 * for validation, defaults and the configuration table in docs/configuration.md (`npm run config:docs`).
 * Messages never echo the value they reject, so a mistyped secret is never printed.
 */

const port = z.coerce
  .number({ error: 'must be a number' })
  .int('must be an integer')
  .min(1, 'must be between 1 and 65535')
  .max(65535, 'must be between 1 and 65535');

const positiveInt = (max: number) =>
  z.coerce
    .number({ error: 'must be a number' })
    .int('must be an integer')
    .min(1, 'must be at least 1')
    .max(max, `must be at most ${max}`);

const httpUrl = z
  .string()
  .trim()
  .refine((value) => /^https?:\/\/[^\s/]+/i.test(value) && URL.canParse(value), {
    message: 'must be an absolute http(s) URL',
  })
  .transform((value) => value.replace(/\/+$/, ''));

const optionalString = z
  .string()
  .trim()
  .transform((value) => (value === '' ? undefined : value))
  .optional();

/** Comma- or whitespace-separated list; empty entries dropped. */
export function splitList(value: string | undefined): string[] {
  return (value ?? '').split(/[\s,]+/).filter(Boolean);
}

const list = z.string().optional().transform(splitList);

const DURATION_UNITS_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** `250ms`, `5s`, `30m`, `2h`, `3d` → milliseconds; undefined when malformed. */
export function parseDuration(value: string): number | undefined {
  const match = /^(\d{1,9})(ms|s|m|h|d)$/.exec(value.trim());
  if (!match) return undefined;
  return Number(match[1]) * DURATION_UNITS_MS[match[2] as keyof typeof DURATION_UNITS_MS];
}

const duration = z
  .string()
  .trim()
  .refine((value) => parseDuration(value) !== undefined, {
    message: 'must be a duration like 250ms, 5s, 30m, 2h or 3d',
  })
  .transform((value) => parseDuration(value) as number);

const durationList = z
  .string()
  .transform(splitList)
  .refine((items) => items.length > 0 && items.every((item) => parseDuration(item) !== undefined), {
    message: 'must be a comma-separated list of durations like 5s,5m,30m,2h',
  })
  .transform((items) => items.map((item) => parseDuration(item) as number));

const booleanFlag = z
  .enum(['true', 'false', '1', '0'], { error: 'must be true or false' })
  .transform((value) => value === 'true' || value === '1');

/** A per-minute request budget; 0 turns the limit off. */
const perMinute = z.coerce
  .number({ error: 'must be a number' })
  .int('must be an integer')
  .min(0, 'must be 0 (off) or more')
  .max(100_000_000, 'must be at most 100000000');

const PROXY_PRESETS = new Set(['loopback', 'linklocal', 'uniquelocal']);

/** An IP address, a CIDR block, or one of proxy-addr's named ranges. */
export function isProxyAddress(entry: string): boolean {
  if (PROXY_PRESETS.has(entry)) return true;
  const [address = '', prefix, ...rest] = entry.split('/');
  const family = isIP(address);
  if (family === 0 || rest.length > 0) return false;
  if (prefix === undefined) return true;
  return /^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128);
}

/** `false` | `true` | a hop count | a list of proxy addresses (Fastify's `trustProxy`). */
const trustProxy = z
  .string()
  .trim()
  .transform((value, context): boolean | number | string[] => {
    if (value === '' || value === 'false') return false;
    if (value === 'true') return true;
    if (/^\d{1,2}$/.test(value)) return Number(value);
    const entries = splitList(value);
    if (!entries.every(isProxyAddress)) {
      context.addIssue({
        code: 'custom',
        message: 'must be true, false, a hop count, or a list of IPs / CIDRs',
      });
      return z.NEVER;
    }
    return entries;
  });

/** Standard Webhooks secret: `whsec_` and the base64 of 24 to 64 random bytes. */
export function isStandardWebhookSecret(value: string): boolean {
  if (!value.startsWith('whsec_')) return false;
  const encoded = value.slice('whsec_'.length);
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(encoded)) return false;
  const bytes = Buffer.from(encoded, 'base64').length;
  return bytes >= 24 && bytes <= 64;
}

export const envSchema = z.object({
  PORT: port.default(3000).describe('TCP port the HTTP server listens on.'),
  HOST: z
    .string()
    .trim()
    .min(1, 'must not be empty')
    .default('127.0.0.1')
    .describe('Interface to bind. Use `0.0.0.0` in containers.'),
  LOG_LEVEL: z
    .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], {
      error: 'must be one of fatal, error, warn, info, debug, trace, silent',
    })
    .default('info')
    .describe('pino log level. Logs are JSON lines; pretty-printed only when stdout is a TTY.'),
  DATA_DIR: z
    .string()
    .trim()
    .min(1, 'must not be empty')
    .default('./data')
    .describe(
      'Folder for the embedded database and generated development secrets. Unused for the database when `DATABASE_URL` is set.',
    ),
  DATABASE_URL: optionalString
    .refine((value) => value === undefined || /^postgres(ql)?:\/\//.test(value), {
      message: 'must be a postgres:// or postgresql:// URL',
    })
    .describe(
      'PostgreSQL connection URL. When unset, an embedded PostgreSQL (PGlite) under `DATA_DIR` is used.',
    ),
  DATABASE_POOL_MAX: positiveInt(200)
    .default(10)
    .describe(
      'Maximum connections in the pool to `DATABASE_URL` (the embedded database uses one).',
    ),
  API_KEYS: list.describe(
    'Comma-separated service API keys accepted as `Authorization: Bearer <key>` on `/v1` (several at once for rotation; each at least 32 characters). In sandbox mode, when unset, a development key is generated into `DATA_DIR` and printed at start.',
  ),
  PUBLIC_URL: httpUrl
    .optional()
    .describe(
      'Public base URL of this service, used to build OAuth and webhook URLs. Default `http://localhost:$PORT`.',
    ),
  PATREON_CLIENT_ID: optionalString.describe(
    'OAuth client id from the Patreon developer portal. With no Patreon credentials the service runs in sandbox mode.',
  ),
  PATREON_CLIENT_SECRET: optionalString.describe(
    'OAuth client secret from the Patreon developer portal.',
  ),
  PATREON_REDIRECT_URI: httpUrl
    .optional()
    .describe(
      'Redirect URI registered with Patreon. Default `$PUBLIC_URL/oauth/patreon/callback`.',
    ),
  PATREON_BASE_URL: httpUrl
    .default('https://www.patreon.com')
    .describe(
      "Patreon's base URL. Point it at a standalone sandbox (`npm run sandbox`) to test against one.",
    ),
  TOKEN_KEYS: list.describe(
    'Keys that encrypt Patreon tokens and secrets at rest (AES-256-GCM), as comma-separated `keyId:base64Key` pairs of 32-byte keys. The first encrypts; all decrypt (rotation). Required with Patreon credentials; generated into `DATA_DIR` in sandbox mode.',
  ),
  RETURN_TO_ALLOWLIST: list.describe(
    'Comma-separated URL prefixes (origin plus path prefix) the OAuth flow may send users back to, e.g. `https://app.example.com/settings/`. Required with Patreon credentials; in sandbox mode, when unset, any http(s) URL on localhost / 127.0.0.1 is allowed.',
  ),
  OAUTH_STATE_TTL_SECONDS: positiveInt(3600)
    .default(600)
    .describe('How long an authorize link (and its OAuth state) stays valid.'),
  TOKEN_REFRESH_MARGIN_SECONDS: positiveInt(60 * 86_400)
    .default(15 * 86_400)
    .describe(
      'Refresh a Patreon access token when it has less than this left. Patreon grants 31 days; tokens have been seen to fail after ~20, so the default refreshes after ~16.',
    ),
  PATREON_CLIENT_RATE: positiveInt(10_000)
    .default(100)
    .describe(
      'Requests per 2 s Patreon allows this client (its documented limit); the governor uses 90 % of it.',
    ),
  PATREON_TOKEN_RATE: positiveInt(100_000)
    .default(100)
    .describe(
      'Requests per minute Patreon allows each token (its documented limit); the governor uses 90 % of it.',
    ),
  SYNC_CONCURRENCY: positiveInt(64)
    .default(2)
    .describe('Sync jobs this instance works on at once.'),
  SYNC_SLICE_SECONDS: positiveInt(3600)
    .default(30)
    .describe(
      'A sync job works this long, then requeues itself behind other creators’ jobs (fairness).',
    ),
  SYNC_JOB_EXPIRE_SECONDS: positiveInt(86_400)
    .default(600)
    .describe(
      'A job slice not finished in this time (its worker died) is retried, resuming from its last committed page.',
    ),
  SYNC_RECONCILE_CRON: z
    .string()
    .trim()
    .regex(/^(\S+\s+){4}\S+$/, 'must be a 5-field cron expression')
    .default('0 */6 * * *')
    .describe('When every creator connection is reconciled against Patreon (cron, UTC).'),
  RETENTION_PERIOD: duration
    .prefault('30d')
    .describe(
      'How long finished records are kept: Patreon deliveries applied or ignored, and events to your backend whose every delivery ended (delivered or dead-lettered). Deliveries still to apply, failed ones and events still to deliver are kept whatever their age. `0d` keeps everything.',
    ),
  ENTITLEMENT_DECLINED_GRACE_DAYS: z.coerce
    .number()
    .int()
    .min(0)
    .max(90)
    .default(7)
    .describe(
      'Days a `declined_patron` stays entitled after the declined charge, while Patreon retries it (0: none).',
    ),
  ENTITLEMENT_CACHE_ENTRIES: z.coerce
    .number()
    .int()
    .min(0)
    .max(1_000_000)
    .default(20_000)
    .describe(
      'Entitlement lookups each instance keeps in memory (0: none). With real PostgreSQL only: every instance drops an entry as soon as a commit changes what it was read from (LISTEN/NOTIFY), and serves none while it cannot listen. The embedded database is never cached.',
    ),
  ENTITLEMENT_CACHE_TTL: duration
    .prefault('5m')
    .describe(
      'Longest an entitlement lookup is served from memory, a bound should a change ever go unheard. An answer the clock will change (a grace period or a paid period ending) is reused only until then.',
    ),
  ENTITLEMENT_SCHEDULE_POLL: duration
    .prefault('15s')
    .refine((ms) => ms >= 10 && ms <= 60_000, { message: 'must be between 10ms and 60s' })
    .describe(
      'How often each instance looks for answers the clock has changed (a grace period or a paid period ending) and sends their `entitlement.*` events: the host hears of such a change at most this long after it. Instances share the schedule in the database; each change is sent once.',
    ),
  PATRON_REFRESH_INTERVAL: duration
    .prefault('24h')
    .describe(
      'Longest time between two reads of a patron connection’s memberships through the patron’s own token (a patron-only integration: the creator’s campaign is not synced). Each read goes through the member pipeline, so a cancelled patron loses access and the host gets `entitlement.revoked`.',
    ),
  PATRON_REFRESH_AFTER_CHARGE: duration
    .prefault('2h')
    .describe(
      'How long after a membership’s `next_charge_date` its patron’s memberships are read again (sooner than `PATRON_REFRESH_INTERVAL`), when the charge has settled or been declined.',
    ),
  EVENTS_ENDPOINT_URL: httpUrl
    .optional()
    .describe(
      'One host endpoint for events, the simplest setup (more through `/v1/event-endpoints`). Kept in sync at every start; unset, a previously configured one is disabled.',
    ),
  EVENTS_ENDPOINT_SECRET: list.describe(
    'Standard Webhooks secret of `EVENTS_ENDPOINT_URL` (`whsec_` + base64 of 24-64 random bytes). Required with it. Comma-separated to rotate: every one listed signs (new first), so the host can switch over.',
  ),
  EVENTS_ENDPOINT_TYPES: list.describe(
    'Event types sent to `EVENTS_ENDPOINT_URL` (comma-separated, e.g. `entitlement.granted,entitlement.revoked`); empty: all.',
  ),
  EVENTS_ALLOW_PRIVATE_URLS: booleanFlag
    .optional()
    .describe(
      'Allow event endpoints on loopback, private, link-local and other internal addresses (SSRF guard off). Default `true` in sandbox mode, `false` with Patreon credentials.',
    ),
  EVENTS_RETRY_SCHEDULE: durationList
    .prefault('5s,5m,30m,2h,5h,10h,10h')
    .describe(
      'Waits between delivery attempts after a failure (`ms`, `s`, `m`, `h`, `d`); after the last one fails the delivery is dead (replayable). A 429/503 `Retry-After` longer than the wait is honoured.',
    ),
  EVENTS_TIMEOUT_MS: positiveInt(10 * 60_000)
    .default(15_000)
    .describe('How long an event delivery may take (connect, answer) before it counts as failed.'),
  EVENTS_DISABLE_AFTER: duration
    .prefault('3d')
    .describe(
      'An endpoint whose deliveries all failed for this long is disabled (`disabledReason` in the API, a warning in the log) until re-enabled.',
    ),
  EVENTS_SECRET_OVERLAP: duration
    .prefault('24h')
    .describe(
      'After a secret rotation, how long the old secret keeps signing beside the new one (both signatures sent).',
    ),
  EVENTS_CONCURRENCY: positiveInt(1024)
    .default(64)
    .describe('Event deliveries this instance has in flight at once.'),
  EVENTS_POLL_INTERVAL_MS: positiveInt(60_000)
    .default(250)
    .describe('How often an idle delivery worker looks for due deliveries.'),
  BODY_LIMIT_BYTES: positiveInt(64 * 1024 * 1024)
    .default(1024 * 1024)
    .describe('Largest request body accepted, in bytes (413 beyond).'),
  API_RATE_LIMIT: perMinute
    .default(0)
    .describe(
      'Requests per minute each API key may make to `/v1` (counted under a hash of the key; requests without a valid key count per client IP). 0: no limit, the default: callers are your own backends, and benchmarks run ~10k req/s on one key. Counted per instance. Beyond it: 429 with `Retry-After`.',
    ),
  OAUTH_RATE_LIMIT: perMinute
    .default(60)
    .describe(
      'Requests per minute each client IP may make to the browser OAuth routes (`/oauth/patreon/*`; a person connecting an account makes two). 0: no limit. Counted per instance; behind a load balancer set `TRUST_PROXY`, or every browser shares its address.',
    ),
  TRUST_PROXY: trustProxy
    .optional()
    .describe(
      'Which proxies in front of the service to believe about the client address (`X-Forwarded-For`, for rate limits and logs): `false` (default: the peer address is the client), a number of hops, a comma-separated list of proxy IPs or CIDRs (also `loopback`, `linklocal`, `uniquelocal`), or `true` (any: only when every request comes through a proxy that overwrites the header).',
    ),
  REQUEST_TIMEOUT_MS: positiveInt(10 * 60_000)
    .default(30_000)
    .describe('Time allowed to receive a whole request before the server gives up on it.'),
  KEEP_ALIVE_TIMEOUT_MS: positiveInt(10 * 60_000)
    .default(72_000)
    .describe('Idle keep-alive time; keep it above your load balancer idle timeout (often 60 s).'),
  SHUTDOWN_TIMEOUT_MS: positiveInt(10 * 60_000)
    .default(15_000)
    .describe(
      'On SIGTERM/SIGINT, how long in-flight work may drain before the process exits anyway.',
    ),
  METRICS_TOKEN: optionalString
    .refine((value) => value === undefined || value.length >= 32, {
      message: 'must be at least 32 characters',
    })
    .describe(
      'Bearer token `GET /metrics` requires (`Authorization: Bearer <token>`; at least 32 characters). Unset: `/metrics` is open, so keep it off the public network.',
    ),
});

export type Env = z.infer<typeof envSchema>;
