/**
 * What the HTTP benchmarks under load share (`bench:webhooks`, `bench:entitlements`): a scratch
 * PostgreSQL database per measurement, the service compiled and spawned in a process of its own
 * (optionally CPU-profiled), autocannon at 50 connections with a warm-up that sets the size of
 * the measured run, and the CPU each process used while it ran (load generator, database and
 * receiver share the machine's cores).
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import autocannon from 'autocannon';
import pg from 'pg';
import { request } from 'undici';

export const PG_URL =
  process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const CONNECTIONS = 50;
export const WARMUP_REQUESTS = Number(process.env.BENCH_WARMUP_REQUESTS ?? 1000);
export const RUN_SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
/** A warm run shorter than this sets the measured run's size from another, longer one. */
const WARM_SECONDS = 1.5;
const MAX_WARM_RUNS = 4;

/** `BENCH_PORT`, else a port picked at random from 40 above `base`. */
export const benchPort = (base: number) =>
  Number(process.env.BENCH_PORT ?? base + Math.floor(Math.random() * 40));

export async function adminQuery(text: string) {
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  try {
    await admin.query(text);
  } finally {
    await admin.end();
  }
}

/** A new, empty database on the `PG_URL` server: its URL, and how to drop it again. */
export async function scratchDatabase(prefix: string) {
  const name = `${prefix}_${process.pid}_${Date.now()}`;
  await adminQuery(`create database ${name}`);
  const parsed = new URL(PG_URL);
  parsed.pathname = `/${name}`;
  return {
    url: parsed.toString(),
    drop: () => adminQuery(`drop database if exists ${name} with (force)`),
  };
}

export async function serverVersion() {
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  try {
    return (await client.query<{ v: string }>(`select current_setting('server_version') as v`))
      .rows[0]?.v;
  } finally {
    await client.end();
  }
}

/** The commit measured, and whether src/ differs from it (the service runs the working tree). */
export function commit() {
  const git = (...args: string[]) => execFileSync('git', args, { encoding: 'utf8' }).trim();
  try {
    const dirty = git('status', '--porcelain', '--', 'src', 'migrations') !== '';
    return `${git('rev-parse', '--short', 'HEAD')}${dirty ? ' with uncommitted changes in src/ or migrations/' : ''}`;
  } catch {
    return 'unknown';
  }
}

export const stopped = (child: ChildProcess) =>
  new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });

/** Polls `url` until it answers 200; fails when the child exits first or after a minute. */
export async function waitFor(url: string, what: string, child: ChildProcess) {
  for (let i = 0; ; i++) {
    if (child.exitCode !== null) throw new Error(`${what} exited with ${child.exitCode}`);
    const ok = await request(url).then(
      async (response) => {
        await response.body.dump();
        return response.statusCode === 200;
      },
      () => false,
    );
    if (ok) return;
    if (i > 600) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * The V8 options the Docker image runs the service with (its `ENV NODE_OPTIONS`: the heap cap),
 * so the benchmarks measure the service as deployed.
 */
export async function imageNodeOptions(): Promise<string> {
  const dockerfile = await readFile(new URL('../../Dockerfile', import.meta.url), 'utf8');
  return /^ENV NODE_OPTIONS=(.+)$/m.exec(dockerfile)?.[1]?.trim() ?? '';
}

let built = false;

/** Compiles the current source into `dist/` once per run: the benches measure the compiled form. */
export function buildService() {
  if (built) return;
  execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.json'], {
    stdio: 'inherit',
  });
  built = true;
}

/**
 * The service as the image runs it: `node dist/main.js` (built first from the current source),
 * with `env` and the image's V8 options; its stdout (the JSON log) is discarded.
 * `BENCH_PROFILE=<dir>` writes a CPU profile there when it exits.
 */
export async function spawnService(env: Record<string, string>) {
  buildService();
  const profile = process.env.BENCH_PROFILE
    ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE}`]
    : [];
  return spawn(process.execPath, [...profile, 'dist/main.js'], {
    env: { NODE_OPTIONS: await imageNodeOptions(), ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

/** SIGTERM (a graceful stop, which also writes the CPU profile), SIGKILL after 10 s. */
export async function stopService(child: ChildProcess) {
  child.kill('SIGTERM');
  await Promise.race([stopped(child), new Promise((resolve) => setTimeout(resolve, 10_000))]);
  child.kill('SIGKILL');
  await stopped(child);
}

export type Load = {
  seconds: number;
  ok: number;
  non2xx: number;
  errors: number;
  p50: number;
  p99: number;
  /** Responses in each whole second of the run. */
  perSecond: number[];
};

/**
 * One autocannon run of `amount` requests at `CONNECTIONS`: it ends when every one was answered.
 * `onResponse` sees each status and body.
 */
export async function runLoad(options: {
  port: number;
  amount: number;
  request: autocannon.Request;
  onResponse?: (status: number, body: string) => void;
}): Promise<Load> {
  // autocannon's own duration ends on its next one-second tick after the last response of an
  // `amount` run: time the run from the start to the last response instead.
  const started = performance.now();
  let lastResponse = started;
  const perSecond: number[] = [];
  const result = await autocannon({
    url: `http://127.0.0.1:${options.port}`,
    connections: CONNECTIONS,
    amount: options.amount,
    timeout: 30,
    requests: [
      {
        ...options.request,
        onResponse: (status, body) => {
          lastResponse = performance.now();
          const second = Math.floor((lastResponse - started) / 1000);
          perSecond[second] = (perSecond[second] ?? 0) + 1;
          options.onResponse?.(status, body);
        },
      },
    ],
  });
  return {
    seconds: (lastResponse - started) / 1000,
    ok: result['2xx'],
    non2xx: result.non2xx,
    errors: result.errors,
    p50: result.latency.p50,
    p99: result.latency.p99,
    perSecond: perSecond.slice(0, Math.floor((lastResponse - started) / 1000)),
  };
}

export type Usage = {
  rate: number;
  /** CPU time of the receiver's process per second of the run (1 = one core busy). */
  cpu: number;
  /** The same for this process (autocannon), and for the whole machine. */
  loadCpu: number;
  machineCpu: number;
  /** Every `postgres` server process on the machine (none for the embedded database). */
  postgresCpu: number;
};

/**
 * A warm-up of a fixed count (at least `warmUp`) and warm runs until one lasts WARM_SECONDS, then
 * about RUN_SECONDS of load at a fixed count (the last warm run's rate), so no request is cut off. `load(amount)` runs one autocannon run; `pid` is
 * the receiver's process. Returns the measured run with the CPU used during it, and the warm-ups.
 */
export async function measure<L extends Load>(
  pid: number,
  load: (amount: number) => Promise<L>,
  options: { warmUp?: number } = {},
): Promise<L & Usage & { warmUps: L[] }> {
  // The first requests run cold (JIT, pool connects, caches). Then warm runs of about 2 s at the
  // rate seen so far, until one lasts at least WARM_SECONDS: a short one is mostly connection
  // set-up and ramp, and would set the measured run far below RUN_SECONDS.
  const cold = await load(Math.max(WARMUP_REQUESTS, options.warmUp ?? 0));
  const warmUps = [cold];
  let warm = cold;
  do {
    warm = await load(Math.max(WARMUP_REQUESTS, Math.round((warm.ok / warm.seconds) * 2)));
    warmUps.push(warm);
  } while (warm.seconds < WARM_SECONDS && warmUps.length <= MAX_WARM_RUNS);
  const amount = Math.max(CONNECTIONS * 20, Math.round((warm.ok / warm.seconds) * RUN_SECONDS));
  const cpuBefore = await cpuSeconds(pid);
  const machineBefore = await machineBusySeconds();
  const postgresBefore = await postgresCpuSeconds();
  const ownBefore = process.cpuUsage();
  // autocannon returns up to a second after the last response: CPU is averaged over that whole
  // span (slightly low), the rate over the span to the last response.
  const callStarted = performance.now();
  const run = await load(amount);
  const cpu = (await cpuSeconds(pid)) - cpuBefore;
  const machine = (await machineBusySeconds()) - machineBefore;
  const postgres = (await postgresCpuSeconds()) - postgresBefore;
  const own = process.cpuUsage(ownBefore);
  const span = (performance.now() - callStarted) / 1000;
  return {
    ...run,
    rate: run.ok / run.seconds,
    cpu: cpu / span,
    loadCpu: (own.user + own.system) / 1e6 / span,
    machineCpu: machine / span,
    postgresCpu: postgres / span,
    warmUps,
  };
}

/** "CPU cores: receiver …, postgres …, autocannon …, anything else … (machine …)". */
export const cpuText = (m: Usage, receiver = 'receiver') =>
  `CPU cores: ${receiver} ${m.cpu.toFixed(2)}, postgres ${m.postgresCpu.toFixed(2)}, autocannon ${m.loadCpu.toFixed(2)}, anything else ${Math.max(0, m.machineCpu - m.cpu - m.postgresCpu - m.loadCpu).toFixed(2)} (machine ${m.machineCpu.toFixed(2)})`;

/** User + system CPU seconds of a process so far (/proc/<pid>/stat, in clock ticks of 1/100 s). */
export async function cpuSeconds(pid: number) {
  const fields = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1]?.split(' ') ?? [];
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** CPU seconds used so far by the PostgreSQL server's processes (those alive now). */
export async function postgresCpuSeconds() {
  let total = 0;
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
    if (!stat.includes('(postgres)')) continue;
    const fields = stat.split(') ')[1]?.split(' ') ?? [];
    total += (Number(fields[11]) + Number(fields[12])) / 100;
  }
  return total;
}

/** CPU seconds the whole machine was busy so far (/proc/stat: all but idle and iowait). */
export async function machineBusySeconds() {
  const cpu = (await readFile('/proc/stat', 'utf8')).split('\n')[0]?.trim().split(/\s+/) ?? [];
  // user, nice, system, idle, iowait, irq, softirq (steal and guest are not this machine's work)
  const ticks = cpu.slice(1, 8).map(Number);
  const total = ticks.reduce((sum, n) => sum + n, 0);
  return (total - (ticks[3] ?? 0) - (ticks[4] ?? 0)) / 100;
}
