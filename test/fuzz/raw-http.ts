import net from 'node:net';
import fc from 'fast-check';
import type { Answer } from './checks.js';

/** A request written byte for byte, as no HTTP client would: what Node's parser refuses. */
export type RawRequest = { name: string; bytes: Buffer };

const CRLF = '\r\n';
const latin1 = (text: string) => Buffer.from(text, 'latin1');

/** A valid request with one header slot and one URL slot to corrupt. */
const request = (options: {
  method?: string;
  url?: string;
  headers?: string[];
  body?: string;
  version?: string;
}) =>
  latin1(
    [
      `${options.method ?? 'GET'} ${options.url ?? '/healthz'} ${options.version ?? 'HTTP/1.1'}`,
      'Host: 127.0.0.1',
      'Connection: close',
      ...(options.headers ?? []),
      '',
      options.body ?? '',
    ].join(CRLF),
  );

const post = (headers: string[], body: string) =>
  request({
    method: 'POST',
    url: '/v1/entitlements/check',
    headers: ['Content-Type: application/json', ...headers],
    body,
  });

/** Every kind the issue names, once each, plus a few neighbours. */
export const REFUSED_REQUESTS: RawRequest[] = [
  { name: 'unknown method', bytes: request({ method: 'FOO' }) },
  { name: 'lowercase method', bytes: request({ method: 'get' }) },
  { name: 'method with a NUL', bytes: request({ method: 'GE\u0000T' }) },
  { name: 'CR in a header value', bytes: request({ headers: ['X-Fuzz: a\rb'] }) },
  { name: 'NUL in a header value', bytes: request({ headers: ['X-Fuzz: a\u0000b'] }) },
  { name: 'NUL in a header name', bytes: request({ headers: ['X-Fu\u0000zz: a'] }) },
  { name: 'space in a header name', bytes: request({ headers: ['X Fuzz: a'] }) },
  { name: 'folded header line', bytes: request({ headers: ['X-Fuzz: a', '  folded'] }) },
  { name: 'folded header line (tab)', bytes: request({ headers: ['X-Fuzz: a', '\tfolded'] }) },
  { name: 'raw non-ASCII bytes in the URL', bytes: request({ url: '/v1/\xff\xfe\xc3\x28' }) },
  { name: 'NUL in the URL', bytes: request({ url: '/v1/\u0000' }) },
  { name: 'space in the URL', bytes: request({ url: '/v1/a b' }) },
  { name: 'URL over 16 KB', bytes: request({ url: `/v1/events?x=${'a'.repeat(17 * 1024)}` }) },
  { name: 'header over 16 KB', bytes: request({ headers: [`X-Fuzz: ${'a'.repeat(17 * 1024)}`] }) },
  { name: 'unknown HTTP version', bytes: request({ version: 'HTTP/9.9' }) },
  { name: 'no HTTP version', bytes: latin1(`GET /healthz${CRLF}Host: 127.0.0.1${CRLF}${CRLF}`) },
  {
    name: 'Content-Length with Transfer-Encoding: chunked',
    bytes: post(['Content-Length: 5', 'Transfer-Encoding: chunked'], `0${CRLF}${CRLF}`),
  },
  { name: 'two Content-Lengths', bytes: post(['Content-Length: 2', 'Content-Length: 3'], '{}') },
  { name: 'Content-Length not a number', bytes: post(['Content-Length: abc'], '{}') },
  { name: 'negative Content-Length', bytes: post(['Content-Length: -1'], '{}') },
  {
    name: 'invalid chunk size',
    bytes: post(['Transfer-Encoding: chunked'], `zz${CRLF}{}${CRLF}0${CRLF}${CRLF}`),
  },
  {
    name: 'Transfer-Encoding not chunked last',
    bytes: post(['Transfer-Encoding: chunked, gzip'], '{}'),
  },
  {
    name: 'no Host header',
    bytes: latin1(`GET /healthz HTTP/1.1${CRLF}Connection: close${CRLF}${CRLF}`),
  },
];

const HEADER_SPOTS = ['X-Fuzz', 'Authorization', 'X-Request-Id', 'Accept', 'Content-Type'];
const BAD_HEADER_BYTES = ['\r', '\u0000', '\u0001', '\u007f', '\r\n ', '\n\t'];
const BAD_URL_BYTES = ['\u0000', '\xff', '\xc3\x28', '\u0001', '\u007f', '\t', '"', '<'];
const BAD_METHODS = ['get', 'Get', 'FOO', 'G\u00e9T', 'GET\t', 'PRI', 'BREW', 'X'.repeat(100)];

/** Generated variants: a bad byte in a random header or place in the URL, a bad method. */
export const generatedRefusals: fc.Arbitrary<RawRequest> = fc.oneof(
  fc
    .tuple(fc.constantFrom(...HEADER_SPOTS), fc.constantFrom(...BAD_HEADER_BYTES), fc.nat(8))
    .map(([name, bad, at]) => {
      const value = 'abcdefgh';
      return {
        name: `header ${name} with ${JSON.stringify(bad)}`,
        bytes: request({ headers: [`${name}: ${value.slice(0, at)}${bad}${value.slice(at)}`] }),
      };
    }),
  fc
    .tuple(
      fc.constantFrom('/healthz', '/v1/events', '/v1/campaigns/1/members'),
      fc.constantFrom(...BAD_URL_BYTES),
      fc.nat(30),
    )
    .map(([url, bad, at]) => {
      const i = 1 + (at % url.length);
      return {
        name: `URL ${JSON.stringify(`${url.slice(0, i)}${bad}${url.slice(i)}`)}`,
        bytes: request({ url: `${url.slice(0, i)}${bad}${url.slice(i)}` }),
      };
    }),
  fc.constantFrom(...BAD_METHODS).map((method) => ({
    name: `method ${JSON.stringify(method)}`,
    bytes: request({ method }),
  })),
);

/** Parses one HTTP/1.1 answer (status line, headers, body up to close or Content-Length). */
export function parseAnswer(raw: Buffer): Answer | undefined {
  const text = raw.toString('latin1');
  const end = text.indexOf('\r\n\r\n');
  if (!text.startsWith('HTTP/') || end < 0) return undefined;
  const [statusLine = '', ...lines] = text.slice(0, end).split('\r\n');
  const headers: Answer['headers'] = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon > 0)
      headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  const length = Number(headers['content-length'] ?? Number.NaN);
  const rest = raw.subarray(Buffer.byteLength(text.slice(0, end + 4), 'latin1'));
  const body = Number.isFinite(length) ? rest.subarray(0, length) : rest;
  return { status: Number(statusLine.split(' ')[1]), headers, body: body.toString('utf8') };
}

/** Writes the bytes on a fresh connection and reads until the server closes it (or 5 s pass). */
export function sendRaw(port: number, bytes: Buffer): Promise<{ raw: Buffer; closed: boolean }> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const socket = net.connect({ port, host: '127.0.0.1' });
    const finish = (closed: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ raw: Buffer.concat(chunks), closed });
    };
    const timer = setTimeout(() => finish(false), 5_000);
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('error', () => finish(true));
    socket.on('close', () => finish(true));
    socket.on('connect', () => socket.write(bytes));
  });
}
