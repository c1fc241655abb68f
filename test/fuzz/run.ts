/**
 * `npm run fuzz -- --runs N --seed S [--gated] [--only op1,op2] [--files routes,deliveries,raw]`:
 * the fuzz tests with more requests (N per operation; 1,100 is about 50,000 requests in all),
 * every family of bad input on (`--gated` leaves out the known failures, as `npm test` does),
 * then one summary: requests per operation, statuses, 5xx, non-problem 4xx, rows changed, and
 * what broke which rule, with the seed that replays it.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { describeFindings, type TallyReport } from './tally.js';

const FILES: Record<string, string> = {
  routes: 'test/fuzz/routes.test.ts',
  deliveries: 'test/fuzz/deliveries.test.ts',
  raw: 'test/fuzz/raw-requests.test.ts',
};

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '300' },
    seed: { type: 'string' },
    gated: { type: 'boolean', default: false },
    only: { type: 'string' },
    files: { type: 'string', default: Object.keys(FILES).join(',') },
  },
});
const runs = Number(values.runs);
const seed = values.seed === undefined ? Math.floor(Math.random() * 2 ** 31) : Number(values.seed);
if (!Number.isSafeInteger(runs) || runs < 1 || !Number.isSafeInteger(seed)) {
  console.error('usage: npm run fuzz -- --runs N --seed S [--gated] [--only ids] [--files names]');
  process.exit(2);
}
const files = (values.files ?? '').split(',').map((name) => {
  const file = FILES[name];
  if (!file) throw new Error(`unknown --files entry ${name}: one of ${Object.keys(FILES)}`);
  return file;
});

const reportDir = mkdtempSync(path.join(os.tmpdir(), 'patreon-gateway-fuzz-'));
console.log(
  `fuzz: seed ${seed}, ${runs} runs per operation${values.gated ? ', known failures left out' : ''}`,
);
const tap = spawnSync(
  path.join('node_modules', '.bin', 'tap'),
  ['--disable-coverage', '--timeout=0', '--reporter=terse', ...files],
  {
    stdio: 'inherit',
    env: {
      ...process.env,
      FUZZ_RUNS: String(runs),
      FUZZ_SEED: String(seed),
      FUZZ_STRICT: values.gated ? '' : '1',
      FUZZ_REPORT_DIR: reportDir,
      ...(values.only ? { FUZZ_ONLY: values.only } : {}),
    },
  },
);

const reports = readdirSync(reportDir).map(
  (name) => JSON.parse(readFileSync(path.join(reportDir, name), 'utf8')) as TallyReport,
);
const sum = (numbers: number[]) => numbers.reduce((a, b) => a + b, 0);
const statuses = new Map<string, number>();
let nonProblem = 0;
console.log('\n== fuzz summary');
for (const report of reports) {
  const sent = sum(Object.values(report.sent));
  console.log(`\n${report.name}: ${sent} requests in ${(report.millis / 1000).toFixed(1)} s`);
  for (const [operation, n] of Object.entries(report.sent).sort()) {
    console.log(`  ${String(n).padStart(7)}  ${operation}`);
  }
  for (const [status, n] of Object.entries(report.statuses)) {
    statuses.set(status, (statuses.get(status) ?? 0) + n);
  }
  nonProblem += sum(
    report.findings.filter((f) => f.rule === '4xx not problem+json').map((f) => f.count),
  );
  const changed = Object.entries(report.rowsChanged);
  console.log(`  rows changed: ${changed.length === 0 ? 'none' : ''}`);
  for (const [table, how] of changed) console.log(`    ${table}: ${how}`);
  if (report.findings.length > 0) console.log(describeFindings(report).replace(/^/gm, '  '));
}
const all = sum([...statuses.values()]);
const fives = sum([...statuses].filter(([s]) => Number(s) >= 500).map(([, n]) => n));
console.log(`\n${all} requests; statuses: ${[...statuses].map(([s, n]) => `${s}×${n}`).join(' ')}`);
console.log(
  `5xx: ${fives}; non-problem 4xx: ${nonProblem}; findings: ${sum(reports.flatMap((r) => r.findings.map((f) => f.count)))}`,
);
if (tap.status !== 0) {
  console.log(
    `\nreplay: npm run fuzz -- --seed ${seed} --runs ${runs}${values.gated ? ' --gated' : ''} [--only <operationId>]`,
  );
}
process.exit(tap.status ?? 1);
