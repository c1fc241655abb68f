import { sql } from 'drizzle-orm';
import t from 'tap';
import { connectCreator, connectPatron, startGateway } from '../fixtures/gateway.js';
import { startReceiver } from '../fixtures/receiver.js';
import { deliver, eventually, registeredWebhook } from '../fixtures/webhooks.js';
import { auth, capturingLogger, SECOND_API_KEY, TEST_API_KEY } from '../helper.js';

const CONFIG_ENDPOINT_SECRET = `whsec_${Buffer.alloc(32, 11).toString('base64')}`;

/** A response the gateway sent, as the client saw it. */
type Sent = { url: string; status: number; headers: string; body: string };

t.test(
  'no secret reaches a log line or a response across connect, sync, webhooks and events',
  async (t) => {
    const capture = capturingLogger('debug');
    const sent: Sent[] = [];
    /** OAuth values seen in the browser's requests: tickets, states, codes. */
    const oauth = {
      tickets: new Set<string>(),
      states: new Set<string>(),
      codes: new Set<string>(),
    };
    const host = await startReceiver(t);
    const gateway = await startGateway(t, {
      members: 12,
      logger: capture.logger,
      env: {
        EVENTS_ALLOW_PRIVATE_URLS: 'true',
        EVENTS_ENDPOINT_URL: host.url,
        EVENTS_ENDPOINT_SECRET: CONFIG_ENDPOINT_SECRET,
        EVENTS_RETRY_SCHEDULE: '100ms',
      },
      // Observers only: every request's OAuth parameters and every response as sent.
      extend: (app) => {
        app.addHook('onRequest', async (request) => {
          const query = request.query as Record<string, unknown>;
          for (const [name, set] of [
            ['ticket', oauth.tickets],
            ['state', oauth.states],
            ['code', oauth.codes],
          ] as const) {
            if (typeof query[name] === 'string') set.add(query[name]);
          }
        });
        app.addHook('onSend', async (request, reply, payload) => {
          sent.push({
            url: request.url,
            status: reply.statusCode,
            headers: JSON.stringify(reply.getHeaders()),
            body: typeof payload === 'string' || Buffer.isBuffer(payload) ? String(payload) : '',
          });
          return payload;
        });
      },
    });
    const api = (method: 'GET' | 'POST' | 'DELETE', url: string, payload?: object) =>
      gateway.app.inject({ method, url, headers: auth(), ...(payload ? { payload } : {}) });

    // Connect a creator (sync, webhook registration) and a patron through the sandbox OAuth flow.
    const { connectionId: creatorId } = await connectCreator(gateway, {
      externalUserId: 'leak-creator',
    });
    t.ok(creatorId, 'the creator is connected');
    const webhook = await registeredWebhook(gateway.app);

    // A second endpoint through the API: its secret is answered once, on create and on rotate.
    const created = await api('POST', '/v1/event-endpoints', { url: host.url });
    t.equal(created.statusCode, 201);
    const rotated = await api('POST', `/v1/event-endpoints/${created.json().id}/rotate-secret`);
    t.equal(rotated.statusCode, 200);
    const answeredOnce = new Map<string, string>([
      [created.json().secret, created.body],
      [rotated.json().secret, rotated.body],
    ]);

    // Patreon webhooks: a new member, a pledge change; events reach the host.
    const added = await gateway.sandbox.call('/_control/members', {
      method: 'POST',
      body: { fullName: 'Leak Check', tierId: '54321' },
    });
    const member = added.json.record as { id: string; userId: string };
    const { connectionId: patronId } = await connectPatron(gateway, {
      externalUserId: 'leak-patron',
      userId: member.userId,
    });
    t.ok(patronId, 'the patron is connected');
    await gateway.sandbox.call(`/_control/members/${member.id}/pledge`, {
      method: 'POST',
      body: { tierId: '54322' },
    });
    await eventually('entitlement.changed at the host', async () =>
      host.received.find((delivery) => delivery.body.type === 'entitlement.changed'),
    );

    // Refused on purpose: a forged webhook, a wrong API key.
    await deliver(gateway.app, webhook.id, { secret: 'forged', body: '{"data":{}}' });
    await gateway.app.inject({ url: '/v1/connections', headers: auth(`${TEST_API_KEY}x`) });

    // Read and act through the API.
    await api('POST', `/v1/connections/${creatorId}/refresh`);
    await api('POST', `/v1/connections/${patronId}/refresh`);
    for (const url of [
      '/v1/connections',
      `/v1/connections/${creatorId}`,
      `/v1/connections/${patronId}`,
      '/v1/webhooks',
      '/v1/webhook-events?limit=200',
      '/v1/events?limit=200',
      '/v1/event-endpoints',
      `/v1/event-endpoints/${created.json().id}`,
      `/v1/sync-jobs?connectionId=${creatorId}`,
      `/v1/entitlements?externalUserId=leak-patron&campaignId=1234560&explain=true`,
      '/v1/campaigns',
    ]) {
      t.equal((await api('GET', url)).statusCode, 200, url);
    }
    await api('DELETE', `/v1/connections/${patronId}`);

    // Every secret of the run, from where it lives.
    const tokens = (await gateway.sandbox.call('/_control/tokens/issued')).json.tokens as string[];
    const webhookSecrets = (
      (await gateway.sandbox.call('/_control/webhooks')).json as { secret: string }[]
    ).map((hook) => hook.secret);
    const secrets: [string, string][] = [
      ...tokens.map((token) => ['a Patreon token', token] as [string, string]),
      ...[...oauth.codes].map((code) => ['an OAuth code', code] as [string, string]),
      ['the client secret', gateway.config.patreon.clientSecret],
      ...webhookSecrets.map((secret) => ['a Patreon webhook secret', secret] as [string, string]),
      ['an API key', TEST_API_KEY],
      ['an API key', SECOND_API_KEY],
      ...gateway.config.tokenKeys.map(
        ({ key }) => ['a token key', key.toString('base64')] as [string, string],
      ),
      ['the configured endpoint secret', CONFIG_ENDPOINT_SECRET],
      ...[...answeredOnce.keys()].map(
        (secret) => ['an endpoint secret', secret] as [string, string],
      ),
    ];
    const browserOnly: [string, string][] = [
      ...[...oauth.tickets].map((ticket) => ['a ticket', ticket] as [string, string]),
      ...[...oauth.states].map((state) => ['an OAuth state', state] as [string, string]),
    ];
    t.ok(tokens.length >= 6, `${tokens.length} tokens issued`);
    t.equal(oauth.codes.size, 2, 'two OAuth codes');
    t.equal(oauth.tickets.size, 2, 'two tickets');
    t.equal(webhookSecrets.length, 1, 'one Patreon webhook secret');
    t.ok(host.received.length >= 3, `${host.received.length} events delivered to the host`);

    t.ok(sent.length > 30, `${sent.length} responses`);
    const atHost = host.received.map((d) => `${JSON.stringify(d.headers)}${d.raw}`).join('\n');
    const tables = await gateway.database.db.execute<{ name: string }>(
      sql`select format('%I.%I', schemaname, tablename) as name from pg_tables where schemaname in ('public', 'drizzle')`,
    );
    let dump = '';
    for (const { name } of tables.rows) {
      const rows = await gateway.database.db.execute(
        sql.raw(`select row_to_json(t)::text as row from ${name} t`),
      );
      dump += rows.rows.map((r) => String(r.row)).join('\n');
    }
    t.match(dump, /v1\.test\./, 'the dump does hold sealed values');

    // Read after the dump's round trips, so the last response's log line has been written.
    const logs = capture.text();
    // The ingest route logs at `warn`: its deliveries write no request line (a refused one logs
    // a warning naming the webhook, searched like every other line).
    const unlogged = sent
      .map((response) => response.url.split('?')[0] ?? '')
      .filter((path) => !path.startsWith('/webhooks/patreon/'))
      .filter((path) => !logs.includes(`"url":"${path}`));
    t.same(unlogged, [], 'every response but deliveries has its log line to search');

    for (const [what, secret] of [...secrets, ...browserOnly]) {
      const forms = [secret, encodeURIComponent(secret)];
      t.notOk(
        forms.some((form) => logs.includes(form)),
        `${what} is not in the logs`,
      );
    }
    for (const [what, secret] of secrets) {
      const forms = [secret, encodeURIComponent(secret), JSON.stringify(secret).slice(1, -1)];
      const leaks = sent.filter(
        (response) =>
          response.body !== answeredOnce.get(secret) &&
          forms.some((form) => response.body.includes(form) || response.headers.includes(form)),
      );
      t.same(
        leaks.map((response) => `${response.status} ${response.url}`),
        [],
        `${what} is in no response${answeredOnce.has(secret) ? ' but the one that created it' : ''}`,
      );
      t.notOk(atHost.includes(secret), `${what} is not sent to the host`);
      t.notOk(dump.includes(secret), `${what} is not stored in clear`);
    }
  },
);
