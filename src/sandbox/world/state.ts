import type { z } from 'zod';
import { createChaos, createRateLimiter } from '../api/rate-limits.js';
import type { Viewer } from '../api/resources.js';
import { ALL_SCOPES } from '../oauth/scopes.js';
import { createDeliveries } from '../webhooks/webhook-delivery.js';
import { memberPayload, postPayload } from '../webhooks/webhook-payloads.js';
import { createCounters } from './counters.js';
import { apiErrors } from './errors.js';
import { createMemberStore } from './member-store.js';
import type { MemberRecord, PostRecord } from './model.js';
import type { SandboxConfig, SandboxConfigInput, SandboxLimits, SandboxQuirks } from './options.js';
import { limitsSchema, quirksSchema, sandboxOptionsSchema } from './options.js';
import { createCatalog } from './seed-data.js';
import { OWN_CAMPAIGN_ID, OWN_CREATOR_ID } from './seed-ids.js';
import { startOfUtcMonth } from './time.js';
import { createTokenStore } from './tokens.js';
import type { Trigger, WebhookRecord } from './webhook-store.js';
import { createWebhookStore } from './webhook-store.js';

/** Applies a partial update (nested objects merged one level deep) and validates the result. */
function merge<T extends object>(schema: z.ZodType<T>, current: T, patch: unknown): T {
  if (typeof patch !== 'object' || patch === null || Array.isArray(patch))
    throw apiErrors.badRequest('Expected a JSON object.');
  const next: Record<string, unknown> = { ...(current as Record<string, unknown>) };
  for (const [key, value] of Object.entries(patch)) {
    const existing = next[key];
    const nested =
      value &&
      typeof value === 'object' &&
      !Array.isArray(value) &&
      existing &&
      typeof existing === 'object';
    next[key] = nested ? { ...existing, ...value } : value;
  }
  const result = schema.safeParse(next);
  if (!result.success)
    throw apiErrors.badRequest(
      result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '),
    );
  return result.data;
}

/** Everything a reset replaces: data, tokens and webhooks. */
function createWorld(config: SandboxConfig, seed: number, members: number, clock: () => number) {
  const anchorMs = config.anchorDate ? Date.parse(config.anchorDate) : startOfUtcMonth(clock());
  const catalog = createCatalog(seed, anchorMs);
  const tokens = createTokenStore(clock, () => config.tokenTtlSeconds);
  // docs/patreon-api.md §10.1: the client owner's creator token carries every v2 scope.
  tokens.issueCreatorToken(config.clientId, OWN_CREATOR_ID, [...ALL_SCOPES]);
  return {
    seed,
    members,
    anchorMs,
    catalog,
    store: createMemberStore(seed, members, anchorMs, catalog),
    tokens,
    webhooks: createWebhookStore(),
  };
}

export type World = ReturnType<typeof createWorld>;

/**
 * The sandbox's in-memory Patreon. Create it once and hand it to the plugin
 * (`sandboxPlugin`); the creator of a state closes it.
 */
export function createSandboxState(input: SandboxConfigInput = {}) {
  const config = sandboxOptionsSchema.parse(input);
  let offsetMs = 0;
  const clock = () => (config.now?.() ?? Date.now()) + offsetMs;
  let limits: SandboxLimits = config.limits;
  let quirks: SandboxQuirks = config.quirks;
  let learnedBaseUrl = 'http://localhost';
  const counters = createCounters();
  const rateLimiter = createRateLimiter(clock);
  const chaos = createChaos();
  chaos.configure(quirks.chaos);
  let world = createWorld(config, config.seed, config.members, clock);
  const deliveries = createDeliveries({
    options: () => config.webhookDelivery,
    clock,
    counters,
    isLive: (webhook) => world.webhooks.get(webhook.id) === webhook,
  });

  const baseUrl = () => config.publicBaseUrl?.replace(/\/$/, '') ?? learnedBaseUrl;

  function viewerFor(userId: string, clientId: string, scopes: readonly string[]): Viewer {
    return {
      catalog: world.catalog,
      store: world.store,
      baseUrl: baseUrl(),
      scopes: new Set(scopes),
      userId,
      clientId,
      clientCampaignIds: [OWN_CAMPAIGN_ID],
    };
  }

  /** Queues one event per registered webhook of the campaign that listens for the trigger. */
  function fire(
    campaignId: string,
    trigger: Trigger,
    payload: (viewer: Viewer, webhook: WebhookRecord) => string,
  ): number {
    const targets = world.webhooks.forEvent(campaignId, trigger);
    const owner = world.catalog.campaigns.get(campaignId)?.creatorId ?? OWN_CREATOR_ID;
    for (const webhook of targets) {
      const body = payload(viewerFor(owner, webhook.clientId, webhook.scopes), webhook);
      deliveries.enqueue(webhook, { trigger, body });
    }
    return targets.length;
  }

  return {
    config,
    clock,
    counters,
    rateLimiter,
    chaos,
    deliveries,
    get world(): World {
      return world;
    },
    get limits(): SandboxLimits {
      return limits;
    },
    get quirks(): SandboxQuirks {
      return quirks;
    },
    setLimits(patch: unknown): SandboxLimits {
      limits = merge(limitsSchema, limits, patch);
      rateLimiter.reset();
      return limits;
    },
    setQuirks(patch: unknown): SandboxQuirks {
      quirks = merge(quirksSchema, quirks, patch);
      chaos.configure(quirks.chaos);
      return quirks;
    },
    baseUrl,
    /** Links use `publicBaseUrl`, else the base URL of the latest request. */
    learnBaseUrl(url: string): void {
      learnedBaseUrl = url;
    },
    viewerFor,
    fireMember(trigger: Trigger, member: MemberRecord): number {
      return fire(member.campaignId, trigger, (viewer) => memberPayload(member, viewer));
    },
    firePost(trigger: Trigger, post: PostRecord): number {
      return fire(post.campaignId, trigger, (viewer) =>
        postPayload(post, viewer, quirks.thinPostPayload),
      );
    },
    advanceClock(seconds: number): number {
      offsetMs += seconds * 1000;
      return clock();
    },
    /** Back to a fresh world: new data, tokens, webhooks, counters; limits and quirks as configured. */
    async reset(next: { seed?: number; members?: number } = {}): Promise<void> {
      await deliveries.cancelAll();
      offsetMs = 0;
      limits = config.limits;
      quirks = config.quirks;
      chaos.configure(quirks.chaos);
      rateLimiter.reset();
      counters.clear();
      world = createWorld(config, next.seed ?? config.seed, next.members ?? config.members, clock);
    },
    close: () => deliveries.close(),
  };
}

export type SandboxState = ReturnType<typeof createSandboxState>;
