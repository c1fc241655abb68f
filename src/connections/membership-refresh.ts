import { eq, sql } from 'drizzle-orm';
import type { FastifyBaseLogger } from 'fastify';
import type { Db } from '../db/database.js';
import { connections, members } from '../db/schema/index.js';
import type { EntitlementReview } from '../members/entitlement-review.js';
import type { PatreonClient } from '../patreon/client.js';
import type { Member } from '../patreon/resources.js';
import type { Clock } from '../shared/clock.js';
import { ConnectionNotFoundError } from './errors.js';
import { storeIdentity } from './identity-store.js';
import type { TokenVault } from './token-vault.js';

export type RefreshSchedule = {
  /** Longest time between two reads of a patron's memberships. */
  intervalMs: number;
  /** How long after a membership's `next_charge_date` it is read again (the charge settled). */
  afterChargeMs: number;
};

/**
 * When a patron's memberships should next be read: after `intervalMs`, or sooner, shortly after
 * the next charge of any membership (when its status is likely to change).
 */
export function nextRefreshAt(
  memberships: Pick<Member, 'nextChargeDate'>[],
  now: Date,
  schedule: RefreshSchedule,
) {
  let next = now.getTime() + schedule.intervalMs;
  for (const membership of memberships) {
    const charge = membership.nextChargeDate?.getTime();
    if (charge === undefined) continue;
    const after = charge + schedule.afterChargeMs;
    if (after > now.getTime() && after < next) next = after;
  }
  return new Date(next);
}

/** A patron connection's memberships, as the API lists them. */
export type MembershipView = {
  memberId: string;
  campaignId: string;
  patronStatus: string | null;
  lastChargeStatus: string | null;
  lastChargeDate: string | null;
  nextChargeDate: string | null;
  currentlyEntitledAmountCents: number | null;
  tierIds: string[];
  asOf: string | null;
};

/**
 * Keeps what a patron connection proves fresh: its memberships are read again through the
 * patron's own token on a schedule (and on demand), and go through the member pipeline like
 * any other snapshot, so a patron who cancels loses access and the host is told.
 */
export function createMembershipRefresh(deps: {
  db: Db;
  vault: TokenVault;
  patreon: PatreonClient;
  entitlements: EntitlementReview;
  clock: Clock;
  schedule: RefreshSchedule;
  log: FastifyBaseLogger;
}) {
  const { db } = deps;

  /** Reads the patron's memberships from Patreon and writes them with their events. */
  async function refresh(connectionId: string): Promise<void> {
    const [connection] = await db
      .select({ externalUserId: connections.externalUserId, role: connections.role })
      .from(connections)
      .where(eq(connections.id, connectionId));
    if (connection?.role !== 'patron') {
      throw new ConnectionNotFoundError(`No patron connection ${connectionId}.`);
    }
    const user = await deps.vault.withAccessToken(connectionId, (credentials) =>
      deps.patreon.identity(credentials, { memberships: true }),
    );
    const now = deps.clock();
    await db.transaction(async (tx) => {
      await storeIdentity(tx, user, true, now);
      await tx
        .update(connections)
        .set({
          membershipsRefreshedAt: now,
          membershipsDueAt: nextRefreshAt(user.memberships ?? [], now, deps.schedule),
        })
        .where(eq(connections.id, connectionId));
      await deps.entitlements.externalUser(
        tx,
        connection.externalUserId,
        `refresh:${connectionId}`,
      );
    });
  }

  return {
    refresh,

    /** Schedules the first refresh of a connection just made (its memberships were just read). */
    scheduleAfterConnect: (memberships: Member[], now: Date) => ({
      membershipsRefreshedAt: now,
      membershipsDueAt: nextRefreshAt(memberships, now, deps.schedule),
    }),

    /**
     * One step of the schedule: claims one due patron connection (moving its due time on, so a
     * failure waits a while and no other instance takes it meanwhile) and refreshes it outside
     * any transaction. False when none is due.
     */
    async due(): Promise<boolean> {
      const now = deps.clock();
      const retryAt = new Date(now.getTime() + Math.min(deps.schedule.intervalMs, 10 * 60_000));
      const claimed = await db.execute<{ id: string }>(sql`
        update ${connections} set memberships_due_at = ${retryAt.toISOString()}::timestamptz
        where id = (
          select id from ${connections}
          where role = 'patron' and status = 'active'
            and memberships_due_at <= ${now.toISOString()}::timestamptz
          order by memberships_due_at limit 1 for update skip locked)
        returning id`);
      const id = claimed.rows[0]?.id;
      if (!id) return false;
      await refresh(id).catch((error: unknown) => {
        // The claim's due time retries it later (a revoked grant is marked by the vault).
        deps.log.warn(
          { connectionId: id, code: (error as { code?: unknown }).code },
          'patron membership refresh failed; will retry',
        );
      });
      return true;
    },

    /** The memberships a patron connection proves, as last read. */
    async list(connectionId: string): Promise<MembershipView[]> {
      const [connection] = await db
        .select({ patreonUserId: connections.patreonUserId, role: connections.role })
        .from(connections)
        .where(eq(connections.id, connectionId));
      if (!connection) throw new ConnectionNotFoundError(`No connection ${connectionId}.`);
      const rows = await db.execute<{
        id: string;
        campaign_id: string;
        patron_status: string | null;
        last_charge_status: string | null;
        last_charge_date: string | null;
        next_charge_date: string | null;
        currently_entitled_amount_cents: number | null;
        tier_ids: string[];
        seen_at: string | null;
      }>(sql`
        select m.id, m.campaign_id, m.patron_status, m.last_charge_status,
          to_json(m.last_charge_date)#>>'{}' as last_charge_date,
          to_json(m.next_charge_date)#>>'{}' as next_charge_date,
          m.currently_entitled_amount_cents,
          coalesce((select array_agg(mt.tier_id order by mt.tier_id) from member_tiers mt
            where mt.member_id = m.id), '{}') as tier_ids,
          to_json(m.seen_at)#>>'{}' as seen_at
        from ${members} m
        where m.user_id = ${connection.patreonUserId} and m.deleted_at is null
        order by m.campaign_id, m.id`);
      const iso = (value: string | null) => (value === null ? null : new Date(value).toISOString());
      return rows.rows.map((row) => ({
        memberId: row.id,
        campaignId: row.campaign_id,
        patronStatus: row.patron_status,
        lastChargeStatus: row.last_charge_status,
        lastChargeDate: iso(row.last_charge_date),
        nextChargeDate: iso(row.next_charge_date),
        currentlyEntitledAmountCents: row.currently_entitled_amount_cents,
        tierIds: row.tier_ids,
        asOf: iso(row.seen_at),
      }));
    },
  };
}

export type MembershipRefresh = ReturnType<typeof createMembershipRefresh>;
