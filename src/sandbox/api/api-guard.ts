import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { apiErrors } from '../world/errors.js';
import type { SandboxState } from '../world/state.js';
import type { Lineage } from '../world/tokens.js';
import type { Viewer } from './resources.js';

const callers = new WeakMap<FastifyRequest, Lineage>();

/** docs/patreon-api.md §6 and quirks: the documented 429, optionally without `Retry-After` or without a body. */
function sendThrottled(state: SandboxState, reply: FastifyReply, retryAfterSeconds: number) {
  const { retryAfterHeader, rateLimitBody } = state.quirks;
  reply.code(429);
  if (retryAfterHeader) reply.header('retry-after', String(retryAfterSeconds));
  return rateLimitBody ? reply.send(apiErrors.throttled(retryAfterSeconds).toBody()) : reply.send();
}

/**
 * Runs before every API v2 route: User-Agent, bearer token, the per-client and
 * per-token windows, chaos, then the optional delay.
 */
export function createApiGuard(state: SandboxState) {
  return async function apiGuard(request: FastifyRequest, reply: FastifyReply) {
    // Sandbox table: a missing User-Agent is a 400 (docs/patreon-api.md §3).
    if (!request.headers['user-agent'])
      throw apiErrors.badRequest('A User-Agent header is required.');
    const match = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? '');
    const token = match?.[1] ?? '';
    const lineage = token ? state.world.tokens.authenticate(token) : undefined;
    if (!lineage) throw apiErrors.unauthorized();
    callers.set(request, lineage);

    const throttle = state.rateLimiter.take(state.limits, lineage.clientId, lineage.id);
    if (throttle) {
      state.counters.throttle(throttle.scope);
      return sendThrottled(state, reply, throttle.retryAfterSeconds);
    }
    const chaos = state.chaos.draw();
    if (chaos?.kind === 'throttle') {
      state.counters.throttle('chaos');
      return sendThrottled(state, reply, chaos.retryAfterSeconds);
    }
    if (chaos?.kind === 'server') {
      state.counters.chaosServerError();
      return reply.code(chaos.status).send(apiErrors.server(chaos.status).toBody());
    }
    if (state.quirks.delayMs > 0) await sleep(state.quirks.delayMs);
  };
}

export function callerOf(request: FastifyRequest): Lineage {
  const lineage = callers.get(request);
  if (!lineage) throw apiErrors.unauthorized();
  return lineage;
}

/** docs/patreon-api.md §1.8: a missing scope is a 401. */
export function requireScope(lineage: Lineage, scope: string): void {
  if (!lineage.scopes.includes(scope)) throw apiErrors.missingScope(scope);
}

export function viewerOf(state: SandboxState, request: FastifyRequest): Viewer {
  const lineage = callerOf(request);
  return state.viewerFor(lineage.userId, lineage.clientId, lineage.scopes);
}
