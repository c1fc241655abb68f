import { and, eq, isNull, notInArray, sql } from 'drizzle-orm';
import type { DbOrTx } from '../db/database.js';
import { campaigns, members, patreonUsers, tiers } from '../db/schema/index.js';
import { upsertRows } from '../db/upsert.js';
import { replaceMemberTiers } from '../members/member-tiers.js';
import type { User } from '../patreon/resources.js';
import { campaignRow, defined, memberRow, tierRow, userRow } from '../sync/resource-rows.js';

/**
 * Stores the Patreon user behind a connection and, for patrons, their memberships as Patreon
 * reported them through `/identity` (campaign, status, entitled tiers, amounts), so entitlements
 * can be answered for a patron whose creator we do not sync. Memberships that disappeared from
 * the identity are tombstoned, not deleted.
 */
export async function storeIdentity(
  db: DbOrTx,
  user: User,
  withMemberships: boolean,
  seenAt: Date,
) {
  await upsertRows(db, patreonUsers, [defined(userRow(user))], { target: [patreonUsers.id] });
  if (!withMemberships) return;

  const memberships = (user.memberships ?? []).filter((m) => m.campaign?.id);
  const campaignRows = new Map(
    memberships.map((m) => {
      const campaign = m.campaign as NonNullable<typeof m.campaign>;
      return [campaign.id, defined({ ...campaignRow(campaign), creatorUserId: undefined })];
    }),
  );
  await upsertRows(db, campaigns, [...campaignRows.values()], { target: [campaigns.id] });

  const tierRows = new Map(
    memberships.flatMap((m) =>
      (m.currentlyEntitledTiers ?? []).map((tier) => [
        tier.id,
        defined(tierRow(tier, m.campaign?.id as string)),
      ]),
    ),
  );
  await upsertRows(db, tiers, [...tierRows.values()], { target: [tiers.id] });

  const memberRows = memberships.map((m) =>
    defined({
      ...memberRow(m, m.campaign?.id as string, 'identity', m.campaign?.currency),
      userId: user.id,
      seenAt,
    }),
  );
  await upsertRows(db, members, memberRows, { target: [members.id] });

  const ids = memberships.map((m) => m.id);
  await replaceMemberTiers(
    db,
    ids,
    memberships.flatMap((m) =>
      (m.currentlyEntitledTiers ?? []).map((tier): [string, string] => [m.id, tier.id]),
    ),
  );
  await db
    .update(members)
    .set({ deletedAt: sql`now()`, updatedAt: sql`now()` })
    .where(
      and(
        eq(members.userId, user.id),
        eq(members.lastSource, 'identity'),
        isNull(members.deletedAt),
        ...(ids.length > 0 ? [notInArray(members.id, ids)] : []),
      ),
    );
}
