import { z } from 'zod';

const FIRST = Date.parse('0001-01-01T00:00:00Z');
const LAST = Date.parse('9999-12-31T23:59:59.999Z');
const OFFSET_HOURS = /[+-](\d\d):\d\d$/;

/**
 * ISO 8601's offsets run to ±23:59 and its years from 0000, but PostgreSQL's `timestamptz` takes
 * offsets below ±16:00 and no year 0, and our responses print years 1 to 9999 only. Outside that,
 * a query would fail in the database (a 500) instead of at validation (a 400).
 */
function fitsTimestamptz(value: string): boolean {
  const hours = OFFSET_HOURS.exec(value)?.[1];
  if (hours !== undefined && Number(hours) > 15) return false;
  const at = Date.parse(value);
  return at >= FIRST && at <= LAST;
}

/** A time a caller sends (query or body): ISO 8601 with `Z` or an offset, that Postgres can hold. */
export const isoTimeInput = z.iso.datetime({ offset: true }).refine(fitsTimestamptz, {
  message: 'must be a time from year 1 to 9999 with an offset within ±15:59',
});
