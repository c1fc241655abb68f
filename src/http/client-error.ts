import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { PROBLEM_CONTENT_TYPE, type Problem, problemType } from './problem.js';

type ClientError = Error & { code?: string };

/** What Node's parser refuses, as our problem codes; anything else is a malformed request. */
const refusals: Record<string, { status: number; code: string; detail: string }> = {
  // The request line counts towards the header limit, so a URL over ~16 KB lands here too.
  HPE_HEADER_OVERFLOW: {
    status: 431,
    code: 'HEADERS_TOO_LARGE',
    detail: 'The request line and headers exceed the size the server reads.',
  },
  HPE_CHUNK_EXTENSIONS_OVERFLOW: {
    status: 413,
    code: 'PAYLOAD_TOO_LARGE',
    detail: 'The chunk extensions exceed the size the server reads.',
  },
  ERR_HTTP_REQUEST_TIMEOUT: {
    status: 408,
    code: 'REQUEST_TIMEOUT',
    detail: 'The request was not received in time.',
  },
};

function refusalOf(error: ClientError) {
  const known = error.code ? refusals[error.code] : undefined;
  if (known) return known;
  const parserCode = error.code?.startsWith('HPE_') ? ` (${error.code})` : '';
  return {
    status: 400,
    code: 'MALFORMED_REQUEST',
    detail: `The request is not valid HTTP/1.1${parserCode}.`,
  };
}

/** The raw response: the socket has no request or reply object, so it is written by hand. */
export function clientErrorResponse(error: ClientError, requestId: string): string {
  const { status, code, detail } = refusalOf(error);
  const title = STATUS_CODES[status] ?? 'Bad Request';
  const body = JSON.stringify({
    type: problemType(code),
    title,
    status,
    detail,
    code,
    requestId,
  } satisfies Problem);
  return [
    `HTTP/1.1 ${status} ${title}`,
    `content-type: ${PROBLEM_CONTENT_TYPE}; charset=utf-8`,
    `content-length: ${Buffer.byteLength(body)}`,
    `x-request-id: ${requestId}`,
    'x-content-type-options: nosniff',
    'connection: close',
    '',
    body,
  ].join('\r\n');
}

/** Node's private view of the response in flight on a connection (see its socketOnError). */
type HttpSocket = Socket & { _httpMessage?: { headersSent?: boolean } };

/**
 * Fastify's `clientErrorHandler`: what Node's HTTP parser refuses (a bad method, a CR or NUL in
 * a header, folded headers, raw non-ASCII bytes in the URL, headers over the limit, Content-Length
 * with chunked…) is answered as any other error, a problem with a request id, and the connection
 * is closed as Node does it (https://nodejs.org/api/http.html#event-clienterror).
 */
export function answerClientErrors(newRequestId: () => string) {
  return function clientErrorHandler(this: FastifyInstance, error: ClientError, socket: Socket) {
    // A reset or closed connection has no one to answer.
    if (error.code === 'ECONNRESET' || socket.destroyed) {
      socket.destroy();
      return;
    }
    const requestId = newRequestId();
    // Never write into a response already under way on this connection: that corrupts it.
    const inFlight = (socket as HttpSocket)._httpMessage?.headersSent === true;
    if (socket.writable && !inFlight) socket.write(clientErrorResponse(error, requestId));
    // The client's mistake, not ours: no stack, and below the warning level a flood would fill.
    this.log.debug({ reqId: requestId, code: error.code }, 'request refused by the HTTP parser');
    socket.destroy();
  };
}
