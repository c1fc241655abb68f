/**
 * `npm run bench:client [members]`: members/s decoded through the Patreon client from a sandbox
 * with 100k members at the largest page size, with and without pledge history, against a
 * baseline measured in the same run: the same pages fetched and JSON.parse'd, not decoded.
 * The sandbox runs in its own process; both share this machine's cores (2 here), so the figures
 * are a lower bound. Patreon's rate limit is lifted on both sides: this measures our code.
 */
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { request } from 'undici';
import { createPatreonClient } from '../../src/patreon/client.js';
import { API_PREFIX, queries, queryString } from '../../src/patreon/endpoints.js';
import { report } from './results.js';

const MEMBERS = Number(process.argv[2] ?? 100_000);
const PORT = 4100 + Math.floor(Math.random() * 800);
const base = `http://127.0.0.1:${PORT}`;
const mib = (kb: number) => `${(kb / 1024).toFixed(0)} MiB`;

const sandbox = spawn(
  process.execPath,
  [
    '--import',
    'tsx',
    'src/sandbox/server.ts',
    '--port',
    String(PORT),
    '--members',
    String(MEMBERS),
    '--log-level',
    'warn',
  ],
  { stdio: 'inherit' },
);
const statusOf = async (pid: number | undefined, field: 'VmRSS' | 'VmHWM') =>
  Number(
    new RegExp(`${field}:\\s+(\\d+)`).exec(await readFile(`/proc/${pid}/status`, 'utf8'))?.[1],
  );

async function control(path: string, method = 'GET', body?: unknown) {
  const response = await request(`${base}/_control${path}`, {
    method,
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return response.body.json() as Promise<Record<string, unknown>>;
}

for (let i = 0; ; i++) {
  try {
    await control('/quirks');
    break;
  } catch (error) {
    if (i > 100) throw error;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
await control('/limits', 'PUT', { enabled: false });
const accessToken = String((await control('/creator-token')).access_token);
const client = createPatreonClient({
  baseUrl: base,
  clientId: 'sandbox-client-id',
  clientSecret: 'sandbox-client-secret',
  limits: { client: { requests: 1e9, windowMs: 1 }, token: { requests: 1e9, windowMs: 1 } },
});

let clientPeakKb = 0;
const sampler = setInterval(async () => {
  clientPeakKb = Math.max(clientPeakKb, await statusOf(process.pid, 'VmRSS'));
}, 25);

async function baseline(pledgeHistory: boolean) {
  let url: string | undefined =
    `${base}${API_PREFIX}/campaigns/1234560/members${queryString(queries.members({ pledgeHistory, address: false }))}`;
  let members = 0;
  const started = performance.now();
  while (url) {
    const response = await request(url, {
      headers: { authorization: `Bearer ${accessToken}`, 'user-agent': 'bench' },
    });
    const body = JSON.parse(await response.body.text()) as {
      data: unknown[];
      links?: { next?: string };
    };
    members += body.data.length;
    url = body.links?.next;
  }
  return { members, seconds: (performance.now() - started) / 1000 };
}

async function decoded(pledgeHistory: boolean) {
  let members = 0;
  let events = 0;
  const started = performance.now();
  for await (const page of client.members({ accessToken }, '1234560', { pledgeHistory })) {
    members += page.items.length;
    for (const member of page.items) events += member.pledgeHistory?.length ?? 0;
  }
  return { members, events, seconds: (performance.now() - started) / 1000 };
}

console.log(
  `sandbox: ${MEMBERS} members on ${base}; load generator and sandbox share ${(await import('node:os')).cpus().length} cores`,
);
for (const pledgeHistory of [false, true]) {
  await baseline(pledgeHistory); // warm-up (JIT on both sides)
  const raw = await baseline(pledgeHistory);
  const typed = await decoded(pledgeHistory);
  const rawRate = raw.members / raw.seconds;
  const typedRate = typed.members / typed.seconds;
  console.log(
    `${pledgeHistory ? 'with pledge history   ' : 'without pledge history'}: client ${Math.round(typedRate)} members/s` +
      ` (${typed.members} members${pledgeHistory ? `, ${typed.events} pledge events` : ''})` +
      `, baseline fetch+JSON.parse ${Math.round(rawRate)} members/s, ratio ${(typedRate / rawRate).toFixed(2)}`,
  );
  report({
    bench: 'client',
    case: `${MEMBERS} members, ${pledgeHistory ? 'with' : 'without'} pledge history`,
    figure: { value: typedRate, unit: 'members/s' },
    baseline: { name: 'fetch + JSON.parse', value: rawRate, unit: 'members/s' },
  });
}
clearInterval(sampler);
console.log(
  `peak RSS: client process ${mib(clientPeakKb)}, sandbox process ${mib(await statusOf(sandbox.pid, 'VmHWM'))}`,
);
console.log(
  `at Patreon's real per-token limit (100/min, we use 90) ${MEMBERS} members take ≥ ${Math.ceil(MEMBERS / 1000 / 90)} min without history, ≥ ${Math.ceil(MEMBERS / 500 / 90)} min with it`,
);
await client.close();
sandbox.kill('SIGTERM');
