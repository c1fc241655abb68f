import { connect } from 'node:net';
import t from 'tap';
import { auth, build } from '../helper.js';

type RawAnswer = { statusLine: string; headers: Record<string, string>; body: string };

/** Writes bytes to the port as they are (no client would send them) and reads until the close. */
function sendRaw(port: number, request: Buffer | string): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = connect(port, '127.0.0.1', () => socket.write(request));
    socket.setTimeout(10_000, () => socket.destroy(new Error('the server kept the socket open')));
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('close', () => {
      const raw = Buffer.concat(chunks).toString('latin1');
      const [head = '', body = ''] = raw.split('\r\n\r\n', 2);
      const [statusLine = '', ...lines] = head.split('\r\n');
      const headers = Object.fromEntries(
        lines.map((line) => {
          const colon = line.indexOf(':');
          return [line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim()];
        }),
      );
      resolve({ statusLine, headers, body });
    });
  });
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

t.test("what Node's HTTP parser refuses → problem+json with a request id", async (t) => {
  const { app } = await build(t);
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;

  const cases: [string, Buffer | string, number, string][] = [
    ['an unknown method', 'FROB /healthz HTTP/1.1\r\nHost: x\r\n\r\n', 400, 'MALFORMED_REQUEST'],
    ['a lowercase method', 'get /healthz HTTP/1.1\r\nHost: x\r\n\r\n', 400, 'MALFORMED_REQUEST'],
    [
      'a CR in a header',
      'GET /healthz HTTP/1.1\r\nHost: x\r\nX-A: a\rb\r\n\r\n',
      400,
      'MALFORMED_REQUEST',
    ],
    [
      'a NUL in a header',
      'GET /healthz HTTP/1.1\r\nHost: x\r\nX-A: a\0b\r\n\r\n',
      400,
      'MALFORMED_REQUEST',
    ],
    [
      'a folded header line',
      'GET /healthz HTTP/1.1\r\nHost: x\r\nX-A: a\r\n  folded\r\n\r\n',
      400,
      'MALFORMED_REQUEST',
    ],
    [
      'raw non-ASCII bytes in the URL',
      Buffer.concat([
        Buffer.from('GET /v1/members/caf'),
        Buffer.from([0xc3, 0xa9]),
        Buffer.from(' HTTP/1.1\r\nHost: x\r\n\r\n'),
      ]),
      400,
      'MALFORMED_REQUEST',
    ],
    [
      'Content-Length together with chunked',
      'POST /v1/event-endpoints HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n' +
        'Content-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n',
      400,
      'MALFORMED_REQUEST',
    ],
    ['no Host header', 'GET /healthz HTTP/1.1\r\nConnection: close\r\n\r\n', 400, 'MISSING_HOST'],
    // Node counts the request line towards its 16 KB header limit and reports a header overflow.
    [
      'a URL over 16 KB',
      `GET /healthz?pad=${'a'.repeat(17_000)} HTTP/1.1\r\nHost: x\r\n\r\n`,
      431,
      'HEADERS_TOO_LARGE',
    ],
    [
      'headers over 16 KB',
      `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Pad: ${'a'.repeat(17_000)}\r\n\r\n`,
      431,
      'HEADERS_TOO_LARGE',
    ],
  ];
  for (const [name, request, status, code] of cases) {
    const answer = await sendRaw(port, request);
    t.match(answer.statusLine, new RegExp(`^HTTP/1\\.1 ${status} `), name);
    t.equal(answer.headers['content-type'], 'application/problem+json; charset=utf-8', name);
    t.equal(answer.headers.connection, 'close', `${name}: the connection closes`);
    t.equal(Number(answer.headers['content-length']), Buffer.byteLength(answer.body), name);
    const requestId = answer.headers['x-request-id'];
    t.match(requestId, UUID, `${name}: a fresh request id`);
    t.match(JSON.parse(answer.body), {
      type: `urn:patreon-gateway:problem:${code.toLowerCase().replaceAll('_', '-')}`,
      title: String,
      status,
      detail: String,
      code,
      requestId,
    });
  }

  const fine = await sendRaw(port, 'GET /nope HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
  t.match(fine.statusLine, /^HTTP\/1\.1 404 /, 'a well-formed request on the next connection');
});

t.test('a non-JSON content type on a JSON route → 415, not a validation error', async (t) => {
  const { app } = await build(t);
  for (const type of ['text/plain', 'text/plain; charset=utf-8', 'text/csv']) {
    const response = await app.inject({
      method: 'POST',
      url: '/v1/event-endpoints',
      headers: {
        ...auth(),
        'content-type': type,
        'x-request-id': 'req-415',
      },
      payload: JSON.stringify({ url: 'https://example.com/hook', eventTypes: [] }),
    });
    t.equal(response.statusCode, 415, type);
    t.equal(response.headers['content-type'], 'application/problem+json; charset=utf-8');
    t.match(response.json(), {
      type: 'urn:patreon-gateway:problem:unsupported-media-type',
      status: 415,
      code: 'UNSUPPORTED_MEDIA_TYPE',
      requestId: 'req-415',
    });
  }
});
