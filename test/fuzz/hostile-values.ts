import fc from 'fast-check';

/**
 * Values that broke the service once (issue 18): numbers at and past the bounds of PostgreSQL's
 * integer types, text PostgreSQL cannot hold (NUL, invalid UTF-8), times outside its range or
 * precision, and cursors whose parts have the right count but the wrong types.
 */

/** Integers at and past int4, int8 and JavaScript's exact range, as the text a client sends. */
export const BOUND_NUMBER_TEXTS = [
  '2147483647',
  '2147483648',
  '-2147483648',
  '-2147483649',
  '4294967296',
  '9007199254740991',
  '9007199254740992',
  '9007199254740993',
  '9223372036854775807',
  '9223372036854775808',
  '-9223372036854775809',
  '18446744073709551616',
  '-1',
  '-0',
  '0',
  '1e308',
  '1e309',
  '-1e308',
  '1.0',
  '2147483647.5',
  'NaN',
  'Infinity',
  '-Infinity',
  '0x7fffffff',
  '0b1',
  '1_000',
  '+1',
  ' 1',
  '1 ',
  '١٢٣',
];

/** The same bounds as JSON number literals (some beyond a double: `9007199254740993`, `1e309`). */
export const BOUND_NUMBER_LITERALS = [
  '2147483647',
  '2147483648',
  '-2147483649',
  '9007199254740991',
  '9007199254740992',
  '9007199254740993',
  '9223372036854775807',
  '9223372036854775808',
  '-1',
  '-0',
  '1e308',
  '1e309',
  '-1e309',
  '2147483647.5',
  '1.0',
  '0.1e1',
  'NaN',
  'Infinity',
  '-Infinity',
  '"2147483648"',
  '"NaN"',
];

/** Invalid UTF-8 and NUL as they travel in a URL: truncated, overlong, surrogate, past U+10FFFF. */
export const BAD_PERCENT_BYTES = [
  '%00',
  'a%00b',
  '%C3%28',
  '%FF',
  '%FE%FF',
  '%C0%AF',
  '%C0%80',
  '%E0%80%AF',
  '%ED%A0%80',
  '%ED%BF%BF',
  '%F4%90%80%80',
  '%F8%88%80%80%80',
  '%E2%82',
  '%80',
  'abc%C3%28def',
  '%C3%A9%C3',
];

/** The same bytes raw, for header values and bodies. */
export const BAD_BYTES: Buffer[] = BAD_PERCENT_BYTES.map((text) =>
  Buffer.from(
    text.replace(/%([0-9A-F]{2})/gi, (_, hex: string) =>
      String.fromCharCode(Number.parseInt(hex, 16)),
    ),
    'latin1',
  ),
);

const fraction = (digits: number) =>
  digits === 0 ? '' : `.${'1234567890'.repeat(21).slice(0, digits)}`;

/** ISO 8601 times at and past PostgreSQL's `timestamptz` range, offsets and precision. */
export const EDGE_TIMES = [
  '0000-01-01T00:00:00Z',
  '0000-12-31T23:59:59Z',
  '0001-01-01T00:00:00Z',
  '0001-01-01T00:00:00+15:59',
  '0001-01-01T00:00:00+16:00',
  '9999-12-31T23:59:59.999Z',
  '9999-12-31T23:59:59.9999Z',
  '9999-12-31T23:59:59-15:59',
  '10000-01-01T00:00:00Z',
  '-0001-01-01T00:00:00Z',
  '-4714-11-24T00:00:00Z',
  '294276-12-31T23:59:59Z',
  '294277-01-01T00:00:00Z',
  '+294277-01-01T00:00:00Z',
  '2026-03-15T12:00:00+16:00',
  '2026-03-15T12:00:00-16:00',
  '2026-03-15T12:00:00+23:59',
  '2026-03-15T12:00:00-23:59',
  '2026-03-15T12:00:00+15:60',
  '2026-03-15T12:00:00.1234Z',
  '2026-03-15T12:00:00.1234567Z',
  `2026-03-15T12:00:00${fraction(200)}Z`,
  `2026-03-15T12:00:00${fraction(200)}+15:59`,
  `2026-03-15T12:00:00.${'9'.repeat(200)}Z`,
  '2026-03-15T24:00:00Z',
  '2026-03-15T23:59:60Z',
  '2026-02-29T00:00:00Z',
  '2026-03-15T12:00:00Z\u0000',
  'infinity',
  '-infinity',
  'epoch',
  'now',
  'allballs',
  '2026-03-15 12:00:00',
  '1969-12-31T23:59:59.999Z',
  '2038-01-19T03:14:08Z',
];

/** Generated times: year × offset × fraction digits, most of them outside what Postgres takes. */
export const edgeTime = fc.oneof(
  { weight: 2, arbitrary: fc.constantFrom(...EDGE_TIMES) },
  {
    weight: 1,
    arbitrary: fc
      .tuple(
        fc.constantFrom(
          '0000',
          '0001',
          '1970',
          '2026',
          '9999',
          '10000',
          '-0001',
          '294276',
          '294277',
        ),
        fc.constantFrom('Z', '+00:00', '+15:59', '-15:59', '+16:00', '-16:00', '+23:59', '+14'),
        fc.constantFrom(0, 1, 3, 4, 6, 7, 200),
      )
      .map(([year, offset, digits]) => `${year}-01-01T00:00:00${fraction(digits)}${offset}`),
  },
);

/** Cursor parts of the wrong type or range: what a forged cursor carries in place of real ones. */
export const HOSTILE_CURSOR_TEXTS = [
  '',
  'x',
  'not-a-uuid',
  '00000000-0000-0000-0000-00000000000g',
  'ffffffff-ffff-ffff-ffff-ffffffffffff0',
  '{00000000-0000-0000-0000-000000000000}',
  '2147483647',
  '2147483648',
  '-2147483649',
  '9223372036854775807',
  '9223372036854775808',
  '-9223372036854775809',
  '1e308',
  'NaN',
  '1.5',
  ' 1',
  '0000-00-00 00:00:00',
  '2026-13-45 25:61:61',
  '2026-03-15 12:00:00+99',
  '2026-03-15 12:00:00.123456+16',
  '2026-03-15 12:00:00.1234567+00',
  '0000-01-01 00:00:00+00',
  '10000-01-01 00:00:00+00',
  '294277-01-01 00:00:00+00',
  '4714-11-24 00:00:00+00 BC',
  `2026-03-15 12:00:00${fraction(200)}+00`,
  'infinity',
  '\u0000',
  'a\u0000b',
  '2026-03-15 12:00:00+00\u0000',
  '\ud800',
  'x'.repeat(201),
  'x'.repeat(2000),
  "' OR 1=1 --",
  'null',
  'value',
];
export const HOSTILE_CURSOR_VALUES: unknown[] = [
  ...HOSTILE_CURSOR_TEXTS,
  null,
  true,
  0,
  -1,
  1.5,
  2 ** 31,
  2 ** 63,
  1e308,
  [],
  ['x'],
  [[]],
  {},
  { a: 1 },
];

export const base64url = (bytes: Buffer | string) => Buffer.from(bytes).toString('base64url');

/** The parts inside a cursor of the current codec (base64url JSON array), or undefined. */
export function cursorParts(cursor: string): unknown[] | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    return Array.isArray(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

const UUID_SHAPED = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const TIMESTAMP_SHAPED = /^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}/;
const INTEGER_SHAPED = /^-?\d{1,19}$/;
const TIMESTAMP_TEXT =
  /^(\d+)-(\d+)-(\d+)[ T](\d+):(\d+):(\d+)(?:\.\d+)?(?:Z|[+-](\d+)(?::?\d\d)?)?(?: BC)?$/;
/** Words PostgreSQL takes as a `timestamptz`. */
const TIME_WORDS = new Set([
  'infinity',
  '-infinity',
  'epoch',
  'now',
  'today',
  'tomorrow',
  'yesterday',
]);

/** Whether PostgreSQL refuses the text as a `timestamptz` (so must the service, with a 4xx). */
export function postgresRefusesTime(text: string): boolean {
  if (TIME_WORDS.has(text.trim().toLowerCase())) return false;
  const match = TIMESTAMP_TEXT.exec(text);
  if (!match || text.length > 100) return true;
  const [year, month, day, hour, minute, second, offset] = match.slice(1).map(Number) as number[];
  return (
    year === 0 ||
    (year as number) > 294276 ||
    !((month as number) >= 1 && (month as number) <= 12) ||
    !((day as number) >= 1 && (day as number) <= 31) ||
    (hour as number) > 24 ||
    (minute as number) > 59 ||
    (second as number) > 60 ||
    (offset !== undefined && !Number.isNaN(offset) && offset > 15)
  );
}

/** Whether PostgreSQL refuses the text as a `bigint`. */
export const postgresRefusesBigint = (text: string) => {
  const trimmed = text.trim();
  if (!/^[+-]?\d+$/.test(trimmed)) return true;
  const n = BigInt(trimmed);
  return n >= 2n ** 63n || n < -(2n ** 63n);
};

/** Whether PostgreSQL refuses the text as a `uuid` (it also takes braces and other hyphens). */
export const postgresRefusesUuid = (text: string) =>
  !/^[0-9a-f]{32}$/i.test(text.replace(/^\{(.*)\}$/, '$1').replaceAll('-', ''));

/**
 * Whether `replacement` in place of `original` makes a cursor invalid whatever the codec: the
 * kind of the original part is guessed from its shape, and only a replacement PostgreSQL itself
 * refuses for that kind counts (the service may refuse more, but then with a 4xx). Times are
 * `timestamptz` in every list; a uuid- or integer-shaped part is one of our own ids (`uuid`,
 * `bigint`) only in `ownIds` lists: Patreon's ids (members, tiers, posts) are text, whatever
 * they look like. `null` may be a nullable part's value.
 */
export function surelyInvalidPart(
  original: unknown,
  replacement: unknown,
  ownIds: boolean,
): boolean {
  if (replacement === null) return false;
  if (typeof replacement !== 'string') return typeof original === 'string';
  if (replacement.includes('\u0000') || /[\ud800-\udfff]/.test(replacement)) return true;
  if (typeof original !== 'string') return false;
  if (TIMESTAMP_SHAPED.test(original)) return postgresRefusesTime(replacement);
  if (!ownIds) return false;
  if (UUID_SHAPED.test(original)) return postgresRefusesUuid(replacement);
  if (INTEGER_SHAPED.test(original)) return postgresRefusesBigint(replacement);
  return false;
}
