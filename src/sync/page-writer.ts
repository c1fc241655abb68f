import { and, eq, isNull, notInArray, sql } from 'drizzle-orm';
import type { DbOrTx } from '../db/database.js';
import { replaceLinks } from '../db/links.js';
import {
  benefits,
  campaigns,
  goals,
  members,
  patreonUsers,
  posts,
  syncSeen,
  tierBenefits,
  tiers,
} from '../db/schema/index.js';
import { runUpsert, upsertRows } from '../db/upsert.js';
import { announceCampaignChanges } from '../entitlements/changes.js';
import { recordEvents } from '../events/record-event.js';
import type { EntitlementReview } from '../members/entitlement-review.js';
import { memberChangeEvents, memberChanges } from '../members/member-changes.js';
import { replaceMemberTiers } from '../members/member-tiers.js';
import { advanceMembership, readMembershipStates } from '../members/membership-state.js';
import type { Campaign, Post } from '../patreon/resources.js';
import type { MemberRow, PreparedMembersPage } from './members-page.js';
import {
  benefitRow,
  campaignRow,
  defined,
  goalRow,
  postRow,
  tierRow,
  userRow,
} from './resource-rows.js';

/**
 * Writes what one Patreon response brought, one multi-row statement per table, in the caller's
 * transaction (which also saves the job's cursor). No statement per row, and rows whose values
 * did not change are not rewritten (see upsertRows).
 */

export async function writeCampaign(
  tx: DbOrTx,
  campaign: Campaign,
  connectionId: string,
  review: { entitlements: EntitlementReview; cause: string },
) {
  if (campaign.creator) {
    await upsertRows(tx, patreonUsers, [defined(userRow(campaign.creator))], {
      target: [patreonUsers.id],
    });
  }
  await upsertRows(
    tx,
    campaigns,
    [defined({ ...campaignRow(campaign), connectionId, deletedAt: null })],
    {
      target: [campaigns.id],
    },
  );
  const tierList = campaign.tiers ?? [];
  const benefitList = campaign.benefits ?? [];
  const goalList = campaign.goals ?? [];
  await upsertRows(
    tx,
    tiers,
    tierList.map((t) => defined({ ...tierRow(t, campaign.id), deletedAt: null })),
    {
      target: [tiers.id],
    },
  );
  await upsertRows(
    tx,
    benefits,
    benefitList.map((b) => defined({ ...benefitRow(b, campaign.id), deletedAt: null })),
    { target: [benefits.id] },
  );
  await upsertRows(
    tx,
    goals,
    goalList.map((g) => defined(goalRow(g, campaign.id))),
    { target: [goals.id] },
  );

  // Tiers and benefits Patreon no longer lists are deleted there: tombstone them (pledge history
  // still names deleted tiers, so the rows stay).
  await tombstoneMissing(
    tx,
    tiers,
    campaign.id,
    tierList.map((t) => t.id),
  );
  await tombstoneMissing(
    tx,
    benefits,
    campaign.id,
    benefitList.map((b) => b.id),
  );

  const links = tierList.flatMap((tier) =>
    (tier.benefits ?? []).map((benefit): [string, string] => [tier.id, benefit.id]),
  );
  const tierIds = tierList.map((t) => t.id);
  if (tierIds.length > 0) {
    await replaceLinks(tx, tierBenefits, ['tier_id', 'benefit_id'], tierIds, links);
  }
  // A tier deleted (or brought back) changes its members' answers (the deleted-tier rule).
  await review.entitlements.campaign(tx, campaign.id, review.cause);
  return { tiers: tierList.length, benefits: benefitList.length, goals: goalList.length };
}

export type MembersPageResult = {
  members: number;
  users: number;
  pledgeEvents: number;
  added: number;
  changed: number;
};

export async function writeMembersPage(
  tx: DbOrTx,
  input: {
    jobId: string;
    prepared: PreparedMembersPage;
    /**
     * Record host events for what changed (as a webhook would have), caused by this job. Off for
     * a campaign's first import: that is one `sync.completed`, not an event per member.
     */
    emitChanges?: { connectionId: string };
    /** Decides the linked host users' answers after the page (the member pipeline's events). */
    entitlements: EntitlementReview;
    /** When Patreon sent the page: the `asOf` of the answers decided from it. */
    seenAt: Date;
  },
): Promise<MembersPageResult> {
  const { ids, changes } = input.prepared;
  if (ids.length === 0) return { members: 0, users: 0, pledgeEvents: 0, added: 0, changed: 0 };
  if (input.emitChanges && !changes)
    throw new Error('a page emitting changes was prepared without them');
  // One notification for the page, not one per member, tier link and charge.
  await announceCampaignChanges(tx, [input.prepared.campaignId]);
  const before = input.emitChanges ? await readMembershipStates(tx, ids) : undefined;
  await runUpsert(tx, input.prepared.users);
  // What the upsert inserted (not merely changed) is counted by the upsert itself.
  const written = await runUpsert(tx, input.prepared.members);
  await replaceMemberTiers(tx, ids, input.prepared.links);
  await runUpsert(tx, input.prepared.events);
  await markSeen(tx, input.jobId, 'member', ids);
  // One row for the page rather than a column rewritten on every unchanged member.
  await tx
    .update(campaigns)
    .set({ seenAt: input.seenAt })
    .where(eq(campaigns.id, input.prepared.campaignId));
  await input.entitlements.members(tx, ids, `sync:${input.jobId}`);
  if (before && input.emitChanges && changes) {
    const { connectionId } = input.emitChanges;
    await recordEvents(
      tx,
      changes.members.flatMap((member, index) => {
        const previous = before.get(member.id);
        const after = advanceMembership(
          previous,
          changes.rows[index] as MemberRow,
          member.currentlyEntitledTiers?.map((tier) => tier.id),
        );
        return memberChangeEvents({
          cause: `sync:${input.jobId}`,
          connectionId,
          before: previous,
          after,
          changes: memberChanges(previous, after),
        });
      }),
    );
  }
  return {
    members: ids.length,
    users: input.prepared.usersCount,
    pledgeEvents: input.prepared.eventsCount,
    added: written.inserted,
    changed: written.written - written.inserted,
  };
}

export async function writePostsPage(
  tx: DbOrTx,
  input: { jobId: string; campaignId: string; posts: Post[] },
): Promise<number> {
  if (input.posts.length === 0) return 0;
  await upsertRows(
    tx,
    posts,
    input.posts.map((p) => defined(postRow(p, input.campaignId))),
    {
      target: [posts.id],
    },
  );
  await markSeen(
    tx,
    input.jobId,
    'post',
    input.posts.map((p) => p.id),
  );
  return input.posts.length;
}

/**
 * After a complete pass: members and posts of the campaign this pass did not see are gone. With
 * `emitChanges`, a member that disappears gets the events a `members:delete` webhook would give.
 */
export async function tombstoneUnseen(
  tx: DbOrTx,
  jobId: string,
  campaignId: string,
  entitlements: EntitlementReview,
  emitChanges?: { connectionId: string },
) {
  const unseen = (table: typeof members | typeof posts, kind: 'member' | 'post') =>
    and(
      eq(table.campaignId, campaignId),
      isNull(table.deletedAt),
      // A hashed anti-join: one pass over what this job saw, not a lookup per row.
      sql`${table.id} not in (select unnest(${syncSeen.resourceIds}) from ${syncSeen} where ${syncSeen.jobId} = ${jobId} and ${syncSeen.kind} = ${kind})`,
    );
  await announceCampaignChanges(tx, [campaignId]);
  const gone = await tx
    .update(members)
    .set({ deletedAt: sql`now()`, updatedAt: sql`now()` })
    .where(unseen(members, 'member'))
    .returning({ id: members.id });
  await entitlements.members(
    tx,
    gone.map((row) => row.id),
    `sync:${jobId}`,
  );
  if (emitChanges && gone.length > 0) {
    const states = await readMembershipStates(
      tx,
      gone.map((row) => row.id),
    );
    await recordEvents(
      tx,
      [...states.values()].flatMap((after) => {
        const previous = { ...after, deleted: false };
        return memberChangeEvents({
          cause: `sync:${jobId}`,
          connectionId: emitChanges.connectionId,
          before: previous,
          after,
          changes: memberChanges(previous, after),
        });
      }),
    );
  }
  const removedPosts =
    (
      await tx
        .update(posts)
        .set({ deletedAt: sql`now()`, updatedAt: sql`now()` })
        .where(unseen(posts, 'post'))
    ).rowCount ?? 0;
  await tx.delete(syncSeen).where(eq(syncSeen.jobId, jobId));
  return { members: gone.length, posts: removedPosts };
}

async function tombstoneMissing(
  tx: DbOrTx,
  table: typeof tiers | typeof benefits,
  campaignId: string,
  present: string[],
) {
  await tx
    .update(table)
    .set({ deletedAt: sql`now()`, updatedAt: sql`now()` })
    .where(
      and(
        eq(table.campaignId, campaignId),
        isNull(table.deletedAt),
        ...(present.length > 0 ? [notInArray(table.id, present)] : []),
      ),
    );
}

/** Remembers what this pass saw: one row per page, its ids as one array. */
async function markSeen(tx: DbOrTx, jobId: string, kind: 'member' | 'post', ids: string[]) {
  if (ids.length === 0) return;
  await tx.insert(syncSeen).values({ jobId, kind, resourceIds: ids });
}
