/**
 * `npm run bench:sync [sizes]`: a full sync of 10k and 100k sandbox members through the real
 * service (client, governor, page writer, queue) into real PostgreSQL and into the embedded
 * database, against a naive baseline measured in the same run: the same pages written one
 * statement per member (and per tier link and pledge event), in transactions of 50 members, as
 * such integrations are commonly written. The sandbox runs in its own process; it, Postgres and
 * this process share the machine's cores (2 here), so the figures are lower bounds.
 * Patreon's rate limit is lifted on both sides: this measures our side.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { eq, sql } from 'drizzle-orm';
import pg from 'pg';
import pino from 'pino';
import { request } from 'undici';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config/config.js';
import { createTokenCipher } from '../../src/crypto/token-cipher.js';
import { type Database, openDatabase } from '../../src/db/database.js';
import { runMigrations } from '../../src/db/migrations.js';
import { syncJobs } from '../../src/db/schema/index.js';
import { createPatreonClient } from '../../src/patreon/client.js';
import { memberRow, pledgeEventRow } from '../../src/sync/resource-rows.js';
import { databaseDigest, insertCreatorConnection, patreonDigest } from '../fixtures/sync.js';

const PG_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const NAIVE_LIMIT = 10_000;
const PORT = Number(process.env.BENCH_PORT ?? 4900 + Math.floor(Math.random() * 90));
const base = `http://127.0.0.1:${PORT}`;
const TOKEN_KEY = `bench:${Buffer.alloc(32, 9).toString('base64')}`;

const rssMiB = () => Math.round(process.memoryUsage().rss / 1048576);

async function startSandbox(members: number) {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      'src/sandbox/server.ts',
      '--port',
      String(PORT),
      '--members',
      String(members),
      '--log-level',
      'warn',
    ],
    { stdio: 'inherit' },
  );
  for (let i = 0; ; i++) {
    try {
      await request(`${base}/_control/limits`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ enabled: false }),
      }).then((r) => r.body.dump());
      break;
    } catch (error) {
      if (i > 200) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  const token = (await (await request(`${base}/_control/creator-token`)).body.json()) as {
    access_token: string;
    refresh_token: string;
  };
  return { child, token };
}

async function freshDatabase(
  kind: 'postgres' | 'embedded',
): Promise<{ database: Database; drop: () => Promise<void> }> {
  if (kind === 'embedded') {
    // On disk, as `npm start` runs it (an in-memory database would hold all data in RSS).
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'pgw-bench-'));
    const database = await openDatabase({ embedded: { dataDir: path.join(dataDir, 'pglite') } });
    return { database, drop: () => rm(dataDir, { recursive: true, force: true }) };
  }
  const name = `pgw_bench_${process.pid}_${Date.now()}`;
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(PG_URL);
  url.pathname = `/${name}`;
  const database = await openDatabase({ url: url.toString(), poolMax: 10 });
  return {
    database,
    drop: async () => {
      const dropper = new pg.Client({ connectionString: PG_URL });
      await dropper.connect();
      await dropper.query(`drop database if exists ${name} with (force)`);
      await dropper.end();
    },
  };
}

async function serviceSync(
  kind: 'postgres' | 'embedded',
  token: { access_token: string; refresh_token: string },
) {
  const { database, drop } = await freshDatabase(kind);
  const config = loadConfig({
    LOG_LEVEL: 'warn',
    API_KEYS: 'b'.repeat(32),
    TOKEN_KEYS: TOKEN_KEY,
    PATREON_CLIENT_ID: 'sandbox-client-id',
    PATREON_CLIENT_SECRET: 'sandbox-client-secret',
    PATREON_BASE_URL: base,
    RETURN_TO_ALLOWLIST: 'http://127.0.0.1/',
    PATREON_TOKEN_RATE: '100000',
    PATREON_CLIENT_RATE: '10000',
    SYNC_SLICE_SECONDS: '600',
  });
  const app = await buildApp({ config, database, logger: pino({ level: 'warn' }) });
  await app.ready();
  const cipher = createTokenCipher(config.tokenKeys);
  const id = await insertCreatorConnection(database.db, cipher, token);

  let peak = rssMiB();
  const sampler = setInterval(() => {
    peak = Math.max(peak, rssMiB());
  }, 50);
  const startRss = rssMiB();
  const started = performance.now();
  const [job] = await app.sync.start(id, 'full', 'manual');
  for (;;) {
    const [row] = await database.db
      .select()
      .from(syncJobs)
      .where(eq(syncJobs.id, job?.id as string));
    if (row?.status === 'succeeded') break;
    if (row?.status === 'failed')
      throw new Error(`sync failed: ${row.errorCode} ${row.errorDetail}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const seconds = (performance.now() - started) / 1000;
  clearInterval(sampler);
  const [row] = await database.db
    .select()
    .from(syncJobs)
    .where(eq(syncJobs.id, job?.id as string));
  // Correctness, not just speed: what we stored is exactly what Patreon serves.
  const [expected, actual] = await Promise.all([
    patreonDigest(app.patreon, token.access_token, '1234560'),
    databaseDigest(database.db, '1234560'),
  ]);
  await app.close();
  await drop();
  return {
    seconds,
    members: row?.counts.members ?? 0,
    events: row?.counts.pledgeEvents ?? 0,
    calls: row?.counts.patreonCalls ?? 0,
    startRss,
    peak,
    verified: expected.digest === actual.digest && actual.count === row?.counts.members,
  };
}

/** One statement per member, per tier link and per pledge event; a transaction per 50 members. */
async function naiveSync(
  kind: 'postgres' | 'embedded',
  token: { access_token: string },
  limit: number,
) {
  const { database, drop } = await freshDatabase(kind);
  await runMigrations(database);
  await database.pool.query(`insert into campaigns (id) values ('1234560')`);
  const client = createPatreonClient({
    baseUrl: base,
    clientId: 'x',
    clientSecret: 'y',
    limits: {
      client: { requests: 1e6, windowMs: 2000 },
      token: { requests: 1e6, windowMs: 60_000 },
    },
  });
  const started = performance.now();
  let done = 0;
  for await (const page of client.members({ accessToken: token.access_token }, '1234560', {
    pledgeHistory: true,
  })) {
    for (let i = 0; i < page.items.length; i += 50) {
      await database.db.transaction(async (tx) => {
        for (const member of page.items.slice(i, i + 50)) {
          if (member.user) {
            await tx.execute(
              sql`insert into patreon_users (id, full_name) values (${member.user.id}, ${member.user.fullName ?? null}) on conflict (id) do update set full_name = excluded.full_name`,
            );
          }
          const row = memberRow(member, '1234560', 'sync', 'USD');
          await tx.execute(sql`insert into members (id, campaign_id, user_id, full_name, email, patron_status, last_charge_status, last_charge_date, currently_entitled_amount_cents, pledge_cadence)
            values (${row.id}, ${row.campaignId}, ${row.userId ?? null}, ${row.fullName ?? null}, ${row.email ?? null}, ${row.patronStatus ?? null}, ${row.lastChargeStatus ?? null}, ${row.lastChargeDate?.toISOString() ?? null}, ${row.currentlyEntitledAmountCents ?? null}, ${row.pledgeCadence ?? null})
            on conflict (id) do update set full_name = excluded.full_name, patron_status = excluded.patron_status, last_charge_status = excluded.last_charge_status, updated_at = now()`);
          await tx.execute(sql`delete from member_tiers where member_id = ${member.id}`);
          for (const tier of member.currentlyEntitledTiers ?? []) {
            await tx.execute(
              sql`insert into member_tiers (member_id, tier_id) values (${member.id}, ${tier.id})`,
            );
          }
          for (const event of member.pledgeHistory ?? []) {
            const e = pledgeEventRow(event, '1234560', member.id, member.user?.id);
            await tx.execute(sql`insert into pledge_events (id, campaign_id, member_id, type, date, amount_cents, currency, payment_status, tier_id)
              values (${e.id}, ${e.campaignId}, ${e.memberId ?? null}, ${e.type ?? null}, ${e.date.toISOString()}, ${e.amountCents ?? null}, ${e.currency ?? null}, ${e.paymentStatus ?? null}, ${e.tierId ?? null})
              on conflict (id) do update set amount_cents = excluded.amount_cents, updated_at = now()`);
          }
        }
      });
    }
    done += page.items.length;
    if (done >= limit) break;
  }
  const seconds = (performance.now() - started) / 1000;
  await client.close();
  await database.close();
  await drop();
  return { seconds, members: done };
}

// Each measurement runs in a process of its own, so its RSS is its own (an embedded database's
// memory would otherwise stay with the process into the next run).
const [mode, kindArg, sizeArg] = process.argv.slice(2);
if (mode === '--one') {
  const kind = kindArg as 'postgres' | 'embedded';
  const size = Number(sizeArg);
  const token = JSON.parse(process.env.BENCH_TOKEN ?? '{}');
  const service = await serviceSync(kind, token);
  const naive = size <= NAIVE_LIMIT ? await naiveSync(kind, token, size) : undefined;
  process.stdout.write(`${JSON.stringify({ service, naive })}\n`);
  process.exit(0);
}

const sizes = (mode ?? '10000,100000').split(',').map(Number);
console.log(
  `bench:sync on ${os.cpus().length} cores (sandbox, database and service share them); Node ${process.version}`,
);
for (const size of sizes) {
  const { child, token } = await startSandbox(size);
  for (const kind of ['postgres', 'embedded'] as const) {
    const run = spawn(
      process.execPath,
      ['--import', 'tsx', 'test/bench/sync.ts', '--one', kind, String(size)],
      {
        env: { ...process.env, BENCH_TOKEN: JSON.stringify(token), BENCH_PORT: String(PORT) },
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    let output = '';
    run.stdout.on('data', (chunk) => {
      output += chunk;
    });
    await new Promise((resolve) => run.once('exit', resolve));
    const { service, naive } = JSON.parse(output.trim().split('\n').at(-1) ?? '{}');
    const rate = service.members / service.seconds;
    let line = `${kind.padEnd(8)} ${String(size).padStart(6)} members: ${service.seconds.toFixed(1)} s, ${Math.round(rate)} members/s (${service.events} pledge events, ${service.calls} Patreon calls, data ${service.verified ? 'identical to Patreon' : 'DIFFERS from Patreon'}), RSS ${service.startRss} → peak ${service.peak} MiB`;
    if (naive) {
      const naiveRate = naive.members / naive.seconds;
      line += ` | naive one-row-per-query: ${naive.seconds.toFixed(1)} s, ${Math.round(naiveRate)} members/s → ${(rate / naiveRate).toFixed(1)}× faster`;
    }
    console.log(line);
  }
  child.kill('SIGTERM');
  await new Promise((resolve) => child.once('exit', resolve));
}
process.exit(0);
