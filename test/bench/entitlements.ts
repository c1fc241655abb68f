/**
 * `npm run bench:entitlements`: `GET /v1/entitlements?externalUserId=&campaignId=` under load
 * (autocannon, 50 connections), the service against a bare Fastify route measured in the same run.
 * The goal (issue 9): at least 10,000 req/s with p99 at most 10 ms on real PostgreSQL.
 *
 * The data, written with SQL into a fresh, migrated database: one campaign with 3 tiers (and a
 * fourth deleted at Patreon), 4 benefits (one deleted) linked to them, 10,000 Patreon users, each
 * a member of the campaign as the creator's sync stores them, in a realistic mix by `n % 100`:
 * monthly paid patrons (most; every 7th also holds the lowest tier), annual ones, gifted, free
 * trial, pending charge, declined inside and outside the 7-day grace period, former patrons,
 * followers, and a few whose tier was deleted at Patreon (honoured through pledge history). Their
 * `member_tiers`; pledge events for the former, declined-past-grace and deleted-tier ones (whose
 * reads reach `pledge_events`); one active patron connection per user (`externalUserId`
 * `user-<n>`, no tokens: answering never calls Patreon). Each request asks for the next user of
 * the 10,000 in turn, with the service's API key; every answer must be 200. Before the load, 100
 * users (every kind) are asked once and their `entitled`, `reason`, highest tier and how it was
 * found, monthly amount, benefits and source compared with what the rows imply ("sample").
 *
 * The service runs compiled (`node dist/main.js`, as the image does; see load.ts) in a process of its
 * own, configured as in production (`DATABASE_POOL_MAX` 10), at LOG_LEVEL `info` (the default:
 * Fastify logs every request, to /dev/null here) and again at `warn`. The bare route is Fastify
 * with no logger, no schema, no auth and no database, answering a small constant JSON in a
 * process of its own; it is what the machine can do at all with this load generator.
 *
 * Real PostgreSQL keeps its defaults. Load generator, database and receiver share the machine's
 * cores (2 here), so the figures are lower bounds; the CPU each used is printed. Each receiver
 * gets a warm-up (10,000 requests, so every user is asked once, then about 2 s more), then the
 * measured run: a fixed number of requests, about 10 s at the warm-up's rate, so none is cut off.
 * Req/s, p50 and p99 are the measured run's: the steady state, where on real PostgreSQL every
 * answer comes from the service's cache (the bench writes nothing meanwhile; a write would drop
 * the answers it touched, see docs/entitlements.md, "Cache"). `BENCH_PROFILE=<dir>` writes a CPU profile of the service (one per service run).
 */

import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import Fastify from 'fastify';
import pg from 'pg';
import { request } from 'undici';
import { openDatabase } from '../../src/db/database.js';
import { runMigrations } from '../../src/db/migrations.js';
import {
  benchPort,
  CONNECTIONS,
  commit,
  cpuText,
  type Load,
  measure,
  runLoad,
  scratchDatabase,
  serverVersion,
  spawnService,
  stopped,
  stopService,
  type Usage,
  waitFor,
} from './load.js';
import { report } from './results.js';

const PORT = benchPort(5140);
const USERS = 10_000;
const SAMPLE = 100;
const POOL_MAX = 10;
const API_KEY = 'e'.repeat(32);
const CAMPAIGN = '7654320';
const DAY = 86_400_000;
const GRACE_DAYS = 7;

/** Three live tiers and one deleted at Patreon (kept for history), with their benefits. */
const TIERS = [
  { id: '9101', title: 'Supporter', amountCents: 300, deleted: false, benefits: ['9201'] },
  { id: '9102', title: 'Insider', amountCents: 1000, deleted: false, benefits: ['9201', '9202'] },
  {
    id: '9103',
    title: 'Producer',
    amountCents: 2500,
    deleted: false,
    benefits: ['9201', '9202', '9203', '9204'],
  },
  { id: '9104', title: 'Old tier', amountCents: 500, deleted: true, benefits: ['9201'] },
] as const;
const BENEFITS = [
  { id: '9201', title: 'Discord role', deleted: false },
  { id: '9202', title: 'Early access', deleted: false },
  { id: '9203', title: 'Monthly call', deleted: false },
  { id: '9204', title: 'Retired perk', deleted: true },
] as const;
const DELETED_TIER = TIERS[3];

type Kind =
  | 'monthly'
  | 'annual'
  | 'gifted'
  | 'free_trial'
  | 'pending'
  | 'declined_in_grace'
  | 'declined_over'
  | 'former'
  | 'follower'
  | 'deleted_tier';

/** The mix, by `n % 100`: [kind, how many of each 100]. */
const MIX: [Kind, number][] = [
  ['monthly', 66],
  ['deleted_tier', 1],
  ['annual', 10],
  ['gifted', 2],
  ['free_trial', 2],
  ['pending', 1],
  ['declined_in_grace', 3],
  ['declined_over', 2],
  ['former', 7],
  ['follower', 6],
];
const kindByRest = MIX.flatMap(([kind, count]) => Array.from({ length: count }, () => kind));

/** The expected answer of a patron who is not entitled. */
const no = (reason: string) => ({ entitled: false, reason, bestTier: null, monthlyCents: null });

/** What the seed holds for user `n`, and what the policy must answer for it. */
function patron(n: number, now: number) {
  const kind = kindByRest[n % 100] as Kind;
  const tier = TIERS[n % 3] as (typeof TIERS)[number];
  const days = (d: number) => new Date(now - d * DAY);
  const base = {
    n,
    kind,
    userId: String(80_000_000 + n),
    memberId: createHash('md5')
      .update(`bench-entitlement-member-${n}`)
      .digest('hex')
      .replace(/^(.{8})(.{4})(.{4})(.{4})(.{12})$/, '$1-$2-$3-$4-$5'),
    patronStatus: 'active_patron' as string | null,
    lastChargeStatus: 'Paid' as string | null,
    lastChargeDate: days(n % 28) as Date | null,
    cadence: 1,
    start: days(40 + (n % 700)) as Date | null,
    amountCents: tier.amountCents as number,
    willPayCents: tier.amountCents as number,
    isGifted: false,
    isFreeTrial: false,
    tierIds: [tier.id] as string[],
    pledgeEvents: [] as { type: string; date: Date; status: string | null; tierId: string }[],
    // Expected answer:
    entitled: true,
    reason: 'paid',
    bestTier: tier.id as string | null,
    monthlyCents: tier.amountCents as number | null,
  };
  switch (kind) {
    case 'monthly':
      if (n % 7 === 0 && tier.id !== '9101') base.tierIds.push('9101');
      return base;
    case 'annual': {
      const willPay = Math.round(tier.amountCents * 12 * 0.9);
      return {
        ...base,
        cadence: 12,
        lastChargeDate: days(n % 300),
        willPayCents: willPay,
        monthlyCents: Math.round(willPay / 12),
      };
    }
    case 'gifted':
      return {
        ...base,
        isGifted: true,
        lastChargeStatus: null,
        lastChargeDate: null,
        reason: 'gifted',
      };
    case 'free_trial':
      return { ...base, isFreeTrial: true, lastChargeStatus: 'Free Trial', reason: 'free_trial' };
    case 'pending':
      return { ...base, lastChargeStatus: 'Pending', reason: 'charge_pending' };
    case 'declined_in_grace':
      return {
        ...base,
        patronStatus: 'declined_patron',
        lastChargeStatus: 'Declined',
        lastChargeDate: days(1 + (n % 4)),
        reason: 'declined_in_grace',
      };
    case 'declined_over': {
      const declined = days(GRACE_DAYS + 3 + (n % 20));
      return {
        ...base,
        patronStatus: 'declined_patron',
        lastChargeStatus: 'Declined',
        lastChargeDate: declined,
        amountCents: 0,
        tierIds: [],
        pledgeEvents: [
          { type: 'subscription', date: days(40), status: 'Paid', tierId: tier.id },
          { type: 'subscription', date: declined, status: 'Declined', tierId: tier.id },
        ],
        ...no('declined_grace_over'),
      };
    }
    case 'former': {
      const ended = days(60 + (n % 200));
      return {
        ...base,
        patronStatus: 'former_patron',
        lastChargeDate: days(90 + (n % 200)),
        amountCents: 0,
        willPayCents: 0,
        tierIds: [],
        pledgeEvents: [
          { type: 'pledge_start', date: days(400), status: null, tierId: tier.id },
          { type: 'subscription', date: days(90 + (n % 200)), status: 'Paid', tierId: tier.id },
          { type: 'pledge_delete', date: ended, status: null, tierId: tier.id },
        ],
        ...no('former_patron'),
      };
    }
    case 'follower':
      return {
        ...base,
        patronStatus: null,
        lastChargeStatus: null,
        lastChargeDate: null,
        start: null,
        amountCents: 0,
        willPayCents: 0,
        tierIds: [],
        ...no('follower'),
      };
    case 'deleted_tier': {
      // Patreon no longer lists the deleted tier as entitled; the paid month still counts.
      const paid = days(5);
      return {
        ...base,
        lastChargeDate: paid,
        amountCents: DELETED_TIER.amountCents,
        willPayCents: DELETED_TIER.amountCents,
        tierIds: [],
        pledgeEvents: [
          { type: 'pledge_start', date: days(35), status: 'Paid', tierId: DELETED_TIER.id },
          { type: 'subscription', date: paid, status: 'Paid', tierId: DELETED_TIER.id },
        ],
        bestTier: DELETED_TIER.id,
        monthlyCents: DELETED_TIER.amountCents,
      };
    }
  }
}
type Patron = ReturnType<typeof patron>;

/** Live benefits of the patron's best tier(s): what an entitled answer must list. */
function expectedBenefits(p: Patron) {
  if (!p.entitled) return [];
  const tierIds = p.kind === 'deleted_tier' ? [DELETED_TIER.id] : p.tierIds;
  const ids = new Set(
    TIERS.filter((tier) => tierIds.includes(tier.id)).flatMap((tier) => [...tier.benefits]),
  );
  return BENEFITS.filter((b) => ids.has(b.id) && !b.deleted)
    .map((b) => b.id)
    .sort();
}

/** `insert … select * from unnest($1::type[], …)`: one statement per table. */
async function insertRows(
  client: pg.Client,
  table: string,
  columns: [name: string, type: string][],
  rows: unknown[][],
) {
  const params = columns.map((_, i) => rows.map((row) => row[i] ?? null));
  await client.query(
    `insert into ${table} (${columns.map(([name]) => name).join(', ')})
     select * from unnest(${columns.map(([, type], i) => `$${i + 1}::${type}[]`).join(', ')})`,
    params,
  );
}

/** A fresh, migrated database holding the campaign and the 10,000 patrons (dropped on failure). */
async function prepareDatabase(now: number) {
  const scratch = await scratchDatabase('pgw_bench_entitlements');
  try {
    return { ...scratch, ...(await seed(scratch.url, now)) };
  } catch (error) {
    await scratch.drop();
    throw error;
  }
}

/** Migrates, then writes the patrons with one statement per table; counts what it wrote. */
async function seed(url: string, now: number) {
  const database = await openDatabase({ url, poolMax: 2 });
  try {
    await runMigrations(database);
  } finally {
    await database.close();
  }
  const patrons = Array.from({ length: USERS }, (_, n) => patron(n, now));
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const at = new Date(now);
    await client.query('begin');
    await client.query(
      `insert into campaigns (id, name, currency, is_monthly, last_synced_at) values ($1, 'Bench campaign', 'USD', true, $2)`,
      [CAMPAIGN, at],
    );
    await insertRows(
      client,
      'tiers',
      [
        ['id', 'text'],
        ['campaign_id', 'text'],
        ['title', 'text'],
        ['amount_cents', 'int'],
        ['published', 'bool'],
        ['deleted_at', 'timestamptz'],
      ],
      TIERS.map((t) => [t.id, CAMPAIGN, t.title, t.amountCents, true, t.deleted ? at : null]),
    );
    await insertRows(
      client,
      'benefits',
      [
        ['id', 'text'],
        ['campaign_id', 'text'],
        ['title', 'text'],
        ['deleted_at', 'timestamptz'],
      ],
      BENEFITS.map((b) => [b.id, CAMPAIGN, b.title, b.deleted ? at : null]),
    );
    await insertRows(
      client,
      'tier_benefits',
      [
        ['tier_id', 'text'],
        ['benefit_id', 'text'],
      ],
      TIERS.flatMap((t) => t.benefits.map((b) => [t.id, b])),
    );
    await insertRows(
      client,
      'patreon_users',
      [
        ['id', 'text'],
        ['full_name', 'text'],
        ['url', 'text'],
      ],
      patrons.map((p) => [
        p.userId,
        `Patron Number ${p.n}`,
        `https://www.patreon.com/user?u=${p.userId}`,
      ]),
    );
    await insertRows(
      client,
      'members',
      [
        ['id', 'text'],
        ['campaign_id', 'text'],
        ['user_id', 'text'],
        ['full_name', 'text'],
        ['email', 'text'],
        ['patron_status', 'text'],
        ['last_charge_status', 'text'],
        ['last_charge_date', 'timestamptz'],
        ['next_charge_date', 'timestamptz'],
        ['pledge_cadence', 'int'],
        ['pledge_relationship_start', 'timestamptz'],
        ['currency', 'text'],
        ['currently_entitled_amount_cents', 'int'],
        ['will_pay_amount_cents', 'int'],
        ['campaign_lifetime_support_cents', 'int'],
        ['is_free_trial', 'bool'],
        ['is_gifted', 'bool'],
        ['is_follower', 'bool'],
        ['last_source', 'text'],
        ['seen_at', 'timestamptz'],
      ],
      patrons.map((p) => [
        p.memberId,
        CAMPAIGN,
        p.userId,
        `Patron Number ${p.n}`,
        `patron.${p.n}@example.com`,
        p.patronStatus,
        p.lastChargeStatus,
        p.lastChargeDate,
        p.patronStatus === 'active_patron' && p.lastChargeDate
          ? new Date(p.lastChargeDate.getTime() + p.cadence * 30 * DAY)
          : null,
        p.patronStatus === null ? null : p.cadence,
        p.start,
        'USD',
        p.amountCents,
        p.willPayCents,
        p.patronStatus === null ? 0 : p.amountCents * (1 + (p.n % 12)),
        p.isFreeTrial,
        p.isGifted,
        p.kind === 'follower',
        'sync',
        at,
      ]),
    );
    await insertRows(
      client,
      'member_tiers',
      [
        ['member_id', 'text'],
        ['tier_id', 'text'],
      ],
      patrons.flatMap((p) => p.tierIds.map((tierId) => [p.memberId, tierId])),
    );
    await insertRows(
      client,
      'pledge_events',
      [
        ['id', 'text'],
        ['campaign_id', 'text'],
        ['member_id', 'text'],
        ['patron_user_id', 'text'],
        ['type', 'text'],
        ['date', 'timestamptz'],
        ['amount_cents', 'int'],
        ['currency', 'text'],
        ['payment_status', 'text'],
        ['tier_id', 'text'],
      ],
      patrons.flatMap((p) =>
        p.pledgeEvents.map((e, i) => [
          `${e.type}:${p.memberId}:${i}`,
          CAMPAIGN,
          p.memberId,
          p.userId,
          e.type,
          e.date,
          TIERS.find((t) => t.id === e.tierId)?.amountCents,
          'USD',
          e.status,
          e.tierId,
        ]),
      ),
    );
    await insertRows(
      client,
      'connections',
      [
        ['external_user_id', 'text'],
        ['role', 'text'],
        ['status', 'text'],
        ['patreon_user_id', 'text'],
      ],
      patrons.map((p) => [`user-${p.n}`, 'patron', 'active', p.userId]),
    );
    await client.query('commit');
    await client.query('analyze');
    const counts = await client.query<{ t: string; n: string }>(
      `select 'members' as t, count(*) as n from members union all
       select 'member_tiers', count(*) from member_tiers union all
       select 'pledge_events', count(*) from pledge_events union all
       select 'connections', count(*) from connections`,
    );
    return {
      patrons,
      counts: Object.fromEntries(counts.rows.map((row) => [row.t, Number(row.n)])),
    };
  } finally {
    await client.end();
  }
}

const serviceEnv = (dataDir: string, databaseUrl: string, logLevel: string) => ({
  PATH: process.env.PATH ?? '',
  HOST: '127.0.0.1',
  PORT: String(PORT),
  LOG_LEVEL: logLevel,
  DATA_DIR: dataDir,
  DATABASE_URL: databaseUrl,
  DATABASE_POOL_MAX: String(POOL_MAX),
  API_KEYS: API_KEY,
  TOKEN_KEYS: `bench:${Buffer.alloc(32, 7).toString('base64')}`,
  ENTITLEMENT_DECLINED_GRACE_DAYS: String(GRACE_DAYS),
  // Live mode with a Patreon nobody calls: answers come from the tables only.
  PATREON_CLIENT_ID: 'bench-client-id',
  PATREON_CLIENT_SECRET: 'bench-client-secret',
  PATREON_BASE_URL: 'http://127.0.0.1:9',
  RETURN_TO_ALLOWLIST: 'http://127.0.0.1/',
});

const pathFor = (n: number) => `/v1/entitlements?externalUserId=user-${n}&campaignId=${CAMPAIGN}`;

/** Users cycle across every run of this process: a counter, never reset. */
let next = 0;

const load = (amount: number): Promise<Load> =>
  runLoad({
    port: PORT,
    amount,
    request: {
      method: 'GET',
      headers: { authorization: `Bearer ${API_KEY}` },
      setupRequest: (req) => ({ ...req, path: pathFor(next++ % USERS) }),
    },
  });

type Answer = {
  entitled: boolean;
  reason: string;
  tiers: { id: string; via: string }[];
  benefits: { id: string }[];
  amount: { monthlyEquivalentCents: number } | null;
  source: string | null;
};

/** Asks for `SAMPLE` users (every `n % 100`, so every kind) and compares with the seed. */
async function checkSample(patrons: Patron[]) {
  const wrong: string[] = [];
  let bytes = 0;
  for (let i = 0; i < SAMPLE; i++) {
    // 97 is prime to 100: the sample covers every rest, so every kind in its share.
    const p = patrons[(i * 97) % USERS] as Patron;
    const response = await request(`http://127.0.0.1:${PORT}${pathFor(p.n)}`, {
      headers: { authorization: `Bearer ${API_KEY}` },
    });
    const text = await response.body.text();
    bytes += Buffer.byteLength(text);
    if (response.statusCode !== 200) {
      wrong.push(`user-${p.n} (${p.kind}): status ${response.statusCode}`);
      continue;
    }
    const a = JSON.parse(text) as Answer;
    const got = {
      entitled: a.entitled,
      reason: a.reason,
      bestTier: a.tiers[0]?.id ?? null,
      monthlyCents: a.entitled ? (a.amount?.monthlyEquivalentCents ?? null) : null,
      benefits: a.benefits.map((b) => b.id).sort(),
      via: a.tiers[0]?.via ?? null,
      source: a.source,
    };
    const want = {
      entitled: p.entitled,
      reason: p.reason,
      bestTier: p.bestTier,
      monthlyCents: p.monthlyCents,
      benefits: expectedBenefits(p),
      via:
        p.bestTier === null
          ? null
          : p.kind === 'deleted_tier'
            ? 'pledge_history'
            : 'entitled_tiers',
      source: 'creator_sync',
    };
    if (JSON.stringify(got) !== JSON.stringify(want)) {
      wrong.push(
        `user-${p.n} (${p.kind}): got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`,
      );
    }
  }
  return { wrong, meanBytes: Math.round(bytes / SAMPLE) };
}

type Measured = Load &
  Usage & { sampleWrong: string[]; meanBytes: number; seeded?: Record<string, number> };

/** The service in its own process on a fresh database holding the 10,000 patrons. */
async function serviceRun(logLevel: string): Promise<Measured> {
  const prepared = await prepareDatabase(Date.now());
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'pgw-bench-entitlements-'));
  const service = await spawnService(serviceEnv(dataDir, prepared.url, logLevel));
  try {
    await waitFor(`http://127.0.0.1:${PORT}/readyz`, 'the service', service);
    const sample = await checkSample(prepared.patrons);
    // Every user asked once before the measured run: it sees the steady state, each answer then
    // served from the service's cache (on real PostgreSQL; nothing is written meanwhile).
    const { warmUps: _, ...run } = await measure(service.pid as number, load, { warmUp: USERS });
    return {
      ...run,
      sampleWrong: sample.wrong,
      meanBytes: sample.meanBytes,
      seeded: prepared.counts,
    };
  } finally {
    await stopService(service);
    await prepared.drop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

const BARE_ANSWER = { entitled: true, reason: 'paid' };

/** Bare Fastify in its own process: same path and headers, a constant answer, no database. */
async function bareRun(): Promise<Measured> {
  const bare = spawn(
    process.execPath,
    ['--import', 'tsx', 'test/bench/entitlements.ts', '--bare'],
    {
      env: { ...process.env, BENCH_PORT: String(PORT) },
      stdio: ['ignore', 'inherit', 'inherit'],
    },
  );
  try {
    await waitFor(`http://127.0.0.1:${PORT}/ready`, 'the bare route', bare);
    const { warmUps: _, ...run } = await measure(bare.pid as number, load);
    return { ...run, sampleWrong: [], meanBytes: Buffer.byteLength(JSON.stringify(BARE_ANSWER)) };
  } finally {
    bare.kill('SIGKILL');
    await stopped(bare);
  }
}

async function bareRoute() {
  const app = Fastify({ logger: false });
  app.get('/ready', async () => ({ ok: true }));
  app.get('/v1/entitlements', async () => BARE_ANSWER);
  await app.listen({ host: '127.0.0.1', port: PORT });
}

const [mode] = process.argv.slice(2);
if (mode === '--bare') {
  await bareRoute();
} else {
  console.log(
    `bench:entitlements on ${os.cpus().length} cores (autocannon, database and receiver share them); Node ${process.version}; ${CONNECTIONS} connections; ${USERS.toLocaleString('en')} users, each request the next one; Postgres ${await serverVersion()}; commit ${commit()}; service pool ${POOL_MAX}; mix per 100 users: ${MIX.map(([kind, count]) => `${kind} ${count}`).join(', ')}`,
  );
  const line = (name: string, m: Measured) =>
    console.log(
      `${name.padEnd(24)} ${Math.round(m.rate).toString().padStart(6)} req/s, p50 ${m.p50} ms, p99 ${m.p99} ms, non-2xx ${m.non2xx + m.errors} | ${m.ok} requests in ${m.seconds.toFixed(1)} s, answers ~${m.meanBytes} bytes${
        m.seeded
          ? ` (rows: ${Object.entries(m.seeded)
              .map(([t, n]) => `${t} ${n}`)
              .join(', ')})`
          : ''
      }; ${cpuText(m)}; responses per second: ${m.perSecond.join(' ')}`,
    );
  // `npm run bench:entitlements -- service,bare`: a subset, e.g. while debugging.
  const runs = new Set((mode ?? 'service,warn,bare').split(','));
  const measured: [string, Measured][] = [];
  const run = async (key: string, name: string, measureIt: () => Promise<Measured>) => {
    if (!runs.has(key)) return undefined;
    const result = await measureIt();
    line(name, result);
    if (result.sampleWrong.length > 0) {
      console.log(`  sample: ${result.sampleWrong.length} of ${SAMPLE} not as the data implies:`);
      for (const wrong of result.sampleWrong.slice(0, 10)) console.log(`    ${wrong}`);
    }
    measured.push([name, result]);
    return result;
  };
  await run('service', 'service postgres (info)', () => serviceRun('info'));
  await run('warn', 'service postgres (warn)', () => serviceRun('warn'));
  const bare = await run('bare', 'bare fastify', bareRun);
  for (const [name, m] of measured) {
    if (m === bare) continue;
    const checks = [
      [`${Math.round(m.rate)} req/s (goal ≥ 10,000)`, m.rate >= 10_000],
      [`p99 ${m.p99} ms (≤ 10)`, m.p99 <= 10],
      [`non-2xx ${m.non2xx + m.errors} (0)`, m.non2xx + m.errors === 0],
      [
        `sample ${SAMPLE - m.sampleWrong.length}/${SAMPLE} as the data implies`,
        m.sampleWrong.length === 0,
      ],
    ] as const;
    const ratio = bare ? `; ${(m.rate / bare.rate).toFixed(2)}× the bare route's req/s` : '';
    console.log(
      `goals, ${name}: ${checks.map(([text, met]) => `${text} ${met ? 'met' : 'MISSED'}`).join('; ')}${ratio}`,
    );
    const against = (figure: (baseline: Measured) => number, unit: string) =>
      bare ? { baseline: { name: 'bare Fastify route', value: figure(bare), unit } } : {};
    report({
      bench: 'entitlements',
      case: name,
      figure: { value: m.rate, unit: 'req/s' },
      ...against((b) => b.rate, 'req/s'),
      goal: '≥ 10,000 req/s',
      met: m.rate >= 10_000,
    });
    report({
      bench: 'entitlements',
      case: name,
      figure: { value: m.p99, unit: 'ms p99' },
      ...against((b) => b.p99, 'ms p99'),
      goal: '≤ 10 ms',
      met: m.p99 <= 10,
    });
    report({
      bench: 'entitlements',
      case: name,
      figure: {
        value: m.non2xx + m.errors + m.sampleWrong.length,
        unit: 'non-2xx or wrong answers',
      },
      goal: `0 (sample of ${SAMPLE} checked)`,
      met: m.non2xx + m.errors + m.sampleWrong.length === 0,
    });
  }
  process.exit(0);
}
