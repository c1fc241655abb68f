import fc from 'fast-check';
import { acceptsJson, acceptsParameter, type Operation, type Schema } from './operations.js';

/** Strings that have broken services before: traversal, SQL, odd Unicode, markup, disguised numbers. */
export const NASTY_STRINGS = [
  '',
  ' ',
  '..',
  '../..',
  '../../../../etc/passwd',
  '..\\..\\windows\\win.ini',
  '%2e%2e%2f%2e%2e%2f',
  '....//....//etc/passwd',
  '/etc/passwd',
  "' OR 1=1 --",
  '" OR ""="',
  "1'; DROP TABLE members; --",
  "x' UNION SELECT access_token_ciphertext FROM connections --",
  '1); SELECT pg_sleep(5); --',
  '$1',
  '\\',
  '\u0000',
  'a\u0000b',
  '\ud800',
  'x\udfff',
  '\ud83d',
  '\u202eevil\u202c',
  '\u200b\u200d\ufeff',
  'e\u0301\u0302\u0303',
  '😀👩‍👩‍👧‍👦',
  '𝕏𝕐ℤ',
  'ﷺ',
  '\r\nx-injected: 1',
  '\t\u000b\u000c',
  '<script>alert(1)</script>',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a log4j-style lookup, sent as plain text.
  '${jndi:ldap://127.0.0.1/x}',
  '{{7*7}}',
  '%s%n%x',
  'null',
  'undefined',
  'true',
  'NaN',
  'Infinity',
  '-1',
  '0',
  '-0',
  '1.5',
  '1e309',
  '0x10',
  '99999999999999999999999999',
  '[]',
  '{}',
  '__proto__',
  'constructor',
];

/** URL fragments put into a path as they are: raw traversal and broken percent-encodings. */
export const RAW_PATH_SEGMENTS = [
  '',
  '.',
  '..',
  '../..',
  '..%2F..%2Fetc%2Fpasswd',
  '%2e%2e',
  '%2e%2e%2f%2e%2e',
  '%252e%252e%252f',
  '..%5c..%5c',
  '%00',
  'a%00b',
  '%',
  '%zz',
  '%E0%A4%A',
  '%ED%A0%80',
  '%C0%AE%C0%AE',
  '%FF%FE',
  'x/..',
  'x;y',
  'x?limit=1',
  'x#frag',
  '%20',
];

const utf16Unit = fc.integer({ min: 0, max: 0xffff }).map((n) => String.fromCharCode(n));

/** Any UTF-16 text, lone surrogates and control characters included. */
export const junkText = fc.string({ unit: utf16Unit, maxLength: 40 });

/** 100 KB and other sizes just past the document's limits, in one- to four-byte characters. */
export const hugeText = fc
  .tuple(
    fc.constantFrom(65, 201, 256, 513, 2001, 10_000, 100_000),
    fc.constantFrom('a', 'é', '€', '😀', '\u0000'),
  )
  .map(([length, char]) => char.repeat(Math.ceil(length / char.length)));

/** Text that would be valid but for a NUL somewhere in it. */
export const withNul = fc
  .tuple(fc.string({ maxLength: 8 }), fc.string({ maxLength: 8 }))
  .map(([a, b]) => `${a}\u0000${b}`);

export const nastyText = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...NASTY_STRINGS) },
  { weight: 2, arbitrary: junkText },
  { weight: 1, arbitrary: hugeText },
  { weight: 1, arbitrary: fc.string({ maxLength: 20 }) },
);

/** JSON values of every type, for fields expecting another. */
export const anyJson: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(null, true, false, 0, -1, 1.5, -0, 1e308, 2 ** 53, [], {}, [null], { a: 1 }),
  fc.integer(),
  nastyText,
  fc.jsonValue({ maxDepth: 2 }),
);

/** Values a query or path parameter may carry (repeated keys arrive as arrays). */
const anyParameter: fc.Arbitrary<string | string[]> = fc.oneof(
  { weight: 6, arbitrary: nastyText },
  {
    weight: 2,
    arbitrary: fc
      .oneof(fc.integer(), fc.double(), fc.constantFrom(-1, 0, 201, 2 ** 31, 2 ** 63))
      .map(String),
  },
  { weight: 1, arbitrary: fc.tuple(fc.string(), fc.string()).map(([a, b]) => [a, b]) },
);

/** A parameter value the schema rejects (so the request must fail). */
export function invalidParameter(schema: Schema): fc.Arbitrary<string | string[]> {
  const pointed: fc.Arbitrary<string | string[]>[] = [anyParameter, withNul];
  if (schema.maxLength !== undefined) {
    pointed.push(fc.constantFrom('x', '😀', '%').map((c) => c.repeat((schema.maxLength ?? 0) + 1)));
  }
  if (schema.type === 'integer') {
    pointed.push(
      fc.constantFrom(
        String((schema.minimum ?? 0) - 1),
        String((schema.maximum ?? 2 ** 53) + 1),
        '1.5',
        'abc',
        '1e400',
      ),
    );
  }
  return fc.oneof(...pointed).filter((value) => !acceptsParameter(schema, value));
}

/** A parameter value the schema accepts, preferring edge cases (boundaries, odd but legal text). */
export function validParameter(schema: Schema): fc.Arbitrary<string> {
  if (schema.enum) return fc.constantFrom(...schema.enum.map(String));
  if (schema.type === 'integer') {
    const min = schema.minimum ?? -(2 ** 31);
    const max = schema.maximum ?? 2 ** 31;
    return fc.oneof(fc.constantFrom(min, max), fc.integer({ min, max })).map(String);
  }
  if (schema.pattern) {
    return fc
      .stringMatching(new RegExp(schema.pattern))
      .filter((value) => acceptsParameter(schema, value));
  }
  return nastyText.filter((value) => acceptsParameter(schema, value));
}

/** A JSON value the schema rejects. */
export function invalidJson(schema: Schema): fc.Arbitrary<unknown> {
  const pointed: fc.Arbitrary<unknown>[] = [anyJson, withNul];
  if (schema.maxLength !== undefined) {
    pointed.push(fc.constant('y'.repeat(schema.maxLength + 1)));
  }
  if (schema.type === 'integer') {
    pointed.push(fc.constantFrom((schema.minimum ?? 0) - 1, (schema.maximum ?? 0) + 1, 0.5));
  }
  if (schema.type === 'array') {
    pointed.push(fc.constant(Array.from({ length: (schema.maxItems ?? 0) + 1 }, () => 'x')));
    pointed.push(anyJson.map((item) => [item]));
  }
  return fc.oneof(...pointed).filter((value) => !acceptsJson(schema, value));
}

/** Whether some value of JSON could fail this schema (an untyped schema accepts everything). */
export const canReject = (schema: Schema) => Boolean(schema.type || schema.anyOf || schema.enum);

/** A JSON value the schema accepts, preferring odd strings. */
export function validJson(schema: Schema): fc.Arbitrary<unknown> {
  if (schema.anyOf) return fc.oneof(...schema.anyOf.map(validJson));
  switch (schema.type) {
    case 'null':
      return fc.constant(null);
    case 'boolean':
      return fc.boolean();
    case 'array':
      return fc.array(validJson(schema.items ?? {}), { maxLength: schema.maxItems ?? 3 });
    case 'string':
    case 'integer':
      return validParameter(schema).map((v) => (schema.type === 'integer' ? Number(v) : v));
    default:
      return anyJson;
  }
}

/**
 * Percent-encodes like `encodeURIComponent`, but a lone surrogate becomes its three WTF-8 bytes
 * (invalid UTF-8) instead of throwing: what a sloppy client really sends.
 */
export function percentEncode(value: string): string {
  let out = '';
  for (const char of value) {
    const cp = char.codePointAt(0) as number;
    if (cp < 0xd800 || cp > 0xdfff) out += encodeURIComponent(char);
    else {
      const bytes = [0xe0 | (cp >> 12), 0x80 | ((cp >> 6) & 0x3f), 0x80 | (cp & 0x3f)];
      out += bytes.map((b) => `%${b.toString(16).toUpperCase()}`).join('');
    }
  }
  return out;
}

/**
 * A header value as it reaches the server: text sent as UTF-8 is read back byte for byte (latin1);
 * CR, LF and NUL never get past Node's HTTP parser, so they are dropped here.
 */
export const asHeaderValue = (text: string) =>
  Buffer.from(text, 'utf8')
    .toString('latin1')
    .replace(/[\r\n\0]/g, '');

/** Content types no JSON route parses (415), and odd ones that some may accept. */
export const UNSUPPORTED_CONTENT_TYPES = [
  'application/xml',
  'text/html',
  'multipart/form-data; boundary=----fuzz',
  'application/x-www-form-urlencoded',
  'image/png',
  'application/octet-stream',
  'application/x-www-form-urlencoded; charset=utf-8',
];
export const ODD_CONTENT_TYPES = [
  'text/plain',
  'application/json; charset=utf-16',
  'application/json; charset=latin1',
  'APPLICATION/JSON',
  'application/json;;',
  'application/jsonx',
  'application/vnd.api+json',
  'application/problem+json',
  ';',
  '*/*',
  'application/json, text/plain',
];

export const INVALID_JSON_TEXTS = [
  '{',
  '{"a":}',
  "{'a': 1}",
  '{"a": 1,}',
  '[1, 2',
  'NaN',
  'undefined',
  '{"a": 01}',
  '{"a": "\\x41"}',
  '{"a": "\u0000"}',
  '\ud800',
  '{"__proto__": {"polluted": true}}',
  '{"constructor": {"prototype": {"polluted": true}}}',
  '{"a": 1} trailing',
  'ÿþ{}',
  '"'.repeat(10),
];

export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
export const METHODS: Method[] = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'];

export const queryParameters = (op: Operation) => op.parameters.filter((p) => p.in === 'query');
export const pathParameters = (op: Operation) => op.parameters.filter((p) => p.in === 'path');
