import pg from 'pg';
import t from 'tap';
import { openDatabase } from '../../src/db/database.js';
import { tcpProxy } from '../fixtures/tcp-proxy.js';
import { deliver, insertWebhook, memberPayload } from '../fixtures/webhooks.js';
import { build, capturingLogger, freshDatabaseUrl, realDatabaseUrl } from '../helper.js';

const SECRET = 'whsec-outage-0123456789abcdef0123456789abcdef';

// The embedded database lives in the service's process: it cannot go away on its own, and cutting
// its loopback socket mid-statement wedges pglite-socket. A real server can restart under us.
t.test(
  'the database going away mid-burst: every 2xx is stored, everything else is a 503',
  { skip: realDatabaseUrl ? false : 'needs a real PostgreSQL server (TEST_DATABASE_URL)' },
  async (t) => {
    const target = new URL(await freshDatabaseUrl(t));
    const proxy = tcpProxy(Number(target.port));
    const port = await proxy.listen(0);
    const viaProxy = new URL(target);
    viaProxy.port = String(port);
    const capture = capturingLogger('warn');
    const { app } = await build(t, {
      logger: capture.logger,
      database: await openDatabase({ url: viaProxy.toString(), poolMax: realDatabaseUrl ? 5 : 1 }),
    });
    t.teardown(() => proxy.close());
    const webhookId = await insertWebhook(app, { secret: SECRET });

    const send = (n: number) =>
      deliver(app, webhookId, {
        secret: SECRET,
        body: JSON.stringify(
          memberPayload({ memberId: `0000beef-0000-4000-8000-${String(n).padStart(12, '0')}` }),
        ),
      }).then((response) => ({ n, response }));

    // A burst in three waves: the database is cut during the second and back for the third.
    const results: Awaited<ReturnType<typeof send>>[] = [];
    let n = 0;
    const wave = async (size: number) => {
      const sent = Array.from({ length: size }, () => send(n++));
      return sent;
    };
    results.push(...(await Promise.all(await wave(60))));
    const during = await wave(60);
    await new Promise((resolve) => setTimeout(resolve, 5));
    await proxy.close();
    results.push(...(await Promise.all([...during, ...(await wave(30))])));
    await proxy.listen(port);
    // The pool reconnects on its own; Patreon's retries would now land.
    for (let i = 0; i < 50; i++) {
      const retry = await send(n++);
      results.push(retry);
      if (retry.response.statusCode === 200) break;
    }

    const accepted = results.filter((r) => r.response.statusCode === 200);
    const refused = results.filter((r) => r.response.statusCode !== 200);
    t.ok(accepted.length >= 61, `${accepted.length} accepted`);
    t.ok(refused.length > 0, `${refused.length} refused while the database was away`);
    for (const { response } of refused) {
      t.equal(response.statusCode, 503);
      t.equal(response.headers['retry-after'], '5');
      t.equal(response.json().code, 'WEBHOOK_STORE_UNAVAILABLE');
    }
    // One line for the outage (and one a few seconds apart while it lasts), not one per delivery.
    const outageLines = capture.lines.filter((line) => line.includes('cannot be stored'));
    t.ok(
      outageLines.length >= 1 && outageLines.length <= 3,
      `${outageLines.length} log lines for ${refused.length} refused deliveries`,
    );
    t.equal(capture.lines.filter((line) => line.includes('request failed')).length, 0);
    const last = results.at(-1);
    t.equal(last?.response.statusCode, 200, 'accepted again once the database is back');

    // Checked over a connection of our own, not through the app.
    const direct = new pg.Client({ connectionString: target.toString() });
    await direct.connect();
    t.teardown(() => direct.end());
    const stored = new Set(
      (await direct.query<{ id: string }>('select id::text from webhook_events')).rows.map(
        (row) => row.id,
      ),
    );
    const lost = accepted.filter(({ response }) => !stored.has(response.json().id));
    t.same(lost, [], 'every delivery answered 200 is stored');
  },
);
