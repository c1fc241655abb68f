import { z } from 'zod';

const windowSchema = z.strictObject({
  max: z.int().positive(),
  windowMs: z.int().positive(),
});

/** docs/patreon-api.md §6: 100 requests / 2 s per client, 100 / minute per token. */
export const limitsSchema = z.strictObject({
  enabled: z.boolean().default(true),
  client: windowSchema.default({ max: 100, windowMs: 2_000 }),
  token: windowSchema.default({ max: 100, windowMs: 60_000 }),
});
export type SandboxLimits = z.output<typeof limitsSchema>;

/** Switches for the behaviours docs/patreon-api.md leaves open, so clients can be proved against each. */
export const quirksSchema = z.strictObject({
  lastPageKeepsCursor: z.boolean().default(false),
  ignorePageCount: z.boolean().default(false),
  retryAfterHeader: z.boolean().default(true),
  rateLimitBody: z.boolean().default(true),
  delayMs: z.int().min(0).max(60_000).default(0),
  thinPostPayload: z.boolean().default(false),
  chaos: z
    .strictObject({ rate: z.number().min(0).max(1), seed: z.int().default(1) })
    .default({ rate: 0, seed: 1 }),
});
export type SandboxQuirks = z.output<typeof quirksSchema>;

const deliverySchema = z.strictObject({
  timeoutMs: z.int().positive().default(10_000),
  /** Wait before retry n (the last entry repeats). */
  backoffMs: z.array(z.int().min(0)).min(1).default([100, 500, 2_000, 5_000]),
  pauseAfterFailures: z.int().positive().default(5),
});
export type DeliveryOptions = z.output<typeof deliverySchema>;

export const sandboxOptionsSchema = z.strictObject({
  clientId: z.string().min(1).default('sandbox-client-id'),
  clientSecret: z.string().min(1).default('sandbox-client-secret'),
  redirectUris: z.array(z.url()).default(['http://localhost:3000/oauth/callback']),
  seed: z.int().default(1),
  members: z.int().min(0).max(200_000).default(250),
  /** docs/patreon-api.md §1.4: observed `expires_in` of 31 days. */
  tokenTtlSeconds: z.int().positive().default(2_678_400),
  /** Stands in for https://www.patreon.com in `links`; derived from each request when absent. */
  publicBaseUrl: z.url().optional(),
  /** Generated dates are relative to this instant; defaults to the start of the current UTC month. */
  anchorDate: z.iso.datetime({ offset: true }).optional(),
  limits: limitsSchema.default(limitsSchema.parse({})),
  quirks: quirksSchema.default(quirksSchema.parse({})),
  webhookDelivery: deliverySchema.default(deliverySchema.parse({})),
  now: z.custom<() => number>((value) => typeof value === 'function').optional(),
});

export type SandboxConfig = z.output<typeof sandboxOptionsSchema>;
export type SandboxConfigInput = z.input<typeof sandboxOptionsSchema>;
