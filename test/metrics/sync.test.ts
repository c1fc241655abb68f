import { eq } from 'drizzle-orm';
import t from 'tap';
import { connections } from '../../src/db/schema/index.js';
import { connectCreator, startGateway } from '../fixtures/gateway.js';
import { ID_LIKE, sampleSum, scrape } from '../fixtures/metrics-exposition.js';
import { startReceiver } from '../fixtures/receiver.js';
import { eventually } from '../fixtures/webhooks.js';
import { auth } from '../helper.js';

const SECRET = `whsec_${Buffer.alloc(32, 5).toString('base64')}`;
const MEMBERS = 25;

t.test(
  'a creator connected and synced over the sandbox moves every counter it touches',
  async (t) => {
    const host = await startReceiver(t);
    const gateway = await startGateway(t, {
      members: MEMBERS,
      env: {
        EVENTS_ALLOW_PRIVATE_URLS: 'true',
        EVENTS_ENDPOINT_URL: host.url,
        EVENTS_ENDPOINT_SECRET: SECRET,
        EVENTS_POLL_INTERVAL_MS: '20',
      },
    });
    const { app, sandbox } = gateway;
    const {
      connectionId,
      jobs: [job],
    } = await connectCreator(gateway);
    t.equal(job?.status, 'succeeded');
    await eventually('sync.completed at the host', async () =>
      host.received.some((d) => d.body.type === 'sync.completed'),
    );

    const synced = await eventually('the delivery counted', async () => {
      const scraped = await scrape(app);
      return (
        sampleSum(scraped.samples, 'patreon_gateway_event_deliveries_total', {
          result: 'delivered',
        }) > 0 && scraped
      );
    });
    const at = (name: string, labels: Record<string, string> = {}) =>
      sampleSum(synced.samples, name, labels);
    t.equal(at('patreon_gateway_sync_jobs_total', { kind: 'full', result: 'succeeded' }), 1);
    t.equal(at('patreon_gateway_sync_jobs_total', { kind: 'full', result: 'failed' }), 0);
    t.equal(at('patreon_gateway_sync_job_duration_seconds_count', { kind: 'full' }), 1);
    t.equal(
      at('patreon_gateway_sync_rows_written_total', { kind: 'full', resource: 'members' }),
      MEMBERS,
      'rows follow the job counts',
    );
    t.equal(
      at('patreon_gateway_sync_patreon_calls_total', { kind: 'full' }),
      job?.counts.patreonCalls,
      'Patreon calls follow the job counts',
    );
    t.equal(at('patreon_gateway_sync_rate_limited_total', { kind: 'full' }), 0);
    t.ok(
      at('patreon_gateway_patreon_requests_total', {
        endpoint: '/campaigns/{id}/members',
        method: 'GET',
        status: '200',
      }) >= 1,
      'member pages by endpoint template',
    );
    t.ok(at('patreon_gateway_patreon_requests_total', { endpoint: '/api/oauth2/token' }) >= 1);
    t.ok(at('patreon_gateway_patreon_request_duration_seconds_count') >= 3);
    t.ok(at('patreon_gateway_patreon_governor_wait_seconds_count') >= 3, 'governor waits observed');
    t.equal(at('patreon_gateway_connections', { status: 'active' }), 1);
    t.ok(at('patreon_gateway_event_delivery_attempts_total', { result: 'success' }) >= 1);
    t.ok(at('patreon_gateway_event_attempts_per_delivery_count') >= 1);
    t.equal(at('patreon_gateway_event_deliveries_total', { result: 'dead' }), 0);
    t.ok(
      synced.samples.some(
        (s) => s.name === 'patreon_gateway_queue_depth' && s.labels.queue === 'sync',
      ),
    );

    // A refresh on demand, then Patreon revoking the grant.
    const refreshed = await app.inject({
      method: 'POST',
      url: `/v1/connections/${connectionId}/refresh`,
      headers: auth(),
    });
    t.equal(refreshed.statusCode, 200, refreshed.body);
    // A forced refresh within a minute of the last one reuses it: that minute has passed.
    await app.database.db
      .update(connections)
      .set({ lastRefreshedAt: new Date(Date.now() - 120_000) })
      .where(eq(connections.id, connectionId));
    const tokens = (await sandbox.call('/_control/tokens')).json as { id: string; kind: string }[];
    for (const token of tokens) {
      await sandbox.call(`/_control/tokens/${token.id}/revoke`, { method: 'POST' });
    }
    const revoked = await app.inject({
      method: 'POST',
      url: `/v1/connections/${connectionId}/refresh`,
      headers: auth(),
    });
    t.equal(revoked.json().code, 'CONNECTION_REVOKED', revoked.body);
    const after = await scrape(app);
    const now = (name: string, labels: Record<string, string>) =>
      sampleSum(after.samples, name, labels) - sampleSum(synced.samples, name, labels);
    t.equal(now('patreon_gateway_token_refreshes_total', { result: 'refreshed' }), 1);
    t.equal(now('patreon_gateway_token_refreshes_total', { result: 'revoked' }), 1);
    t.equal(sampleSum(after.samples, 'patreon_gateway_connections', { status: 'revoked' }), 1);
    t.equal(sampleSum(after.samples, 'patreon_gateway_connections', { status: 'active' }), 0);

    // No label value anywhere is an id: not the connection, campaign, job, member or user.
    const values = after.samples.flatMap((sample) =>
      Object.entries(sample.labels).flatMap(([key, value]) =>
        key === 'le' || key === 'quantile' ? [] : [`${sample.name}{${key}="${value}"}`],
      ),
    );
    t.ok(values.length > 100, `${values.length} label values checked`);
    t.same(
      values.filter((value) => ID_LIKE.test(value.slice(value.indexOf('{')))),
      [],
      'no id-like label value',
    );
    for (const id of [connectionId, job?.id as string, '4410001']) {
      t.notOk(after.text.includes(id), `${id} appears nowhere`);
    }
  },
);
