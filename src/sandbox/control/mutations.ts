import { randomUUID } from 'node:crypto';
import { apiErrors } from '../world/errors.js';
import type {
  ChargeStatus,
  MemberRecord,
  PledgeEventType,
  PostRecord,
  TierRecord,
} from '../world/model.js';
import { userAttributes } from '../world/people.js';
import { pledgeEvent } from '../world/pledge-history.js';
import { OWN_CAMPAIGN_ID } from '../world/seed-ids.js';
import { postRecord } from '../world/seed-posts.js';
import type { SandboxState } from '../world/state.js';
import { addMonths, iso } from '../world/time.js';
import type { Trigger } from '../world/webhook-store.js';
import type { MemberPatch } from './member-patch.js';
import { applyMemberPatch } from './member-patch.js';

const USD = { code: 'USD', rate: 1 };

export interface MutationResult<T> {
  record: T;
  triggers: Trigger[];
}

/**
 * Control-API data changes. Each fires the webhook triggers Patreon would
 * (docs/patreon-api.md §9.1): members:delete only for members who never paid,
 * otherwise a deletion shows up as members:update with a changed status.
 */
export function createMutations(state: SandboxState) {
  let nextEventId = 90_000_000;
  let nextPostId = 82_000_001;

  function fire(member: MemberRecord, triggers: Trigger[]): MutationResult<MemberRecord> {
    for (const trigger of triggers) state.fireMember(trigger, member);
    return { record: member, triggers };
  }

  function memberOrThrow(id: string): MemberRecord {
    const member = state.world.store.member(id);
    if (!member) throw apiErrors.notFound(`No member ${id}.`);
    return structuredClone(member);
  }

  function event(
    member: MemberRecord,
    type: PledgeEventType,
    tier: TierRecord | undefined,
    amountCents: number,
    status: ChargeStatus,
    dateMs = state.clock(),
  ) {
    member.pledgeHistory.push(
      pledgeEvent(nextEventId++, type, tier, amountCents, USD, dateMs, status),
    );
  }

  /** The published tier a pledge buys: the given one, or the best one the amount reaches. */
  function tierFor(
    campaignId: string,
    pledge: { tierId?: string; amountCents?: number },
  ): { tier: TierRecord | undefined; amount: number } {
    const tiers = [...state.world.catalog.tiers.values()].filter(
      (t) => t.campaignId === campaignId && !t.deleted,
    );
    if (pledge.tierId !== undefined) {
      const tier = tiers.find((t) => t.id === pledge.tierId);
      if (!tier)
        throw apiErrors.badRequest(
          `Tier ${pledge.tierId} is not a published tier of campaign ${campaignId}.`,
          'tierId',
        );
      return { tier, amount: pledge.amountCents ?? tier.attributes.amount_cents };
    }
    const amount = pledge.amountCents ?? 0;
    const reachable = tiers.filter((t) => t.attributes.amount_cents <= amount);
    return {
      tier: reachable.sort((a, b) => b.attributes.amount_cents - a.attributes.amount_cents)[0],
      amount,
    };
  }

  function startPaying(member: MemberRecord, tier: TierRecord | undefined, amount: number): void {
    const now = state.clock();
    const a = member.attributes;
    const cadence = a.pledge_cadence ?? 1;
    member.tierIds = tier ? [tier.id] : [];
    a.patron_status = 'active_patron';
    a.last_charge_status = 'Paid';
    a.last_charge_date = iso(now);
    a.next_charge_date = iso(addMonths(now, cadence));
    a.pledge_cadence = cadence;
    a.pledge_relationship_start ??= iso(now);
    a.currently_entitled_amount_cents = amount;
    a.will_pay_amount_cents = amount * cadence;
    a.campaign_lifetime_support_cents += amount * cadence;
    a.lifetime_support_cents = a.campaign_lifetime_support_cents;
    a.is_free_trial = false;
  }

  function stopPaying(member: MemberRecord): void {
    const a = member.attributes;
    member.tierIds = [];
    a.patron_status = 'former_patron';
    a.currently_entitled_amount_cents = 0;
    a.will_pay_amount_cents = 0;
    a.next_charge_date = null;
  }

  return {
    addMember(input: {
      fullName?: string;
      email?: string | null;
      tierId?: string;
      amountCents?: number;
      campaignId?: string;
    }) {
      const store = state.world.store;
      const campaignId = input.campaignId ?? OWN_CAMPAIGN_ID;
      if (!state.world.catalog.campaigns.has(campaignId))
        throw apiErrors.notFound(`No campaign ${campaignId}.`);
      const userId = store.newUserId();
      const [first = 'New', last = 'Member'] = (
        input.fullName ?? `New Member${userId.slice(-3)}`
      ).split(' ');
      const email = input.email === undefined ? `member.${userId}@example.com` : input.email;
      const user = {
        id: userId,
        attributes: userAttributes(userId, first, last, email, state.clock(), false),
      };
      const member: MemberRecord = {
        id: randomUUID(),
        campaignId,
        userId,
        tierIds: [],
        address: null,
        pledgeHistory: [],
        attributes: {
          campaign_lifetime_support_cents: 0,
          currently_entitled_amount_cents: 0,
          email,
          full_name: user.attributes.full_name,
          is_follower: false,
          is_free_trial: false,
          is_gifted: false,
          last_charge_date: null,
          last_charge_status: null,
          lifetime_support_cents: 0,
          next_charge_date: null,
          note: '',
          patron_status: null,
          pledge_cadence: null,
          pledge_relationship_start: null,
          will_pay_amount_cents: 0,
        },
      };
      const pledging = input.tierId !== undefined || input.amountCents !== undefined;
      if (pledging) {
        const { tier, amount } = tierFor(campaignId, input);
        startPaying(member, tier, amount);
        event(member, 'pledge_start', tier, amount, 'Paid');
      }
      store.add(member, user);
      return fire(
        member,
        pledging ? ['members:create', 'members:pledge:create'] : ['members:create'],
      );
    },

    changePledge(id: string, pledge: { tierId?: string; amountCents?: number }) {
      const member = memberOrThrow(id);
      const wasActive = member.attributes.patron_status === 'active_patron';
      const before = member.attributes.currently_entitled_amount_cents;
      const { tier, amount } = tierFor(member.campaignId, pledge);
      startPaying(member, tier, amount);
      event(
        member,
        !wasActive ? 'pledge_start' : amount >= before ? 'pledge_upgrade' : 'pledge_downgrade',
        tier,
        amount,
        'Paid',
      );
      state.world.store.save(member);
      return fire(member, [
        wasActive ? 'members:pledge:update' : 'members:pledge:create',
        'members:update',
      ]);
    },

    decline(id: string) {
      const member = memberOrThrow(id);
      const a = member.attributes;
      if (a.patron_status !== 'active_patron')
        throw apiErrors.badRequest('Only an active patron can have a charge declined.');
      const tier = state.world.catalog.tiers.get(member.tierIds[0] ?? '');
      member.tierIds = [];
      a.patron_status = 'declined_patron';
      a.last_charge_status = 'Declined';
      a.last_charge_date = iso(state.clock());
      a.currently_entitled_amount_cents = 0;
      event(member, 'subscription', tier, a.will_pay_amount_cents, 'Declined');
      state.world.store.save(member);
      return fire(member, ['members:update']);
    },

    recover(id: string) {
      const member = memberOrThrow(id);
      if (member.attributes.patron_status !== 'declined_patron')
        throw apiErrors.badRequest('Only a declined patron can recover.');
      const last = [...member.pledgeHistory].reverse().find((e) => e.tierId !== null);
      const tier = last?.tierId ? state.world.catalog.tiers.get(last.tierId) : undefined;
      const amount = tier?.attributes.amount_cents ?? member.attributes.will_pay_amount_cents;
      startPaying(member, tier && !tier.deleted ? tier : undefined, amount);
      event(member, 'subscription', tier, amount, 'Paid');
      state.world.store.save(member);
      return fire(member, ['members:update']);
    },

    cancel(id: string) {
      const member = memberOrThrow(id);
      const status = member.attributes.patron_status;
      if (status !== 'active_patron' && status !== 'declined_patron')
        throw apiErrors.badRequest('The member has no pledge to cancel.');
      const tier = state.world.catalog.tiers.get(member.tierIds[0] ?? '');
      stopPaying(member);
      event(member, 'pledge_delete', tier, 0, 'Deleted');
      state.world.store.save(member);
      return fire(member, ['members:pledge:delete', 'members:update']);
    },

    /** Sets the member's state; `notify: false` changes it without a webhook (a sync finds it). */
    patchMember(id: string, patch: MemberPatch) {
      const member = memberOrThrow(id);
      const chargeTier = applyMemberPatch(member, patch, state.world.catalog.tiers, state.clock());
      const a = member.attributes;
      if (chargeTier && a.last_charge_status && a.last_charge_date) {
        const amount = chargeTier.attributes.amount_cents * (a.pledge_cadence ?? 1);
        const date = Date.parse(a.last_charge_date);
        event(member, 'subscription', chargeTier, amount, a.last_charge_status, date);
      }
      state.world.store.save(member);
      return fire(member, patch.notify ? ['members:update'] : []);
    },

    deleteMember(id: string): MutationResult<MemberRecord> & { deleted: boolean } {
      const member = memberOrThrow(id);
      if (member.attributes.campaign_lifetime_support_cents === 0) {
        state.world.store.remove(id);
        return { ...fire(member, ['members:delete']), deleted: true };
      }
      const hadPledge =
        member.attributes.patron_status === 'active_patron' ||
        member.attributes.patron_status === 'declined_patron';
      if (hadPledge)
        event(
          member,
          'pledge_delete',
          state.world.catalog.tiers.get(member.tierIds[0] ?? ''),
          0,
          'Deleted',
        );
      stopPaying(member);
      state.world.store.save(member);
      return {
        ...fire(
          member,
          hadPledge ? ['members:pledge:delete', 'members:update'] : ['members:update'],
        ),
        deleted: false,
      };
    },

    publishPost(input: {
      title: string;
      content?: string;
      tierIds?: string[];
      campaignId?: string;
    }) {
      const world = state.world;
      const campaign = world.catalog.campaigns.get(input.campaignId ?? OWN_CAMPAIGN_ID);
      if (!campaign) throw apiErrors.notFound(`No campaign ${input.campaignId}.`);
      const id = String(nextPostId++);
      const post = postRecord(
        id,
        campaign.id,
        campaign.creatorId,
        input.title,
        input.tierIds ?? [],
        state.clock(),
      );
      if (input.content !== undefined) post.attributes.content = input.content;
      world.catalog.posts.push(post);
      state.firePost('posts:publish', post);
      return { record: post, triggers: ['posts:publish'] } satisfies MutationResult<PostRecord>;
    },

    updatePost(id: string, patch: { title?: string; content?: string; tierIds?: string[] }) {
      const post = state.world.catalog.posts.find((p) => p.id === id);
      if (!post) throw apiErrors.notFound(`No post ${id}.`);
      if (patch.title !== undefined) post.attributes.title = patch.title;
      if (patch.content !== undefined) post.attributes.content = patch.content;
      if (patch.tierIds !== undefined) {
        post.attributes.tiers = patch.tierIds;
        post.attributes.is_public = patch.tierIds.length === 0;
        post.attributes.is_paid = patch.tierIds.length > 0;
      }
      state.firePost('posts:update', post);
      return { record: post, triggers: ['posts:update'] } satisfies MutationResult<PostRecord>;
    },

    deletePost(id: string) {
      const posts = state.world.catalog.posts;
      const index = posts.findIndex((p) => p.id === id);
      const post = posts[index];
      if (!post) throw apiErrors.notFound(`No post ${id}.`);
      posts.splice(index, 1);
      state.firePost('posts:delete', post);
      return { record: post, triggers: ['posts:delete'] } satisfies MutationResult<PostRecord>;
    },
  };
}

export type Mutations = ReturnType<typeof createMutations>;
