import type { FastifyReply, FastifyRequest } from 'fastify';
import { sendProblem } from './error-handler.js';

/**
 * HTTP/1.1 requires a Host header and a server must answer 400 without one (RFC 9112 §3.2).
 * Node does so itself unless told not to, with an empty body; this answers the same status as
 * our problem. HTTP/1.0 had no Host and is let through.
 */
export async function refuseMissingHost(request: FastifyRequest, reply: FastifyReply) {
  if (request.raw.httpVersion === '1.0' || request.headers.host !== undefined) return;
  return sendProblem(request, reply, {
    status: 400,
    code: 'MISSING_HOST',
    title: 'Missing Host header',
    detail: 'An HTTP/1.1 request must carry a Host header.',
  });
}
