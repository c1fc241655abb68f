import { readFile } from 'node:fs/promises';
import t from 'tap';
import { request } from 'undici';
import { createTokenCipher } from '../../src/crypto/token-cipher.js';
import { startSandbox } from '../fixtures/sandbox.js';
import { serviceDatabase, spawnService } from '../fixtures/service-process.js';
import { insertCreatorConnection } from '../fixtures/sync.js';
import { auth, testConfig } from '../helper.js';

/** The client's bounds (src/patreon/transport.ts): 3 tries on a 5xx, 5 waited-out 429s. */
const MAX_CALLS_PER_REQUEST = 3 + 6;
/** The client's connections to one upstream (its undici Agent). */
const MAX_SOCKETS = 16;

async function rssMiB(pid: number | undefined): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1]) / 1024;
}

t.test('Patreon failing or slow: bounded retries, bounded sockets and memory', async (t) => {
  const sandbox = await startSandbox(t, { members: 20 });
  // Only the faults under test: no rate windows at the sandbox, none in the service.
  await sandbox.call('/_control/limits', { method: 'PUT', body: { enabled: false } });
  let connectionId = '';
  const database = await serviceDatabase(t, async (db) => {
    const token = (await sandbox.call('/_control/creator-token')).json;
    connectionId = await insertCreatorConnection(
      db.db,
      createTokenCipher(testConfig().tokenKeys),
      token,
    );
  });
  const service = await spawnService(t, {
    ...database.env,
    PATREON_CLIENT_ID: sandbox.state.config.clientId,
    PATREON_CLIENT_SECRET: sandbox.state.config.clientSecret,
    PATREON_BASE_URL: sandbox.base,
    PATREON_CLIENT_RATE: '10000',
    PATREON_TOKEN_RATE: '10000',
    RETURN_TO_ALLOWLIST: 'http://127.0.0.1/',
  });
  await service.ready();

  // The host's call that needs Patreon at once: starting a sync lists the creator's campaigns.
  const startSync = async () => {
    const started = Date.now();
    const response = await request(`${service.base}/v1/connections/${connectionId}/sync`, {
      method: 'POST',
      headers: { ...auth(), 'content-type': 'application/json' },
      body: JSON.stringify({ mode: 'full' }),
    });
    const body = (await response.body.json()) as { code?: string };
    return { status: response.statusCode, code: body.code, ms: Date.now() - started };
  };
  const campaignListCalls = async () => {
    const counters = (await sandbox.call('/_control/counters')).json as {
      apiCalls: Record<string, number>;
    };
    return Object.entries(counters.apiCalls)
      .filter(([key]) => /^GET \S*\/campaigns \d+$/.test(key))
      .reduce((sum, [, n]) => sum + n, 0);
  };

  await t.test('every call fails (5xx or 429): a few tries, then a 503 problem', async (t) => {
    await sandbox.call('/_control/quirks', {
      method: 'PUT',
      body: { chaos: { rate: 1, seed: 7 } },
    });
    const perRequest: number[] = [];
    for (let i = 0; i < 3; i++) {
      const before = await campaignListCalls();
      const answer = await startSync();
      perRequest.push((await campaignListCalls()) - before);
      t.equal(answer.status, 503, `request ${i}: 503`);
      t.match(answer.code, /^PATREON_(UNAVAILABLE|RATE_LIMITED)$/);
    }
    t.ok(
      perRequest.every((calls) => calls >= 1 && calls <= MAX_CALLS_PER_REQUEST),
      `Patreon calls per request: ${perRequest.join(', ')} (at most ${MAX_CALLS_PER_REQUEST})`,
    );
    t.ok(
      perRequest.some((calls) => calls > 1),
      'failures were retried',
    );
    await sandbox.call('/_control/quirks', { method: 'PUT', body: { chaos: { rate: 0 } } });
  });

  await t.test('every answer slow: callers wait, nothing piles up', async (t) => {
    const delayMs = 1_000;
    await sandbox.call('/_control/quirks', { method: 'PUT', body: { delayMs } });
    const rssBefore = await rssMiB(service.child.pid);
    const before = await campaignListCalls();
    let sockets = 0;
    let rssPeak = rssBefore;
    const sampler = setInterval(() => {
      sandbox.app.server.getConnections((_, count) => {
        sockets = Math.max(sockets, count);
      });
      rssMiB(service.child.pid).then(
        (mib) => {
          rssPeak = Math.max(rssPeak, mib);
        },
        () => {},
      );
    }, 50);
    t.teardown(() => clearInterval(sampler));

    // 48 callers at once, each calling again as soon as it has its answer, for a few seconds.
    const answers: Awaited<ReturnType<typeof startSync>>[] = [];
    const until = Date.now() + 4_000;
    await Promise.all(
      Array.from({ length: 48 }, async () => {
        while (Date.now() < until) answers.push(await startSync());
      }),
    );
    clearInterval(sampler);
    const calls = (await campaignListCalls()) - before;

    t.same(
      [...new Set(answers.map((a) => `${a.status} ${a.code ?? ''}`.trim()))],
      ['202'],
      `all ${answers.length} requests answered 202`,
    );
    t.equal(calls, answers.length, 'one Patreon call per request: slowness is not retried');
    // Sockets: the service's pool to Patreon, plus this test's own control calls.
    t.ok(sockets <= MAX_SOCKETS + 2, `at most ${sockets} sockets open to the sandbox`);
    t.ok(sockets >= 8, 'the service did use many connections at once');
    const slowest = Math.max(...answers.map((a) => a.ms));
    t.ok(
      slowest < delayMs * Math.ceil(48 / MAX_SOCKETS) * 3,
      `slowest answer ${slowest} ms: waiting callers queue, they do not pile up`,
    );
    const growth = rssPeak - rssBefore;
    t.ok(growth < 100, `RSS grew ${growth.toFixed(1)} MiB (from ${rssBefore.toFixed(1)})`);
    await sandbox.call('/_control/quirks', { method: 'PUT', body: { delayMs: 0 } });
  });

  service.child.kill('SIGTERM');
  t.equal(await service.exit, 0, 'stops cleanly');
});
