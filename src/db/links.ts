import { sql } from 'drizzle-orm';
import type { DbOrTx } from './database.js';
import type { memberTiers, tierBenefits } from './schema/index.js';

/**
 * Makes the link rows of `owners` exactly `links` ([owner, other] pairs): deletes the ones that
 * went away and inserts the new ones; links that stay are not touched. Pairs travel as two array
 * parameters.
 */
export async function replaceLinks(
  tx: DbOrTx,
  table: typeof memberTiers | typeof tierBenefits,
  [ownerColumn, otherColumn]: [string, string],
  owners: string[],
  links: [string, string][],
) {
  const left = links.map(([owner]) => owner);
  const right = links.map(([, other]) => other);
  const owner = sql.raw(`"${ownerColumn}"`);
  const other = sql.raw(`"${otherColumn}"`);
  await tx.execute(
    sql`delete from ${table} where ${owner} = any(${sql.param(owners)}::text[])
        and (${owner}, ${other}) not in (select * from unnest(${sql.param(left)}::text[], ${sql.param(right)}::text[]))`,
  );
  if (links.length > 0) {
    await tx.execute(
      sql`insert into ${table} (${owner}, ${other})
          select * from unnest(${sql.param(left)}::text[], ${sql.param(right)}::text[]) on conflict do nothing`,
    );
  }
}
