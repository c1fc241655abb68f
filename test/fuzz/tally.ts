import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** One broken rule, with what replays it. */
export type Finding = {
  rule: string;
  operationId: string;
  /** The request, as `describeRequest` or the raw test names it. */
  request: string;
  status: number;
  excerpt: string;
};

export type TallyReport = {
  name: string;
  seed: number;
  runs: number;
  sent: Record<string, number>;
  statuses: Record<string, number>;
  findings: Array<Finding & { count: number }>;
  /** Tables whose rows differ after the refused requests, with how. */
  rowsChanged: Record<string, string>;
  millis: number;
};

const EXAMPLES_PER_GROUP = 3;

/** Counts what a fuzzer sent and saw; findings are grouped by rule and operation. */
export function createTally(name: string, seed: number, runs: number) {
  const started = Date.now();
  const sent = new Map<string, number>();
  const statuses = new Map<number, number>();
  const groups = new Map<string, { examples: Finding[]; count: number }>();
  const rowsChanged: Record<string, string> = {};
  return {
    sent(operationId: string, status: number) {
      sent.set(operationId, (sent.get(operationId) ?? 0) + 1);
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
    },
    found(finding: Finding) {
      const key = `${finding.rule}\u0000${finding.operationId}\u0000${finding.status}`;
      const group = groups.get(key) ?? { examples: [], count: 0 };
      group.count += 1;
      if (group.examples.length < EXAMPLES_PER_GROUP) group.examples.push(finding);
      groups.set(key, group);
    },
    rowsChanged(table: string, how: string) {
      rowsChanged[table] = how;
    },
    get findings() {
      return [...groups.values()].reduce((n, group) => n + group.count, 0);
    },
    report(): TallyReport {
      return {
        name,
        seed,
        runs,
        sent: Object.fromEntries(sent),
        statuses: Object.fromEntries([...statuses].sort(([a], [b]) => a - b)),
        findings: [...groups.values()].flatMap(({ examples, count }) =>
          examples.map((example, i) => ({ ...example, count: i === 0 ? count : 0 })),
        ),
        rowsChanged,
        millis: Date.now() - started,
      };
    },
  };
}
export type Tally = ReturnType<typeof createTally>;

/** The findings as lines, grouped: `rule on operation (status): N×`, then the examples. */
export function describeFindings(report: TallyReport): string {
  const lines: string[] = [];
  for (const finding of report.findings) {
    if (finding.count > 0) {
      lines.push(
        `${finding.rule} on ${finding.operationId} (${finding.status}): ${finding.count}×`,
      );
    }
    lines.push(`    ${finding.request}\n      → ${finding.excerpt}`);
  }
  return lines.join('\n');
}

/** Written for `npm run fuzz` (test/fuzz/run.ts) to sum up, when it asks for reports. */
export function saveReport(report: TallyReport) {
  const dir = process.env.FUZZ_REPORT_DIR;
  if (!dir) return;
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, `${report.name}.json`), JSON.stringify(report, null, 2));
}

export const excerpt = (body: string, length = 240) => body.replace(/\s+/g, ' ').slice(0, length);
