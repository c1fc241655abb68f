import type { FastifyReply, FastifyRequest } from 'fastify';
import { sendProblem } from './error-handler.js';

type Part = 'params' | 'query' | 'body';
const ALL_PARTS: readonly Part[] = ['params', 'query', 'body'];
const BODY: readonly Part[] = ['body'];

type Node = { value: unknown; key: string | undefined; parent: Node | undefined };

const pathOf = (node: Node) => {
  const keys: string[] = [];
  for (let at: Node | undefined = node; at?.key !== undefined; at = at.parent) keys.push(at.key);
  return keys.reverse().join('.');
};

/**
 * The dotted path of the first string (value or key) holding U+0000, if any. Walked with a stack
 * of its own, not recursion: a body of deeply nested arrays must not overflow the call stack.
 */
function findNul(root: unknown): string | undefined {
  const stack: Node[] = [{ value: root, key: undefined, parent: undefined }];
  for (let node = stack.pop(); node; node = stack.pop()) {
    if (node.key?.includes('\u0000')) return pathOf(node);
    const { value } = node;
    if (typeof value === 'string') {
      if (value.includes('\u0000')) return pathOf(node);
      continue;
    }
    if (typeof value !== 'object' || value === null || Buffer.isBuffer(value)) continue;
    const entries = Object.entries(value);
    // Reversed onto the stack, so the first field is looked at first.
    for (let i = entries.length - 1; i >= 0; i--) {
      const [key, item] = entries[i] as [string, unknown];
      stack.push({ value: item, key, parent: node });
    }
  }
  return undefined;
}

/**
 * PostgreSQL text and jsonb cannot hold U+0000, so a NUL anywhere in a request's parameters,
 * query or JSON body would fail in the database (a 500) rather than here. Refused before
 * validation, for every route at once. Raw bodies (webhook deliveries) are bytes and pass.
 */
export async function refuseNulCharacters(request: FastifyRequest, reply: FastifyReply) {
  // Parameters and the query are decoded once from the URL, where HTTP allows no raw NUL: only a
  // `%00` there can become one. So most requests (a GET without it) have nothing to walk.
  const parts = request.url.includes('%00') ? ALL_PARTS : request.body == null ? [] : BODY;
  for (const part of parts) {
    const path = findNul(request[part]);
    if (path === undefined) continue;
    return sendProblem(request, reply, {
      status: 400,
      code: 'VALIDATION_FAILED',
      title: 'Validation failed',
      detail: 'The request has 1 invalid field.',
      errors: [{ in: part, path, message: 'must not contain the NUL character (U+0000)' }],
    });
  }
}
