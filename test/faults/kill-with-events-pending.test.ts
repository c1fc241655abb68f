import t from 'tap';
import { startReceiver } from '../fixtures/receiver.js';
import {
  endpointSecret,
  killHard,
  listAll,
  postDelivery,
  seedWebhook,
  serviceDatabase,
  spawnService,
} from '../fixtures/service-process.js';
import { eventually, memberPayload } from '../fixtures/webhooks.js';
import { realDatabaseUrl } from '../helper.js';

const SECRET = 'whsec-kill-0123456789abcdef0123456789abcdef';
const CAMPAIGN = '7654320';
const memberId = (n: number) => `0000dead-0000-4000-8000-${String(n).padStart(12, '0')}`;

t.test(
  'SIGKILL while events wait for the host: after a restart every event is delivered',
  async (t) => {
    let webhookId = '';
    const database = await serviceDatabase(t, async (db) => {
      webhookId = await seedWebhook(db, { campaignId: CAMPAIGN, secret: SECRET });
    });
    const host = await startReceiver(t);
    let hostUp = false;
    // webhook-ids the host answered 2xx.
    const took = new Set<string>();
    // Down: a 503 asking for 5 s, so between retries no attempt is in flight and the kill leaves
    // pending deliveries, not leased ones (a leased one would wait EVENTS_TIMEOUT_MS + 30 s).
    host.answerWith((delivery) => {
      if (!hostUp) return { status: 503, headers: { 'retry-after': '5' } };
      took.add(String(delivery.headers['webhook-id']));
      return { status: 204 };
    });
    const env = {
      ...database.env,
      PATREON_CLIENT_ID: 'fault-client',
      PATREON_CLIENT_SECRET: 'fault-secret',
      // Nothing in this test talks to Patreon.
      PATREON_BASE_URL: 'http://127.0.0.1:9',
      RETURN_TO_ALLOWLIST: 'http://127.0.0.1/',
      EVENTS_ENDPOINT_URL: host.url,
      EVENTS_ENDPOINT_SECRET: endpointSecret(),
      EVENTS_ALLOW_PRIVATE_URLS: 'true',
      // Failing deliveries stay pending (never dead) for as long as this test can run.
      EVENTS_RETRY_SCHEDULE: '200ms,400ms,800ms,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s,1s',
      EVENTS_POLL_INTERVAL_MS: '50',
      EVENTS_TIMEOUT_MS: '2000',
    };
    const started = Date.now();
    const first = await spawnService(t, env);
    await first.ready();
    t.comment(`ready in ${Date.now() - started} ms`);

    // Members join and upgrade; then, while their first events wait for the host, they leave and
    // come back (events queued behind the waiting ones), and the kill lands during that wave.
    const accepted: string[] = [];
    let refused = 0;
    const payload = (n: number, step: string) => {
      const input = { memberId: memberId(n), userId: String(91_000 + n), campaignId: CAMPAIGN };
      if (step === 'upgrade') return memberPayload({ ...input, amountCents: 1000 });
      if (step === 'leave')
        return memberPayload({ ...input, patronStatus: 'former_patron', tierIds: [] });
      return memberPayload(input);
    };
    const steps = {
      first: [
        ['members:pledge:create', 'join'],
        ['members:pledge:update', 'upgrade'],
      ],
      second: [
        ['members:pledge:delete', 'leave'],
        ['members:pledge:create', 'join'],
        ['members:pledge:update', 'upgrade'],
      ],
    };
    const send = async (n: number, wave: keyof typeof steps) => {
      for (const [event, step] of steps[wave]) {
        try {
          const answer = await postDelivery(first.base, webhookId, {
            secret: SECRET,
            event: event as string,
            body: JSON.stringify(payload(n, step as string)),
          });
          if (answer.status === 200 && answer.id) accepted.push(answer.id);
          else refused++;
        } catch {
          // The process died under the request: Patreon was not told 2xx and would retry.
          refused++;
          return;
        }
      }
    };
    const members = Array.from({ length: 10 }, (_, n) => n);
    await Promise.all(members.map((n) => send(n, 'first')));
    const before = await eventually(
      'events waiting for the host',
      async () => {
        const events = await listAll<{ id: string }>(first.base, '/v1/events');
        return events.length >= 30 && host.received.length >= 10 ? events : undefined;
      },
      20_000,
      200,
    );
    const firstWave = accepted.length;
    const secondWave = Promise.all(members.map((n) => send(n, 'second')));
    // A moment between two rounds of retries (the test stays right without one, only slower).
    const quietBy = Date.now() + 10_000;
    await eventually(
      'a moment with no attempt in flight',
      async () => {
        const sinceLast = Date.now() - (host.received.at(-1)?.at ?? 0);
        return (
          accepted.length > firstWave + 5 &&
          ((sinceLast > 300 && sinceLast < 3_000) || Date.now() > quietBy)
        );
      },
      20_000,
    );
    await killHard(first);
    await secondWave;
    t.ok(host.received.length >= 10, 'deliveries were tried before the kill, and refused');
    t.comment(
      `killed with ${before.length}+ events recorded, ${accepted.length} Patreon deliveries accepted, ${refused} cut off`,
    );

    hostUp = true;
    const restartedAt = Date.now();
    const second = await spawnService(t, env);
    await second.ready();
    const readyMs = Date.now() - restartedAt;
    const outcome = await eventually(
      'every accepted delivery applied and every event accepted by the host',
      async () => {
        const received = await listAll<{ id: string; status: string }>(
          second.base,
          '/v1/webhook-events',
        );
        if (received.some((event) => event.status === 'received')) return undefined;
        const events = await listAll<{ id: string }>(second.base, '/v1/events');
        const missing = events.filter((event) => !took.has(event.id));
        return missing.length === 0 ? { received, events } : undefined;
      },
      45_000,
      250,
    );

    t.comment(
      `restarted: ready in ${readyMs} ms, every event delivered after ${Date.now() - restartedAt} ms (a delivery in flight at the kill waits for its lease: EVENTS_TIMEOUT_MS + 30 s)`,
    );
    const stored = new Map(outcome.received.map((event) => [event.id, event.status]));
    t.same(
      accepted.filter((id) => !['applied', 'ignored'].includes(stored.get(id) ?? 'missing')),
      [],
      'every delivery answered 200 before the kill is stored and applied',
    );
    t.ok(outcome.events.length >= before.length, `${outcome.events.length} events recorded`);
    t.same(
      outcome.events.filter((event) => !took.has(event.id)).map((event) => event.id),
      [],
      'every event reached the host once it answered 2xx, none missing',
    );
    const ids = host.received.map((d) => String(d.headers['webhook-id']));
    t.ok(
      ids.every((id) => outcome.events.some((event) => event.id === id)),
      'the host saw no event the service does not list',
    );

    await eventually(
      'the delivery list to show every event delivered',
      async () => {
        const [pending, failed] = await Promise.all(
          ['pending', 'failed'].map((status) =>
            listAll<{ id: string }>(second.base, `/v1/events?status=${status}`),
          ),
        );
        return pending?.length === 0 && failed?.length === 0;
      },
      10_000,
      200,
    );
    second.child.kill('SIGTERM');
    t.equal(await second.exit, 0, 'the restarted service stops cleanly');
  },
);

t.comment(realDatabaseUrl ? 'on PostgreSQL' : 'on the embedded database (DATA_DIR)');
