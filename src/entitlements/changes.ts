import { sql } from 'drizzle-orm';
import type { DbOrTx } from '../db/database.js';

/**
 * For a transaction that writes many rows of some campaigns (a sync page, a purge): tells every
 * instance's entitlement cache, once, that anything in those campaigns may change when it commits,
 * and turns the per-row notification triggers off for the rest of the transaction (migration
 * 0009). Call it inside the transaction, before the writes: whatever it writes to the watched
 * tables afterwards must belong to these campaigns.
 */
export async function announceCampaignChanges(tx: DbOrTx, campaignIds: readonly string[]) {
  if (campaignIds.length === 0) return;
  const tags = JSON.stringify(campaignIds.map((id) => `c:${id}`));
  await tx.execute(
    sql`select set_config('patreon_gateway.entitlement_changes', 'announced', true), pg_notify('entitlement_changes', ${tags})`,
  );
}
