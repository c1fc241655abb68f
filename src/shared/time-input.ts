import { z } from 'zod';

const FIRST = Date.parse('0001-01-01T00:00:00Z');
const LAST = Date.parse('9999-12-31T23:59:59.999Z');

/** The longest time accepted: `9999-12-31T23:59:59.999+15:59`. */
export const ISO_TIME_MAX_LENGTH = 29;

/**
 * ISO 8601's offsets run to ±23:59, its years from 0000 and its fractions to any length, but
 * PostgreSQL's `timestamptz` takes offsets below ±16:00, no year 0 and strings of about 128
 * characters at most, and our times are JavaScript dates (milliseconds). Outside that, a query
 * would fail in the database (a 500) or lose precision silently, instead of failing validation
 * (a 400). So: seconds required, at most 3 fraction digits, `Z` or an offset within ±15:59.
 */
const TIME = new RegExp(
  `^${z.regexes.date.source.slice(1, -1)}T(?:[01]\\d|2[0-3]):[0-5]\\d:[0-5]\\d(?:\\.\\d{1,3})?(?:Z|[+-](?:0\\d|1[0-5]):[0-5]\\d)$`,
);

function formatMessage(input: unknown): string {
  const text = typeof input === 'string' ? input : '';
  if (/T[\d:]+\.\d{4,}/.test(text)) return 'must have at most 3 fraction digits (milliseconds)';
  if (/[+-](?:1[6-9]|[2-9]\d):?\d\d$/.test(text)) return 'must have an offset within ±15:59';
  return 'must be an ISO 8601 time with seconds and `Z` or an offset, e.g. `2026-11-01T00:00:00Z`';
}

const withinYears = (value: string) => {
  const at = Date.parse(value);
  return at >= FIRST && at <= LAST;
};

/** A time a caller sends (query or body): ISO 8601 with `Z` or an offset, that Postgres can hold. */
export const isoTimeInput = z
  .stringFormat('date-time', TIME, { error: (issue) => formatMessage(issue.input) })
  .max(
    ISO_TIME_MAX_LENGTH,
    `must be at most ${ISO_TIME_MAX_LENGTH} characters (milliseconds at most)`,
  )
  .refine(withinYears, { message: 'must be a time from year 1 to 9999 (UTC)' });
