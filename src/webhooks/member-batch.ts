import { and, eq, inArray, sql } from 'drizzle-orm';
import type { DbOrTx } from '../db/database.js';
import {
  campaigns,
  members,
  patreonUsers,
  tiers,
  type WebhookEventResult,
  webhookEvents,
} from '../db/schema/index.js';
import { upsertRows } from '../db/upsert.js';
import { type EventRecord, recordEvents } from '../events/record-event.js';
import type { EntitlementReview } from '../members/entitlement-review.js';
import { memberChangeEvents, memberChanges } from '../members/member-changes.js';
import { replaceMemberTiers } from '../members/member-tiers.js';
import { advanceMembership, readMembershipStates } from '../members/membership-state.js';
import { decodeOne, isInvalidIdError } from '../patreon/json-api.js';
import type { Member, ResourceOf, User } from '../patreon/resources.js';
import { AppError } from '../shared/errors.js';
import { defined, memberRow, tierRow, userRow } from '../sync/resource-rows.js';

/** A stored member delivery with what applying it needs. */
export type MemberDelivery = {
  id: number;
  event: string;
  body: Buffer;
  campaignId: string;
  connectionId: string | null;
  /** When we received it: Patreon's word about the member as of then (the answer's `asOf`). */
  receivedAt: Date;
  /** What Patreon said when asked about an ambiguous delivery (see apply.ts), applied instead. */
  confirmed?: Exclude<Confirmation, Error> | undefined;
};

/** Patreon's current member, `gone` when Patreon no longer knows it, or why asking failed. */
export type Confirmation = { member: Member } | 'gone' | Error;

/** Why a delivery can never apply; stored with it as its error code. */
export type ApplyRefusal =
  | 'BODY_NOT_JSON'
  | 'INVALID_BODY'
  | 'WRONG_CAMPAIGN'
  | 'INVALID_RESOURCE_ID';

/** An event that cannot apply however often it is retried (e.g. a body that is not a member). */
export class PermanentApplyError extends AppError {
  constructor(code: ApplyRefusal, detail: string) {
    super(code, 422, 'The delivery cannot be applied', detail);
  }
}

/**
 * A delivery's resource, decoded, or the refusal that says why it never will be: not JSON, not a
 * Patreon resource of that type, or naming an id Patreon does not issue (the decoder checks every
 * id it meets, patreon/ids.ts), which would be stored and then never found.
 */
export function decodeDelivery<T extends 'member' | 'post'>(body: Buffer, type: T): ResourceOf[T] {
  let document: unknown;
  try {
    document = JSON.parse(body.toString('utf8'));
  } catch {
    throw new PermanentApplyError('BODY_NOT_JSON', 'The body is not JSON.');
  }
  try {
    return decodeOne(document, type, 'webhook');
  } catch (error) {
    const problem = (error as Error).message;
    throw isInvalidIdError(error)
      ? new PermanentApplyError(
          'INVALID_RESOURCE_ID',
          `The delivery names an id that is not one Patreon issues (${problem}).`,
        )
      : new PermanentApplyError('INVALID_BODY', `The body is not a Patreon ${type} (${problem}).`);
  }
}

type MemberRow = typeof members.$inferInsert;

function decodeMember(delivery: MemberDelivery): Member {
  const member = decodeDelivery(delivery.body, 'member');
  const campaignId = member.campaign?.id ?? delivery.campaignId;
  if (campaignId !== delivery.campaignId) {
    throw new PermanentApplyError(
      'WRONG_CAMPAIGN',
      `The member belongs to campaign ${campaignId}, not to this webhook's`,
    );
  }
  return member;
}

/**
 * Applies member deliveries (in the given arrival order) with a handful of statements for the
 * whole batch: the states before are read at once, each event is sequenced in memory (stale and
 * superseded ones ignored, semantic changes derived from the state it found), then the final
 * rows, tier links and host events are written together. Returns each delivery's outcome; a
 * delivery that can never apply gets its PermanentApplyError instead. A database error throws
 * (the caller then applies the deliveries one by one).
 */
export async function applyMemberDeliveries(
  tx: DbOrTx,
  deliveries: MemberDelivery[],
  entitlements: EntitlementReview,
): Promise<Map<number, WebhookEventResult | PermanentApplyError>> {
  const outcomes = new Map<number, WebhookEventResult | PermanentApplyError>();
  const decoded: { delivery: MemberDelivery; member: Member; confirmed: boolean }[] = [];
  for (const delivery of deliveries) {
    try {
      const sent = decodeMember(delivery);
      const confirmed = delivery.confirmed;
      // Patreon's answer replaces an ambiguous delivery: its current member, or a deletion.
      const member = confirmed && confirmed !== 'gone' ? confirmed.member : sent;
      decoded.push({ delivery, member, confirmed: confirmed !== undefined });
    } catch (error) {
      if (!(error instanceof PermanentApplyError)) throw error;
      outcomes.set(delivery.id, error);
    }
  }
  if (decoded.length === 0) return outcomes;
  const ids = [...new Set(decoded.map(({ member }) => member.id))];
  const campaignIds = [...new Set(decoded.map(({ delivery }) => delivery.campaignId))];

  // One after another: a transaction is one connection.
  const latestApplied = await tx
    .select({ memberId: webhookEvents.resourceId, id: sql<string>`max(${webhookEvents.id})` })
    .from(webhookEvents)
    .where(
      and(
        eq(webhookEvents.resourceType, 'member'),
        inArray(webhookEvents.resourceId, ids),
        eq(webhookEvents.status, 'applied'),
      ),
    )
    .groupBy(webhookEvents.resourceId);
  const currencies = await tx
    .select({ id: campaigns.id, currency: campaigns.currency })
    .from(campaigns)
    .where(inArray(campaigns.id, campaignIds));
  const newest = new Map(latestApplied.map((row) => [row.memberId, Number(row.id)]));
  const currencyOf = new Map(currencies.map((row) => [row.id, row.currency]));
  const states = await readMembershipStates(tx, ids);

  const finalRows = new Map<string, MemberRow>();
  const finalTiers = new Map<string, string[]>();
  const users = new Map<string, typeof patreonUsers.$inferInsert>();
  const tierRows = new Map<string, typeof tiers.$inferInsert>();
  const events: EventRecord[] = [];
  for (const { delivery, member, confirmed } of decoded) {
    const later = newest.get(member.id);
    if (later !== undefined && later > delivery.id) {
      outcomes.set(delivery.id, { changes: [], ignored: `superseded by event ${later}` });
      continue;
    }
    const before = states.get(member.id);
    // Patreon's deliveries carry no timestamp; a charge older than the one we know is stale news.
    const known = before?.lastChargeDate?.getTime();
    const incoming = member.lastChargeDate?.getTime();
    if (!confirmed && known !== undefined && incoming !== undefined && incoming < known) {
      outcomes.set(delivery.id, {
        changes: [],
        ignored: 'older than the stored state (earlier last_charge_date)',
      });
      continue;
    }
    const campaignId = delivery.campaignId;
    const currency = member.campaign?.currency ?? currencyOf.get(campaignId) ?? null;
    const row = defined({
      ...memberRow(member, campaignId, 'webhook', currency),
      seenAt: delivery.receivedAt,
    }) as MemberRow;
    // Confirmed with Patreon: deleted only if Patreon no longer knows the member.
    const deleted =
      delivery.confirmed !== undefined
        ? delivery.confirmed === 'gone'
        : delivery.event === 'members:delete';
    if (deleted) {
      // Already tombstoned: keep the first deletion time.
      if (!before?.deleted) row.deletedAt = new Date();
      else delete row.deletedAt;
    } else {
      row.deletedAt = null;
    }
    const entitled = member.currentlyEntitledTiers;
    const tierIds = entitled?.map((tier) => tier.id);
    const after = advanceMembership(before, row, tierIds);
    const changes = memberChanges(before, after);
    events.push(
      ...memberChangeEvents({
        cause: `webhook:${delivery.id}`,
        connectionId: delivery.connectionId ?? undefined,
        before,
        after,
        changes,
      }),
    );
    outcomes.set(delivery.id, { changes });
    states.set(member.id, after);
    finalRows.set(member.id, { ...finalRows.get(member.id), ...row });
    if (tierIds) finalTiers.set(member.id, tierIds);
    if (member.user) users.set(member.user.id, defined(userRow(member.user as User)));
    for (const tier of entitled ?? []) {
      if (tier.amountCents !== undefined) tierRows.set(tier.id, defined(tierRow(tier, campaignId)));
    }
  }

  await upsertRows(tx, patreonUsers, [...users.values()], { target: [patreonUsers.id] });
  await upsertRows(tx, tiers, [...tierRows.values()], { target: [tiers.id] });
  await upsertRows(tx, members, [...finalRows.values()], { target: [members.id] });
  if (finalTiers.size > 0) {
    await replaceMemberTiers(
      tx,
      [...finalTiers.keys()],
      [...finalTiers].flatMap(([memberId, ids]) =>
        ids.map((id): [string, string] => [memberId, id]),
      ),
    );
  }
  await recordEvents(tx, events);
  await entitlements.members(tx, [...finalRows.keys()], 'webhook');
  return outcomes;
}
