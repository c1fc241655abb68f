import { spawn } from 'node:child_process';
import t from 'tap';
import { request } from 'undici';
import { createTokenCipher } from '../../src/crypto/token-cipher.js';
import { openDatabase } from '../../src/db/database.js';
import { runMigrations } from '../../src/db/migrations.js';
import { syncJobs } from '../../src/db/schema/index.js';
import { freePort } from '../fixtures/listen.js';
import { startSandbox } from '../fixtures/sandbox.js';
import { databaseDigest, insertCreatorConnection, patreonDigest } from '../fixtures/sync.js';
import { auth, createRealDatabase, realDatabaseUrl, TEST_API_KEY, testConfig } from '../helper.js';

const MAIN = new URL('../../dist/main.js', import.meta.url).pathname;

t.test(
  'a worker killed with SIGKILL mid-members resumes from its last page with identical data',
  // The embedded database belongs to the process that is killed; kill -9 is a real-server drill.
  { skip: !realDatabaseUrl && 'needs TEST_DATABASE_URL' },
  async (t) => {
    const members = 6_000;
    const url = await createRealDatabase(t);
    const sandbox = await startSandbox(t, { members });
    const database = await openDatabase({ url, poolMax: 3 });
    t.teardown(() => database.close());
    await runMigrations(database);

    // A creator connection holding the sandbox's creator token, sealed as the service seals it.
    const config = testConfig();
    const cipher = createTokenCipher(config.tokenKeys);
    const token = (await sandbox.call('/_control/creator-token')).json;
    const id = await insertCreatorConnection(database.db, cipher, token);

    const port = await freePort();
    const env = {
      PATH: process.env.PATH ?? '',
      PORT: String(port),
      LOG_LEVEL: 'warn',
      DATABASE_URL: url,
      API_KEYS: TEST_API_KEY,
      TOKEN_KEYS: `test:${config.tokenKeys[0]?.key.toString('base64')}`,
      PATREON_CLIENT_ID: sandbox.state.config.clientId,
      PATREON_CLIENT_SECRET: sandbox.state.config.clientSecret,
      PATREON_BASE_URL: sandbox.base,
      RETURN_TO_ALLOWLIST: 'http://127.0.0.1/',
      SYNC_SLICE_SECONDS: '600',
      SYNC_JOB_EXPIRE_SECONDS: '3',
    };
    const startWorker = () => spawn(process.execPath, [MAIN], { env, stdio: 'ignore' });
    const waitUntil = async (check: () => Promise<boolean>, what: string, timeoutMs = 90_000) => {
      const started = Date.now();
      while (!(await check())) {
        if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    };
    const job = async () => (await database.db.select().from(syncJobs))[0];

    let worker = startWorker();
    t.teardown(() => worker.kill('SIGKILL'));
    await waitUntil(async () => {
      try {
        return (await request(`http://127.0.0.1:${port}/readyz`).then((r) => r.statusCode)) === 200;
      } catch {
        return false;
      }
    }, 'the worker to be ready');
    const started = await request(`http://127.0.0.1:${port}/v1/connections/${id}/sync`, {
      method: 'POST',
      headers: { ...auth(), 'content-type': 'application/json' },
      body: JSON.stringify({ mode: 'full' }),
    });
    t.equal(started.statusCode, 202);
    await started.body.dump();

    await waitUntil(
      async () => ((await job())?.counts.members ?? 0) >= 1_500,
      'members to be under way',
    );
    worker.kill('SIGKILL');
    await new Promise((resolve) => worker.once('exit', resolve));
    const atKill = (await job())?.counts.members ?? 0;
    t.ok(
      atKill >= 1_500 && atKill < members,
      `killed with ${atKill} of ${members} members committed`,
    );

    worker = startWorker();
    await waitUntil(async () => (await job())?.status === 'succeeded', 'the resumed job to finish');
    const finished = await job();
    t.equal(
      finished?.counts.members,
      members,
      'every member counted once: the resume started at the saved page',
    );
    const [expected, actual] = await Promise.all([
      (async () => {
        const { createPatreonClient } = await import('../../src/patreon/client.js');
        const client = createPatreonClient({
          baseUrl: sandbox.base,
          clientId: 'x',
          clientSecret: 'y',
        });
        try {
          return await patreonDigest(client, token.access_token, '1234560');
        } finally {
          await client.close();
        }
      })(),
      databaseDigest(database.db, '1234560'),
    ]);
    t.equal(actual.count, members);
    t.equal(
      actual.digest,
      expected.digest,
      'the same data as an uninterrupted run: exactly Patreon’s',
    );
    worker.kill('SIGTERM');
    await new Promise((resolve) => worker.once('exit', resolve));
  },
);
