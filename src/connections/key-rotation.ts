import { and, asc, eq, gt, isNotNull, not, or, type SQL, sql } from 'drizzle-orm';
import type { PgColumn } from 'drizzle-orm/pg-core';
import type { TokenCipher } from '../crypto/token-cipher.js';
import type { Db } from '../db/database.js';
import { connections, patreonWebhooks } from '../db/schema/index.js';

const notUnder = (column: PgColumn, keyId: string): SQL =>
  and(isNotNull(column), not(sql`${column} like ${`v1.${keyId}.%`}`)) as SQL;

/**
 * Re-seals every token and webhook secret under the current (first) key, in batches. Each row is
 * updated only if it still holds the envelope that was read (a concurrent refresh already sealed
 * it under the current key), so it is safe while the service runs, and resumable: a rerun picks
 * up whatever is still under an old key.
 */
export async function rotateTokenKeys(
  db: Db,
  cipher: TokenCipher,
  options: { batchSize?: number } = {},
): Promise<{ connections: number; webhooks: number }> {
  const batchSize = options.batchSize ?? 200;
  const current = cipher.currentKeyId;
  const reseal = (envelope: string | null, id: string) =>
    envelope && cipher.keyIdOf(envelope) !== current
      ? cipher.seal(cipher.open(envelope, id), id)
      : envelope;

  let rotatedConnections = 0;
  let after = '';
  for (;;) {
    const rows = await db
      .select({
        id: connections.id,
        access: connections.accessTokenCiphertext,
        refresh: connections.refreshTokenCiphertext,
      })
      .from(connections)
      .where(
        and(
          gt(sql`${connections.id}::text`, after),
          or(
            notUnder(connections.accessTokenCiphertext, current),
            notUnder(connections.refreshTokenCiphertext, current),
          ),
        ),
      )
      .orderBy(asc(sql`${connections.id}::text`))
      .limit(batchSize);
    if (rows.length === 0) break;
    await db.transaction(async (tx) => {
      for (const row of rows) {
        const result = await tx
          .update(connections)
          .set({
            accessTokenCiphertext: reseal(row.access, row.id),
            refreshTokenCiphertext: reseal(row.refresh, row.id),
          })
          .where(
            and(
              eq(connections.id, row.id),
              sql`${connections.accessTokenCiphertext} is not distinct from ${row.access}`,
              sql`${connections.refreshTokenCiphertext} is not distinct from ${row.refresh}`,
            ),
          );
        rotatedConnections += result.rowCount ?? 0;
      }
    });
    after = (rows.at(-1) as { id: string }).id;
  }

  let rotatedWebhooks = 0;
  const webhooks = await db
    .select({ id: patreonWebhooks.id, secret: patreonWebhooks.secretCiphertext })
    .from(patreonWebhooks)
    .where(notUnder(patreonWebhooks.secretCiphertext, current));
  for (const webhook of webhooks) {
    const result = await db
      .update(patreonWebhooks)
      .set({ secretCiphertext: reseal(webhook.secret, webhook.id) })
      .where(
        and(
          eq(patreonWebhooks.id, webhook.id),
          eq(patreonWebhooks.secretCiphertext, webhook.secret as string),
        ),
      );
    rotatedWebhooks += result.rowCount ?? 0;
  }
  return { connections: rotatedConnections, webhooks: rotatedWebhooks };
}
