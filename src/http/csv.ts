import { Readable } from 'node:stream';

export type CsvColumn<T> = [header: string, value: (row: T) => unknown];

/**
 * One CSV field (RFC 4180): quoted when it holds a quote, comma or line break. A text value that
 * a spreadsheet would run as a formula (`=`, `+`, `-`, `@`, tab, CR first) gets a leading `'`
 * (OWASP CSV injection); numbers stay numbers.
 */
export function csvField(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  let text = Array.isArray(value) ? value.join(' ') : String(value);
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/**
 * Streams pages of rows as CSV: a header line, then each page as it arrives, so memory holds one
 * page however long the export. Backpressure comes from `Readable.from`: the next page is read
 * only when the client has taken the previous one.
 */
export function csvStream<T>(columns: CsvColumn<T>[], pages: AsyncIterable<T[]>): Readable {
  async function* lines() {
    yield `${columns.map(([header]) => csvField(header)).join(',')}\r\n`;
    for await (const page of pages) {
      if (page.length === 0) continue;
      yield page
        .map((row) => `${columns.map(([, value]) => csvField(value(row))).join(',')}\r\n`)
        .join('');
    }
  }
  return Readable.from(lines(), { objectMode: false });
}

/** True when the client asked for CSV (`Accept: text/csv`) rather than JSON. */
export const wantsCsv = (accept: string | undefined) =>
  accept !== undefined && /(^|,)\s*text\/csv\b/i.test(accept);
