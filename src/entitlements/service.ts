import { eq } from 'drizzle-orm';
import type { Pool } from 'pg';
import type { Db } from '../db/database.js';
import { tiers } from '../db/schema/index.js';
import { compileStringifier } from '../http/fast-json.js';
import { entitlementAnswer } from './answer.js';
import type { InvalidatingCache } from './cache.js';
import type { Policy } from './policy.js';
import { createMembershipLookup, type Found } from './repository.js';
import { type CheckBody, type EntitlementView, entitlementView } from './schemas.js';

const stringifyView = compileStringifier(entitlementView);

/** "What may this user have?", answered from our tables under one documented policy. */
export function createEntitlementService(deps: {
  db: Db;
  pool: Pool;
  policy: Policy;
  /** Lookups cached in memory, invalidated by the change feed (see cache.ts). */
  cache?: InvalidatingCache<Found> | undefined;
  now?: () => Date;
}) {
  const now = deps.now ?? (() => new Date());
  const lookup = createMembershipLookup(deps.pool);
  const cache = deps.cache;
  // What a lookup read, by tag (see migration 0009): the campaign, the host user's connections,
  // the members of their Patreon users in it, and the chosen membership's tiers and charges.
  // What the clock decides is not cached with it: see `answers` below.
  const findMembership = !cache
    ? lookup
    : async (externalUserId: string, campaignId: string): Promise<Found> => {
        const key = `${campaignId}\0${externalUserId}`;
        const cached = cache.get(key);
        if (cached) return cached;
        const token = cache.begin();
        const found = await lookup(externalUserId, campaignId);
        const tags = [`c:${campaignId}`, `x:${externalUserId}`];
        if (found.kind === 'linked') {
          for (const id of found.patreonUserIds) tags.push(`p:${id}`);
          if (found.membership) tags.push(`m:${found.membership.facts.memberId}`);
        }
        cache.set(key, found, tags, token);
        return found;
      };

  const view = (
    found: Found,
    externalUserId: string,
    campaignId: string,
    explain: boolean,
    at: Date,
  ) => entitlementAnswer(found, externalUserId, campaignId, deps.policy, at, explain);

  // While a cached lookup stands (see cache.ts) its answer changes only with the clock, at
  // `until` (a grace period or a paid period ending): until then the same answer object is
  // returned, and `serialize` writes its JSON once.
  const answers = new WeakMap<Found, { answer: EntitlementView; validUntil: number }>();
  const serialized = new WeakMap<EntitlementView, string>();

  async function get(
    externalUserId: string,
    campaignId: string,
    explain: boolean,
  ): Promise<EntitlementView> {
    const found = await findMembership(externalUserId, campaignId);
    const at = now();
    if (explain) return view(found, externalUserId, campaignId, true, at);
    const known = answers.get(found);
    if (known && at.getTime() < known.validUntil) return known.answer;
    const answer = view(found, externalUserId, campaignId, false, at);
    const validUntil = answer.until ? Date.parse(answer.until) : Number.POSITIVE_INFINITY;
    answers.set(found, { answer, validUntil });
    return answer;
  }

  return {
    get,

    /** An answer as JSON (allow-listed by its schema), written once per answer object. */
    serialize(answer: EntitlementView): string {
      let json = serialized.get(answer);
      if (json === undefined) {
        json = stringifyView(answer);
        serialized.set(answer, json);
      }
      return json;
    },

    async check(body: CheckBody): Promise<{ entitled: boolean; reason: string }> {
      const answer = await get(body.externalUserId, body.campaignId, false);
      if (!answer.entitled) return { entitled: false, reason: answer.reason };
      if (body.tierId !== undefined) {
        if (answer.tiers.some((tier) => tier.id === body.tierId)) {
          return { entitled: true, reason: 'tier_entitled' };
        }
        const [asked] = await deps.db
          .select({ amountCents: tiers.amountCents })
          .from(tiers)
          .where(eq(tiers.id, body.tierId));
        const best = answer.tiers[0]?.amountCents ?? null;
        if (asked?.amountCents != null && best !== null && best >= asked.amountCents) {
          return { entitled: true, reason: 'higher_tier_entitled' };
        }
        return { entitled: false, reason: 'tier_not_entitled' };
      }
      if (body.minAmountCents !== undefined) {
        const monthly = answer.amount?.monthlyEquivalentCents ?? 0;
        return monthly >= body.minAmountCents
          ? { entitled: true, reason: 'amount_sufficient' }
          : { entitled: false, reason: 'amount_below_minimum' };
      }
      if (body.benefitId !== undefined) {
        return answer.benefits.some((benefit) => benefit.id === body.benefitId)
          ? { entitled: true, reason: 'benefit_entitled' }
          : { entitled: false, reason: 'benefit_not_entitled' };
      }
      return { entitled: true, reason: answer.reason };
    },
  };
}

export type EntitlementService = ReturnType<typeof createEntitlementService>;
