import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { apiErrors } from '../world/errors.js';
import type { SandboxState } from '../world/state.js';
import type { Lineage } from '../world/tokens.js';
import { memberPatchBody } from './member-patch.js';
import { createMutations } from './mutations.js';

const resetBody = z.strictObject({
  seed: z.int().optional(),
  members: z.int().min(0).max(200_000).optional(),
});
const pledgeBody = z
  .strictObject({ tierId: z.string().optional(), amountCents: z.int().min(0).optional() })
  .refine(
    (p) => p.tierId !== undefined || p.amountCents !== undefined,
    'give tierId or amountCents',
  );
const addMemberBody = z.strictObject({
  fullName: z.string().min(1).optional(),
  email: z.email().nullable().optional(),
  tierId: z.string().optional(),
  amountCents: z.int().min(0).optional(),
  campaignId: z.string().optional(),
});
const postBody = z.strictObject({
  title: z.string().min(1),
  content: z.string().optional(),
  tierIds: z.array(z.string()).optional(),
  campaignId: z.string().optional(),
});
const postPatch = postBody.partial().omit({ campaignId: true });
const clockBody = z.strictObject({ advanceSeconds: z.number() });

function parse<T>(schema: z.ZodType<T>, body: unknown): T {
  const result = schema.safeParse(body ?? {});
  if (result.success) return result.data;
  throw apiErrors.badRequest(
    result.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; '),
  );
}

function describe(lineage: Lineage) {
  const { id, kind, userId, scopes, refreshes, revoked } = lineage;
  return { id, kind, userId, scopes, refreshes, revoked };
}

/** Test, benchmark and demo controls; see README.md. Not part of Patreon's API. */
export function registerControlRoutes(app: FastifyInstance, state: SandboxState): void {
  const mutations = createMutations(state);
  type Params = { Params: { id: string } };
  type TokenParams = { Params: { token: string } };

  app.post('/reset', async (request) => {
    await state.reset(parse(resetBody, request.body));
    const { seed, members } = state.world;
    return { seed, members, creatorToken: state.world.tokens.currentCreatorToken() };
  });

  app.get('/creator-token', async () => {
    const pair = state.world.tokens.currentCreatorToken();
    if (!pair) throw apiErrors.notFound('The creator token was revoked.');
    return pair;
  });

  app.get<Params>('/members/:id', async (request) => {
    const member = state.world.store.member(request.params.id);
    if (!member) throw apiErrors.notFound(`No member ${request.params.id}.`);
    return member;
  });
  app.post('/members', async (request, reply) =>
    reply.code(201).send(mutations.addMember(parse(addMemberBody, request.body))),
  );
  app.patch<Params>('/members/:id', async (request) =>
    mutations.patchMember(request.params.id, parse(memberPatchBody, request.body)),
  );
  app.post<Params>('/members/:id/pledge', async (request) =>
    mutations.changePledge(request.params.id, parse(pledgeBody, request.body)),
  );
  app.post<Params>('/members/:id/decline', async (request) => mutations.decline(request.params.id));
  app.post<Params>('/members/:id/recover', async (request) => mutations.recover(request.params.id));
  app.post<Params>('/members/:id/cancel', async (request) => mutations.cancel(request.params.id));
  app.delete<Params>('/members/:id', async (request) => mutations.deleteMember(request.params.id));

  app.post('/posts', async (request, reply) =>
    reply.code(201).send(mutations.publishPost(parse(postBody, request.body))),
  );
  app.patch<Params>('/posts/:id', async (request) =>
    mutations.updatePost(request.params.id, parse(postPatch, request.body)),
  );
  app.delete<Params>('/posts/:id', async (request) => mutations.deletePost(request.params.id));

  app.get('/tokens', async () => state.world.tokens.lineages().map(describe));
  app.get('/tokens/issued', async () => ({ tokens: state.world.tokens.issued() }));
  app.post<TokenParams>('/tokens/:token/expire', async (request) => {
    const lineage = state.world.tokens.expire(request.params.token);
    if (!lineage) throw apiErrors.notFound('No such token or connection.');
    return describe(lineage);
  });
  app.post<TokenParams>('/tokens/:token/revoke', async (request) => {
    const lineage = state.world.tokens.revoke(request.params.token);
    if (!lineage) throw apiErrors.notFound('No such token or connection.');
    return describe(lineage);
  });
  app.post('/clock', async (request) => {
    const now = state.advanceClock(parse(clockBody, request.body).advanceSeconds);
    return { now: new Date(now).toISOString() };
  });

  app.get('/counters', async () => ({
    ...state.counters.snapshot(),
    tokenRefreshes: state.world.tokens
      .lineages()
      .map((l) => ({ connection: l.id, kind: l.kind, userId: l.userId, refreshes: l.refreshes })),
  }));

  app.get('/quirks', async () => state.quirks);
  app.put('/quirks', async (request) => state.setQuirks(request.body));
  app.get('/limits', async () => state.limits);
  app.put('/limits', async (request) => state.setLimits(request.body));

  app.get('/webhooks', async () =>
    state.world.webhooks
      .list()
      .map(({ queue, ...webhook }) => ({ ...webhook, queued: queue.map((e) => e.trigger) })),
  );
  /** Resolves once every delivery has succeeded or its webhook is paused. */
  app.post('/webhooks/idle', async () => {
    await state.deliveries.idle();
    return { settled: true };
  });
}
