/**
 * `npm run bench:events`: 100,000 events drained to a local host receiver by the service.
 *
 * Before the service starts, a fresh database (real PostgreSQL, then the embedded PGlite) gets the
 * configured endpoint and 100,000 `member.updated` events recorded through `recordEvents` (1,000
 * a transaction; 1,000 members with 100 events each, so delivery is ordered per member), which
 * fans them out into 100,000 pending deliveries. Then the compiled service starts in a process
 * of its own (`EVENTS_ENDPOINT_URL` at the receiver, defaults otherwise: 64 in flight, LOG_LEVEL
 * warn) and its worker drains them. The receiver (this process, bare `node:http`, keep-alive)
 * answers 204, checks the order per member and verifies every 100th signature with the
 * `standardwebhooks` package.
 *
 * Printed: time to drain from the first delivery to the last (and from spawn, boot included),
 * deliveries/s over the drain, duplicates and order violations (both must be 0), and the CPU the
 * service, the receiver and the rest of the machine (PostgreSQL, mostly) used: they share its cores.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { Webhook } from 'standardwebhooks';
import { loadConfig } from '../../src/config/config.js';
import { createTokenCipher } from '../../src/crypto/token-cipher.js';
import { openDatabase } from '../../src/db/database.js';
import { runMigrations } from '../../src/db/migrations.js';
import { outboundEndpoints } from '../../src/db/schema/index.js';
import { type EventRecord, recordEvents } from '../../src/events/record-event.js';
import {
  benchPort,
  cpuSeconds,
  machineBusySeconds,
  scratchDatabase,
  serverVersion,
  spawnService,
  stopService,
} from './load.js';
import { report } from './results.js';

const EVENTS = Number(process.env.BENCH_EVENTS ?? 100_000);
const MEMBERS = 1000;
const PORT = benchPort(5200);
const TOKEN_KEY = `bench:${Buffer.alloc(32, 7).toString('base64')}`;
const SECRET = `whsec_${Buffer.alloc(32, 5).toString('base64')}`;

function startReceiver() {
  const lastOf = new Map<string, number>();
  const ids = new Set<string>();
  const verifier = new Webhook(SECRET);
  const stats = { requests: 0, outOfOrder: 0, badSignatures: 0, first: 0, last: 0 };
  let done: () => void = () => {};
  const drained = new Promise<void>((resolve) => {
    done = resolve;
  });
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      stats.requests += 1;
      stats.first ||= performance.now();
      const id = String(req.headers['webhook-id']);
      const member = JSON.parse(raw).data.member as { id: string; n: number };
      if ((lastOf.get(member.id) ?? -1) > member.n) stats.outOfOrder += 1;
      lastOf.set(member.id, member.n);
      if (stats.requests % 100 === 0) {
        try {
          verifier.verify(raw, req.headers as Record<string, string>);
        } catch {
          stats.badSignatures += 1;
        }
      }
      ids.add(id);
      res.writeHead(204).end();
      if (ids.size === EVENTS) {
        stats.last = performance.now();
        done();
      }
    });
  });
  return {
    stats,
    ids,
    drained,
    listen: () => new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve)),
    url: () => {
      const address = server.address();
      return `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/events`;
    },
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function serviceEnv(dataDir: string, receiverUrl: string, databaseUrl?: string) {
  return {
    PATH: process.env.PATH ?? '',
    HOST: '127.0.0.1',
    PORT: String(PORT),
    LOG_LEVEL: 'warn',
    DATA_DIR: dataDir,
    ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
    API_KEYS: 'e'.repeat(32),
    TOKEN_KEYS: TOKEN_KEY,
    PATREON_CLIENT_ID: 'bench-client-id',
    PATREON_CLIENT_SECRET: 'bench-client-secret',
    PATREON_BASE_URL: 'http://127.0.0.1:9',
    RETURN_TO_ALLOWLIST: 'http://127.0.0.1/',
    EVENTS_ENDPOINT_URL: receiverUrl,
    EVENTS_ENDPOINT_SECRET: SECRET,
    EVENTS_ALLOW_PRIVATE_URLS: 'true',
  };
}

/** The endpoint (as the service would upsert it from config) and the events, fanned out. */
async function prepare(kind: 'postgres' | 'embedded', receiverUrl: string) {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'pgw-bench-events-'));
  const scratch = kind === 'postgres' ? await scratchDatabase('bench_events') : undefined;
  const database = await openDatabase(
    scratch
      ? { url: scratch.url, poolMax: 2 }
      : { embedded: { dataDir: path.join(dataDir, 'pglite') } },
  );
  try {
    await runMigrations(database);
    const cipher = createTokenCipher(
      loadConfig(serviceEnv(dataDir, receiverUrl, scratch?.url)).tokenKeys,
    );
    const id = '00000000-0000-4000-8000-00000000e001';
    await database.db.insert(outboundEndpoints).values({
      id,
      source: 'config',
      url: receiverUrl,
      secretCiphertexts: [cipher.seal(SECRET, id)],
    });
    const started = performance.now();
    for (let offset = 0; offset < EVENTS; offset += 1000) {
      const batch: EventRecord[] = [];
      for (let i = offset; i < Math.min(EVENTS, offset + 1000); i++) {
        const member = `bench-member-${i % MEMBERS}`;
        batch.push({
          type: 'member.updated',
          dedupeKey: `bench:${i}`,
          campaignId: '1234560',
          payload: {
            member: {
              id: member,
              n: i,
              campaignId: '1234560',
              patreonUserId: String(70_000_000 + (i % MEMBERS)),
              patronStatus: 'active_patron',
              lastChargeStatus: 'Paid',
              lastChargeDate: '2026-11-01T08:00:00.000Z',
              nextChargeDate: '2026-12-01T08:00:00.000Z',
              pledgeCadence: 1,
              currentlyEntitledAmountCents: 500,
              currency: 'USD',
              tierIds: ['54321'],
              deleted: false,
            },
            previous: null,
            change: 'member_updated',
          },
        });
      }
      await database.db.transaction((tx) => recordEvents(tx, batch));
    }
    const recordMs = performance.now() - started;
    return { dataDir, scratch, recordMs };
  } finally {
    await database.close();
  }
}

async function run(kind: 'postgres' | 'embedded') {
  const receiver = startReceiver();
  await receiver.listen();
  const prepared = await prepare(kind, receiver.url());
  const spawnedAt = performance.now();
  const machineBefore = await machineBusySeconds();
  const receiverBefore = process.cpuUsage();
  const service = await spawnService(
    serviceEnv(prepared.dataDir, receiver.url(), prepared.scratch?.url),
  );
  let serviceCpu = 0;
  const sampler = setInterval(() => {
    if (service.pid)
      void cpuSeconds(service.pid).then(
        (s) => (serviceCpu = s),
        () => {},
      );
  }, 200);
  let timeout: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      receiver.drained,
      new Promise((_, reject) => {
        timeout = setTimeout(() => reject(new Error('not drained in 10 min')), 600_000);
      }),
    ]);
    if (service.pid) serviceCpu = await cpuSeconds(service.pid);
  } finally {
    // Cleared, or the process would stay up until the 10 minutes are over.
    clearTimeout(timeout);
    clearInterval(sampler);
    await stopService(service);
    await receiver.close();
    await prepared.scratch?.drop();
    await rm(prepared.dataDir, { recursive: true, force: true });
  }
  const { stats } = receiver;
  const drainS = (stats.last - stats.first) / 1000;
  const receiverCpu = process.cpuUsage(receiverBefore);
  const machine = (await machineBusySeconds()) - machineBefore;
  const receiverSeconds = (receiverCpu.user + receiverCpu.system) / 1e6;
  console.log(
    [
      `${kind}: ${EVENTS.toLocaleString('en')} events (recorded and fanned out in ${(prepared.recordMs / 1000).toFixed(1)} s)`,
      `  drained in ${drainS.toFixed(1)} s from the first delivery (${((stats.last - spawnedAt) / 1000).toFixed(1)} s from spawn, boot included): ${Math.round(EVENTS / drainS).toLocaleString('en')} deliveries/s`,
      `  requests ${stats.requests.toLocaleString('en')}, duplicates ${stats.requests - receiver.ids.size}, out of order ${stats.outOfOrder}, bad signatures ${stats.badSignatures} (of ${Math.floor(stats.requests / 100)} verified)`,
      `  CPU seconds: service ${serviceCpu.toFixed(1)}, receiver ${receiverSeconds.toFixed(1)}, PostgreSQL and the rest ${Math.max(0, machine - serviceCpu - receiverSeconds).toFixed(1)} (machine ${machine.toFixed(1)}, ${(machine / ((stats.last - spawnedAt) / 1000)).toFixed(2)} cores busy)`,
    ].join('\n'),
  );
  const name = `${kind}, ${EVENTS} events`;
  report({
    bench: 'events',
    case: name,
    figure: { value: EVENTS / drainS, unit: 'deliveries/s' },
  });
  report({ bench: 'events', case: name, figure: { value: drainS, unit: 's to drain' } });
  const faults = stats.requests - receiver.ids.size + stats.outOfOrder + stats.badSignatures;
  report({
    bench: 'events',
    case: name,
    figure: { value: faults, unit: 'duplicate, out-of-order or badly signed' },
    goal: '0',
    met: faults === 0,
  });
}

console.log(`bench:events on ${os.cpus().length} cores, PostgreSQL ${await serverVersion()}`);
for (const kind of (process.env.BENCH_KINDS ?? 'postgres,embedded').split(',')) {
  await run(kind as 'postgres' | 'embedded');
}
