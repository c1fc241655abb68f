/**
 * `npm run bench`: every benchmark in turn (`npm run bench:<name>`, its output streamed here),
 * each reporting its summary rows into one JSON-lines file (`BENCH_RESULTS`, see results.ts);
 * then `bench/results.md`: machine, versions, commit and date, and the table. When a bench fails
 * the others still run, the file is still written with the failure marked, and the exit is 1.
 *
 * `tsx test/bench/all.ts [name…]` runs only the named benches; `--from <rows.jsonl>` renders rows
 * collected earlier without running anything; `--out <file>` writes somewhere else.
 */
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { commit, serverVersion } from './load.js';
import { type ResultRow, resultsTable } from './results.js';

const BENCHES = ['sandbox', 'client', 'sync', 'webhooks', 'entitlements', 'events'];

type Run = { bench: string; code: number; seconds: number };

function runBench(bench: string, resultsFile: string): Promise<Run> {
  const started = performance.now();
  const child = spawn('npm', ['run', `bench:${bench}`], {
    env: { ...process.env, BENCH_RESULTS: resultsFile },
    stdio: 'inherit',
  });
  return new Promise((resolve) => {
    child.once('exit', (code, signal) =>
      resolve({
        bench,
        code: code ?? (signal ? 128 : 1),
        seconds: (performance.now() - started) / 1000,
      }),
    );
  });
}

const readRows = async (file: string): Promise<ResultRow[]> =>
  (await readFile(file, 'utf8').catch(() => ''))
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as ResultRow);

const duration = (seconds: number) =>
  seconds < 60
    ? `${Math.round(seconds)} s`
    : `${Math.floor(seconds / 60)} min ${Math.round(seconds % 60)} s`;

async function render(rows: ResultRow[], runs: Run[], startedAt: Date) {
  const cpus = os.cpus();
  const postgres = await serverVersion().catch(() => 'not reachable at BENCH_DATABASE_URL');
  const failed = runs.filter((run) => run.code !== 0);
  return [
    '# Benchmark results',
    '',
    'Written by `npm run bench` (`test/bench/all.ts`); each bench’s own output has the detail.',
    '',
    `- Machine: ${cpus[0]?.model ?? 'unknown CPU'}, ${cpus.length} cores, ${(os.totalmem() / 1024 ** 3).toFixed(1)} GiB RAM. The load generator, the database and the service share these cores, so every figure is a lower bound.`,
    `- Node ${process.version}, PostgreSQL ${postgres}`,
    `- Commit ${commit()}`,
    `- Date ${startedAt.toISOString()}`,
    ...(failed.length > 0
      ? [
          '',
          `**Failed: ${failed.map((run) => `bench:${run.bench} (exit ${run.code})`).join(', ')}.** Their rows below, if any, are partial.`,
        ]
      : []),
    '',
    resultsTable(rows),
    '',
    'Ratio: figure ÷ baseline. Higher is better for rates; lower for times, latencies and memory.',
    ...(runs.length > 0
      ? [
          '',
          `Run: ${runs.map((run) => `bench:${run.bench} ${duration(run.seconds)}${run.code === 0 ? '' : ' (failed)'}`).join(', ')}.`,
        ]
      : []),
    '',
  ].join('\n');
}

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    from: { type: 'string' },
    out: { type: 'string', default: 'bench/results.md' },
  },
});
const unknown = positionals.filter((name) => !BENCHES.includes(name));
if (unknown.length > 0) {
  process.stderr.write(`unknown bench: ${unknown.join(', ')} (one of ${BENCHES.join(', ')})\n`);
  process.exit(2);
}

const startedAt = new Date();
const runs: Run[] = [];
let rows: ResultRow[];
if (values.from) {
  rows = await readRows(values.from);
} else {
  const scratch = await mkdtemp(path.join(os.tmpdir(), 'pgw-bench-results-'));
  const resultsFile = path.join(scratch, 'rows.jsonl');
  for (const bench of positionals.length > 0 ? positionals : BENCHES) {
    runs.push(await runBench(bench, resultsFile));
  }
  rows = await readRows(resultsFile);
  await rm(scratch, { recursive: true, force: true });
}
await mkdir(path.dirname(values.out), { recursive: true });
await writeFile(values.out, await render(rows, runs, startedAt));
console.log(`wrote ${values.out}: ${rows.length} figures`);
process.exit(runs.some((run) => run.code !== 0) ? 1 : 0);
