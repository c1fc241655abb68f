import type { FastifyInstance } from 'fastify';

export type Sample = { name: string; labels: Record<string, string>; value: number };

/** The Prometheus text format read back: family types (from `# TYPE`) and every sample. */
export function parseExposition(text: string) {
  const types = new Map<string, string>();
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (type) types.set(type[1] as string, type[2] as string);
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match) throw new Error(`not an exposition line: ${line}`);
    const labels: Record<string, string> = {};
    for (const [, key, value] of (match[2] ?? '').matchAll(/([a-zA-Z_]\w*)="((?:[^"\\]|\\.)*)"/g)) {
      labels[key as string] = value as string;
    }
    samples.push({ name: match[1] as string, labels, value: Number(match[3]) });
  }
  return { types, samples };
}

/** The sum of the samples named `name` whose labels include `labels`. */
export function sampleSum(
  samples: readonly Sample[],
  name: string,
  labels: Record<string, string> = {},
): number {
  return samples
    .filter(
      (sample) =>
        sample.name === name &&
        Object.entries(labels).every(([key, value]) => sample.labels[key] === value),
    )
    .reduce((sum, sample) => sum + sample.value, 0);
}

/** GET /metrics through the app, parsed; fails on anything but a 200. */
export async function scrape(app: FastifyInstance, headers: Record<string, string> = {}) {
  const response = await app.inject({ method: 'GET', url: '/metrics', headers });
  if (response.statusCode !== 200) {
    throw new Error(`GET /metrics: ${response.statusCode} ${response.body}`);
  }
  return { ...parseExposition(response.body), text: response.body, response };
}

/** A histogram's or summary's family name for one of its series (`_bucket`, `_sum`, `_count`). */
export const familyOf = (name: string, types: ReadonlyMap<string, string>) =>
  types.has(name) ? name : name.replace(/_(bucket|sum|count)$/, '');

/** Label values that look like an id: UUIDs, long digit runs (Patreon ids), hex digests. */
export const ID_LIKE = /[0-9a-f]{8}-[0-9a-f]{4}-|\d{5,}|[0-9a-f]{16,}/i;

/** Every family the service promises (README "Metrics and alerts"). */
export const FAMILIES = {
  counter: [
    'patreon_gateway_http_requests_total',
    'patreon_gateway_webhook_deliveries_total',
    'patreon_gateway_sync_jobs_total',
    'patreon_gateway_sync_slice_errors_total',
    'patreon_gateway_sync_rows_written_total',
    'patreon_gateway_sync_patreon_calls_total',
    'patreon_gateway_sync_rate_limited_total',
    'patreon_gateway_sync_rate_limit_waits_total',
    'patreon_gateway_patreon_requests_total',
    'patreon_gateway_token_refreshes_total',
    'patreon_gateway_event_delivery_attempts_total',
    'patreon_gateway_event_deliveries_total',
    'process_cpu_seconds_total',
  ],
  histogram: [
    'patreon_gateway_http_request_duration_seconds',
    'patreon_gateway_webhook_apply_lag_seconds',
    'patreon_gateway_sync_job_duration_seconds',
    'patreon_gateway_patreon_request_duration_seconds',
    'patreon_gateway_patreon_governor_wait_seconds',
    'patreon_gateway_event_delivery_attempt_duration_seconds',
    'patreon_gateway_event_attempts_per_delivery',
  ],
  gauge: [
    'patreon_gateway_metrics_source_up',
    'patreon_gateway_connections',
    'patreon_gateway_queue_depth',
    'patreon_gateway_event_backlog_deliveries',
    'patreon_gateway_event_oldest_undelivered_age_seconds',
    'patreon_gateway_webhook_events_unapplied',
    'patreon_gateway_webhook_oldest_unapplied_age_seconds',
    'process_resident_memory_bytes',
    'nodejs_eventloop_lag_seconds',
  ],
} as const;
