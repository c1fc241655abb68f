/**
 * The figures a benchmark reports for `bench/results.md`. Each bench still prints its own lines;
 * it also passes its summary here. With `BENCH_RESULTS=<file>` set (as `npm run bench` sets it)
 * each row is appended to that file as one JSON line; without it `report` does nothing, so a
 * single `npm run bench:x` only prints.
 */
import { appendFileSync } from 'node:fs';

export type Figure = { value: number; unit: string };

export type ResultRow = {
  bench: string;
  case: string;
  figure: Figure;
  /** What the figure is compared with, measured in the same run. */
  baseline?: Figure & { name: string };
  /** figure / baseline. */
  ratio?: number;
  goal?: string;
  met?: boolean;
};

export function report(row: Omit<ResultRow, 'ratio'>) {
  const file = process.env.BENCH_RESULTS;
  if (!file) return;
  const ratio = row.baseline?.value ? row.figure.value / row.baseline.value : undefined;
  appendFileSync(file, `${JSON.stringify({ ...row, ratio })}\n`);
}

/** The middle value (the mean of the two middle ones for an even count): rounds' figure. */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

/** 12,345 · 123 · 12.3 · 1.23: three significant digits at most below 1,000. */
export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  if (Number.isInteger(value) || Math.abs(value) >= 100) {
    return Math.round(value).toLocaleString('en');
  }
  return value.toFixed(Math.abs(value) >= 10 ? 1 : 2);
}

const cell = (text: string) => text.replaceAll('|', '\\|');

/** The table of `bench/results.md`: one line per row, in the order reported. */
export function resultsTable(rows: ResultRow[]): string {
  const lines = [
    '| Bench | Case | Figure | Baseline (same run) | Ratio | Goal | Met |',
    '| --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const row of rows) {
    const baseline = row.baseline
      ? `${formatNumber(row.baseline.value)} ${row.baseline.unit} (${row.baseline.name})`
      : '—';
    const ratio = row.ratio === undefined ? '—' : `${row.ratio.toFixed(2)}×`;
    const met = row.met === undefined ? '—' : row.met ? 'met' : '**missed**';
    const cells = [
      row.bench,
      row.case,
      `${formatNumber(row.figure.value)} ${row.figure.unit}`,
      baseline,
      ratio,
      row.goal ?? '—',
      met,
    ];
    lines.push(`| ${cells.map(cell).join(' | ')} |`);
  }
  return lines.join('\n');
}
