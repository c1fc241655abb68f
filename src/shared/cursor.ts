import { InvalidCursorError } from './errors.js';

/**
 * One part of a cursor: what it may hold, checked in full before any query sees it. A value the
 * database would refuse (a uuid that is not one, an integer past its column, a date that does not
 * exist, a NUL) is a 400 here instead of a 500 there.
 */
export type CursorPart<T extends string | null = string> = {
  readonly accepts: (value: unknown) => value is T;
};

const NUL = '\u0000';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** `timestamptz::text` under ISO DateStyle: `2026-03-15 12:00:00.123456+00` (or `+05:30`). */
const PG_TIMESTAMPTZ =
  /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})(?:\.\d{1,6})?[+-](\d{2})(?::(\d{2}))?$/;
const INT4_MAX = 2n ** 31n - 1n;
const INT8_MAX = 2n ** 63n - 1n;

const daysIn = (year: number, month: number) => new Date(Date.UTC(year, month, 0)).getUTCDate();

function isTimestamptz(value: string): boolean {
  const match = PG_TIMESTAMPTZ.exec(value);
  if (!match) return false;
  const at = (group: number) => Number(match[group] ?? 0);
  const [year, month, day] = [at(1), at(2), at(3)];
  return (
    year >= 1 &&
    month >= 1 &&
    month <= 12 &&
    day >= 1 &&
    day <= daysIn(year, month) &&
    at(4) <= 23 &&
    at(5) <= 59 &&
    at(6) <= 59 &&
    at(7) <= 15 &&
    at(8) <= 59
  );
}

const integerWithin =
  (max: bigint) =>
  (value: unknown): value is string =>
    typeof value === 'string' &&
    /^-?\d{1,19}$/.test(value) &&
    BigInt(value) <= max &&
    BigInt(value) >= -max - 1n;

const part = <T extends string | null>(accepts: (value: unknown) => value is T): CursorPart<T> => ({
  accepts,
});

export const cursorParts = {
  uuid: part((value): value is string => typeof value === 'string' && UUID.test(value)),
  timestamptz: part((value): value is string => typeof value === 'string' && isTimestamptz(value)),
  int4: part(integerWithin(INT4_MAX)),
  int8: part(integerWithin(INT8_MAX)),
  /** A text column (ids, names): any string PostgreSQL can hold, within an index entry's size. */
  text: part(
    (value): value is string =>
      typeof value === 'string' && value.length > 0 && value.length <= 200 && !value.includes(NUL),
  ),
  nullable: <T extends string>(inner: CursorPart<T>) =>
    part((value): value is T | null => value === null || inner.accepts(value)),
};

type Values<P extends readonly CursorPart<string | null>[]> = {
  -readonly [K in keyof P]: P[K] extends CursorPart<infer T> ? T : never;
};

/**
 * The one cursor codec of every list: base64url JSON of `[list, ...values]`. `list` names the
 * list and its order, so a cursor from another list (or sort) is refused rather than misread.
 */
export function cursorCodec<const P extends readonly CursorPart<string | null>[]>(
  list: string,
  parts: P,
) {
  return {
    encode(values: Values<P>): string {
      return Buffer.from(JSON.stringify([list, ...values])).toString('base64url');
    },

    /** Throws INVALID_CURSOR (400) unless `cursor` is one `encode` could have made. */
    decode(cursor: string): Values<P> {
      let key: unknown;
      try {
        key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
      } catch {
        key = undefined;
      }
      if (
        Array.isArray(key) &&
        key.length === parts.length + 1 &&
        key[0] === list &&
        parts.every((expected, index) => expected.accepts(key[index + 1]))
      ) {
        return key.slice(1) as Values<P>;
      }
      throw new InvalidCursorError('The cursor is malformed or belongs to another list.');
    },
  };
}

export type CursorCodec<P extends readonly CursorPart<string | null>[]> = ReturnType<
  typeof cursorCodec<P>
>;
