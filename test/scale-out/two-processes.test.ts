import { eq } from 'drizzle-orm';
import t from 'tap';
import { request } from 'undici';
import { createTokenCipher } from '../../src/crypto/token-cipher.js';
import type { Database } from '../../src/db/database.js';
import { connections, patreonUsers } from '../../src/db/schema/index.js';
import { startReceiver } from '../fixtures/receiver.js';
import { startSandbox } from '../fixtures/sandbox.js';
import {
  endpointSecret,
  postDelivery,
  seedWebhook,
  serviceDatabase,
  spawnService,
} from '../fixtures/service-process.js';
import { eventually, memberPayload } from '../fixtures/webhooks.js';
import { auth, realDatabaseUrl, testConfig } from '../helper.js';

const SECRET = 'whsec-scale-0123456789abcdef0123456789abcdef';
const CAMPAIGN = '7654320';
const MEMBERS = 1_500;
const CREATORS = ['4410001', '4410002'];
const SCOPES = 'identity campaigns campaigns.members campaigns.posts';
/** Patreon's largest member page with pledge history (patreon-api.md; the sandbox caps it too). */
const PAGE = 500;

/**
 * A creator connection with the sandbox's tokens whose expiry, in our records, is a minute away:
 * inside the refresh margin, so the first call from either process wants to refresh it.
 */
async function seedCreator(
  database: Database,
  token: { access_token: string; refresh_token: string },
  patreonUserId: string,
): Promise<string> {
  const cipher = createTokenCipher(testConfig().tokenKeys);
  await database.db.insert(patreonUsers).values({ id: patreonUserId }).onConflictDoNothing();
  const [row] = await database.db
    .insert(connections)
    .values({
      externalUserId: `creator-${patreonUserId}`,
      role: 'creator',
      patreonUserId,
      scopes: SCOPES.split(' '),
    })
    .returning();
  const id = row?.id as string;
  await database.db
    .update(connections)
    .set({
      accessTokenCiphertext: cipher.seal(token.access_token, id),
      refreshTokenCiphertext: cipher.seal(token.refresh_token, id),
      tokenExpiresAt: new Date(Date.now() + 60_000),
    })
    .where(eq(connections.id, id));
  return id;
}

t.test(
  'two service processes on one Postgres: each job once, each event once, one refresh per connection',
  // Two processes cannot share an embedded database: it lives inside the process that opens it.
  { skip: !realDatabaseUrl && 'needs TEST_DATABASE_URL (two processes on one real server)' },
  async (t) => {
    const sandbox = await startSandbox(t, { members: MEMBERS });
    const tokens = await Promise.all(CREATORS.map((user) => sandbox.connect(user, SCOPES)));
    const connectionIds: string[] = [];
    let webhookId = '';
    const database = await serviceDatabase(t, async (db) => {
      for (const [i, user] of CREATORS.entries()) {
        connectionIds.push(await seedCreator(db, tokens[i] as (typeof tokens)[0], user));
      }
      webhookId = await seedWebhook(db, { campaignId: CAMPAIGN, secret: SECRET });
    });
    const shared = database.shared as Database;
    const host = await startReceiver(t);
    const env = {
      ...database.env,
      PATREON_CLIENT_ID: sandbox.state.config.clientId,
      PATREON_CLIENT_SECRET: sandbox.state.config.clientSecret,
      PATREON_BASE_URL: sandbox.base,
      RETURN_TO_ALLOWLIST: 'http://127.0.0.1/',
      EVENTS_ENDPOINT_URL: host.url,
      EVENTS_ENDPOINT_SECRET: endpointSecret(),
      EVENTS_ALLOW_PRIVATE_URLS: 'true',
      EVENTS_POLL_INTERVAL_MS: '50',
      // Short slices: a job's slices are handed back and forth between the processes.
      SYNC_SLICE_SECONDS: '1',
    };
    const services = await Promise.all([spawnService(t, env), spawnService(t, env)]);
    await Promise.all(services.map((service) => service.ready()));
    const [a, b] = services as [(typeof services)[0], (typeof services)[0]];

    // Both processes are asked to sync both creators at the same moment: both want to refresh.
    const startSync = async (base: string, connectionId: string) => {
      const response = await request(`${base}/v1/connections/${connectionId}/sync`, {
        method: 'POST',
        headers: { ...auth(), 'content-type': 'application/json' },
        body: JSON.stringify({ mode: 'full' }),
      });
      const body = await response.body.text();
      if (response.statusCode !== 202) throw new Error(`sync: ${response.statusCode} ${body}`);
    };
    const syncs = Promise.all(
      connectionIds.flatMap((id) =>
        [a, b, a, b, a, b].map((service) => startSync(service.base, id)),
      ),
    );

    // Patreon's deliveries, each member's in order, alternating between the two processes.
    const accepted: string[] = [];
    const refused: number[] = [];
    const member = async (n: number) => {
      const input = {
        memberId: `0000beef-5ca1-4000-8000-${String(n).padStart(12, '0')}`,
        userId: String(93_000 + n),
        campaignId: CAMPAIGN,
      };
      const steps: [string, object][] = [
        ['members:pledge:create', memberPayload(input)],
        ['members:pledge:update', memberPayload({ ...input, amountCents: 1000 })],
        ['members:update', memberPayload({ ...input, amountCents: 1000, fullName: 'Renamed' })],
        [
          'members:pledge:delete',
          memberPayload({ ...input, patronStatus: 'former_patron', tierIds: [] }),
        ],
      ];
      for (const [i, [event, payload]] of steps.entries()) {
        const target = (n + i) % 2 === 0 ? a : b;
        const answer = await postDelivery(target.base, webhookId, {
          secret: SECRET,
          event,
          body: JSON.stringify(payload),
        });
        if (answer.status === 200 && answer.id) accepted.push(answer.id);
        else refused.push(answer.status);
      }
    };
    const deliveries = Promise.all(Array.from({ length: 40 }, (_, n) => member(n)));
    await syncs;
    // Asked again while the big job runs: the running job is reused, never run beside itself.
    const running = await eventually(
      'the big sync to be under way',
      async () => {
        const { rows } = await shared.pool.query<{ connection_id: string }>(
          "select connection_id from sync_jobs where campaign_id = '1234560' and status = 'running' and (counts->>'members')::int > 0",
        );
        return rows[0]?.connection_id;
      },
      30_000,
      50,
    );
    await Promise.all([a, b, a, b].map((service) => startSync(service.base, running)));
    await deliveries;
    t.same(refused, [], 'every delivery accepted');

    const jobs = await eventually(
      'every sync job to finish',
      async () => {
        const { rows } = await shared.pool.query<{
          id: string;
          connection_id: string;
          campaign_id: string;
          kind: string;
          status: string;
          members: number;
        }>(
          "select id, connection_id, campaign_id, kind, status, (counts->>'members')::int as members from sync_jobs",
        );
        return rows.length > 0 && rows.every((row) => row.status === 'succeeded')
          ? rows
          : undefined;
      },
      45_000,
      250,
    );
    t.equal(jobs.length, 2, 'one job per creator, though both processes were asked for each');
    const synced = await shared.pool.query<{ campaign_id: string; n: number }>(
      'select campaign_id, count(*)::int as n from members where campaign_id <> $1 group by campaign_id',
      [CAMPAIGN],
    );
    const rows = new Map(synced.rows.map((row) => [row.campaign_id, row.n]));
    for (const job of jobs) {
      t.equal(
        job.members,
        rows.get(job.campaign_id),
        `job ${job.campaign_id}: no page counted twice`,
      );
    }
    t.equal(rows.get('1234560'), MEMBERS, 'the big campaign is complete');

    // pg-boss: every slice completed, none retried (a slice run twice would be a retry or a twin).
    const queue = await eventually(
      'the last slices to be marked completed',
      async () => {
        const { rows } = await shared.pool.query<{ state: string; retries: number; n: number }>(
          "select state, retry_count as retries, count(*)::int as n from pgboss.job where name = 'sync' group by state, retry_count",
        );
        return rows.every((row) => row.state === 'completed' || row.state === 'failed')
          ? rows
          : undefined;
      },
      10_000,
      100,
    );
    const slices = queue.reduce((sum, row) => sum + row.n, 0);
    t.same(
      queue.map(({ state, retries }) => ({ state, retries })),
      [{ state: 'completed', retries: 0 }],
      `every sync slice ran once, none retried (${slices} slices)`,
    );
    // No two slices of one job ever ran at the same time (beyond the moment a slice's completion
    // and the next one's start share: both stamp their transaction's start).
    const overlapping = await shared.pool.query(
      `select a.id, a.state, b.state as b_state, extract(epoch from a.completed_on - b.started_on) * 1000 as overlap_ms from pgboss.job a join pgboss.job b on a.singleton_key = b.singleton_key and a.id <> b.id
        where a.name = 'sync' and b.name = 'sync' and a.started_on < b.started_on and b.started_on < a.completed_on - interval '100 milliseconds'`,
    );
    for (const row of overlapping.rows.slice(0, 3)) t.comment(JSON.stringify(row));
    t.equal(overlapping.rowCount, 0, 'no two slices of one job ran at once');

    // A slice that ends drops the page it had prefetched, so a page may be fetched once more per
    // slice; a job run twice would fetch every page twice.
    const counters = (await sandbox.call('/_control/counters')).json as {
      apiCalls: Record<string, number>;
    };
    const memberPages = Object.entries(counters.apiCalls)
      .filter(([key]) => key.includes('/members') && key.endsWith(' 200'))
      .reduce((sum, [, n]) => sum + n, 0);
    const expectedPages = [...rows.values()].reduce((sum, n) => sum + Math.ceil(n / PAGE), 0);
    t.ok(
      memberPages >= expectedPages && memberPages <= expectedPages + slices,
      `${memberPages} member pages fetched for ${expectedPages} pages in ${slices} slices`,
    );

    // Every delivery applied once, and every event it made reached the host exactly once.
    const applied = await eventually(
      'every delivery applied',
      async () => {
        const { rows } = await shared.pool.query<{ id: string; status: string }>(
          'select id::text, status from webhook_events',
        );
        return rows.length === accepted.length && rows.every((row) => row.status !== 'received')
          ? rows
          : undefined;
      },
      20_000,
      200,
    );
    t.same(
      applied.filter((row) => row.status !== 'applied' && row.status !== 'ignored'),
      [],
      `${applied.length} deliveries applied`,
    );
    const events = await eventually(
      'every event at the host',
      async () => {
        const { rows } = await shared.pool.query<{ id: string }>(
          'select id::text from outbound_events',
        );
        const seen = new Set(host.received.map((d) => String(d.headers['webhook-id'])));
        return rows.length > 0 && rows.every((row) => seen.has(row.id)) ? rows : undefined;
      },
      20_000,
      200,
    );
    const ids = host.received.map((d) => String(d.headers['webhook-id']));
    t.equal(
      ids.length,
      new Set(ids).size,
      `${events.length} events, no webhook-id delivered twice`,
    );
    t.equal(ids.length, events.length, 'the host got exactly the recorded events');

    // Token refresh: once per connection at Patreon, though both processes needed a fresh token.
    const lineages = (await sandbox.call('/_control/tokens')).json as {
      kind: string;
      userId: string;
      refreshes: number;
    }[];
    t.same(
      CREATORS.map((user) =>
        lineages.filter((l) => l.kind === 'user' && l.userId === user).map((l) => l.refreshes),
      ),
      [[1], [1]],
      'exactly one refresh per connection reached Patreon',
    );

    for (const service of services) service.child.kill('SIGTERM');
    t.same(await Promise.all(services.map((service) => service.exit)), [0, 0], 'both stop cleanly');
  },
);
