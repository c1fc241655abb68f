import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import t from 'tap';
import { request } from 'undici';
import { freePort } from './fixtures/listen.js';
import { createRealDatabase, realDatabaseUrl } from './helper.js';

/**
 * The service as users run it: `node dist/main.js` (what `npm start` runs; `npm test` builds
 * dist first), driven over real HTTP and signals.
 */
const MAIN = new URL('../dist/main.js', import.meta.url).pathname;
/** CI sets SERVICE_NODE to run the service on another Node major (e.g. 24) than the tests. */
const NODE = process.env.SERVICE_NODE || process.execPath;

type Started = {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exit: Promise<number | null>;
};

function start(env: Record<string, string>): Started {
  const child = spawn(NODE, [MAIN], {
    env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout?.on('data', (chunk) => {
    out += chunk;
  });
  child.stderr?.on('data', (chunk) => {
    err += chunk;
  });
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, stdout: () => out, stderr: () => err, exit };
}

async function rssMiB(pid: number | undefined): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Math.round(Number(/VmRSS:\s+(\d+)/.exec(status)?.[1]) / 1024);
}

async function waitReady(base: string, timeoutMs: number): Promise<number> {
  const started = Date.now();
  while (Date.now() - started < timeoutMs) {
    try {
      const response = await request(`${base}/readyz`);
      await response.body.dump();
      if (response.statusCode === 200) return Date.now() - started;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`not ready within ${timeoutMs} ms`);
}

t.test('a bad configuration exits non-zero with every problem and no secret', async (t) => {
  const secret = 'sk-live-do-not-print-me';
  const run = start({ PORT: 'eighty', PATREON_CLIENT_SECRET: secret, TOKEN_KEYS: `k1:${secret}` });
  const code = await run.exit;
  t.equal(code, 78);
  t.match(run.stderr(), /PORT: /);
  const all = run.stderr() + run.stdout();
  t.notMatch(all, secret);
  t.notMatch(all, Buffer.from(secret).toString('base64'));
});

t.test('starts, serves with the printed key, and drains on SIGTERM', async (t) => {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'pgw-main-'));
  t.teardown(() => rm(dataDir, { recursive: true, force: true }));
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const databaseUrl = realDatabaseUrl ? await createRealDatabase(t) : undefined;
  const run = start({
    PORT: String(port),
    DATA_DIR: dataDir,
    ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
  });
  t.teardown(() => {
    run.child.kill('SIGKILL');
  });

  const readyMs = await waitReady(base, 30_000);
  t.comment(
    `${databaseUrl ? 'postgres' : 'pglite (fresh)'}: ready in ${readyMs} ms, idle RSS ${await rssMiB(run.child.pid)} MiB`,
  );

  const key = /Development API key[^\n]*\n\s+(\S+)/.exec(run.stdout())?.[1];
  t.ok(key, 'the development key is printed');
  t.equal((await readFile(path.join(dataDir, 'dev-api-key'), 'utf8')).trim(), key);

  const anonymous = await request(`${base}/v1/connections`);
  t.equal(anonymous.statusCode, 401);
  t.equal(anonymous.headers['content-type'], 'application/problem+json; charset=utf-8');
  await anonymous.body.dump();
  const authed = await request(`${base}/v1/connections`, {
    headers: { authorization: `Bearer ${key}` },
  });
  t.equal(authed.statusCode, 200);
  t.same(await authed.body.json(), { data: [], nextCursor: null });

  if (databaseUrl) {
    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    const { rows } = await client.query(
      "select count(*)::int as n from information_schema.tables where table_schema = 'public'",
    );
    await client.end();
    t.ok(rows[0].n >= 18, 'the schema is on the real server');
  }

  // Requests keep arriving while SIGTERM lands. Each must get a whole response (200, or 503 once closing)
  // or never reach the server: refused, or reset while still in the kernel's accept queue when
  // the listener closed (the client cannot tell those apart; both are safe to retry).
  const outcomes = { ok: 0, closing: 0, refused: 0, reset: 0, broken: [] as string[] };
  let stop = false;
  const client = async () => {
    while (!stop) {
      try {
        const response = await request(`${base}/v1/connections?limit=5`, {
          headers: { authorization: `Bearer ${key}`, connection: 'close' },
        });
        const body = await response.body.text();
        if (response.statusCode === 200 && body.startsWith('{"data"')) outcomes.ok++;
        else if (response.statusCode === 503) outcomes.closing++;
        else outcomes.broken.push(`status ${response.statusCode}`);
      } catch (error) {
        const code = (error as { code?: string }).code ?? String(error);
        if (code === 'ECONNREFUSED') return void outcomes.refused++;
        if (code === 'ECONNRESET') outcomes.reset++;
        else outcomes.broken.push(code);
      }
    }
  };
  const clients = Array.from({ length: 8 }, client);
  await new Promise((resolve) => setTimeout(resolve, 500));
  const okBefore = outcomes.ok;
  run.child.kill('SIGTERM');
  const code = await run.exit;
  stop = true;
  await Promise.all(clients);

  t.equal(code, 0, 'clean exit');
  t.ok(okBefore > 0, `served ${okBefore} requests before the signal`);
  t.same(outcomes.broken, [], 'no response was cut off or failed');
  t.comment(`during shutdown: ${JSON.stringify({ ...outcomes, broken: outcomes.broken.length })}`);
});

t.test(
  'the embedded database restarts warm and keeps the development key',
  { skip: Boolean(realDatabaseUrl) },
  async (t) => {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'pgw-warm-'));
    t.teardown(() => rm(dataDir, { recursive: true, force: true }));
    const times: number[] = [];
    const keys: (string | undefined)[] = [];
    const rss: number[] = [];
    for (const round of ['first', 'warm']) {
      const port = await freePort();
      const run = start({ PORT: String(port), DATA_DIR: dataDir });
      times.push(await waitReady(`http://127.0.0.1:${port}`, 30_000));
      rss.push(await rssMiB(run.child.pid));
      keys.push(/Development API key[^\n]*\n\s+(\S+)/.exec(run.stdout())?.[1]);
      run.child.kill('SIGTERM');
      t.equal(await run.exit, 0, `${round} run exits cleanly`);
    }
    t.equal(keys[1], keys[0], 'the development key survives a restart');
    t.comment(
      `pglite ready: first run ${times[0]} ms (RSS ${rss[0]} MiB), warm ${times[1]} ms (RSS ${rss[1]} MiB)`,
    );
  },
);
