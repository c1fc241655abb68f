import { sql } from 'drizzle-orm';
import type { DbOrTx } from '../db/database.js';

/**
 * Marks as ready every open delivery with nothing earlier of its resource still open at its
 * endpoint. Fan-out and completion keep `ready` right as they go; this sweep catches the one race
 * they cannot see (a delivery completing while the next event of its resource is being recorded
 * in a transaction not yet committed), and sets up lines after a recover. Its cost grows with the
 * deliveries waiting behind another, so it runs now and then, not on every claim.
 */
export async function promoteHeads(db: DbOrTx, endpointId?: string): Promise<number> {
  const result = await db.execute(sql`
    update outbound_deliveries d set ready = true
    where d.status in ('pending', 'failed') and not d.ready
      ${endpointId ? sql`and d.endpoint_id = ${endpointId}::uuid` : sql``}
      and not exists (
        select 1 from outbound_deliveries earlier
        where earlier.endpoint_id = d.endpoint_id
          and earlier.resource_key = d.resource_key
          and earlier.event_seq < d.event_seq
          and earlier.status in ('pending', 'failed'))`);
  return result.rowCount ?? 0;
}
