import type { TokenCipher } from '../crypto/token-cipher.js';
import type { Db } from '../db/database.js';
import { listEndpointSecretsNotUnder, replaceEndpointSecrets } from './repository.js';

/**
 * Re-seals every event endpoint secret under the current (first) token key, for
 * `npm run keys:rotate`. A row is updated only if it still holds what was read (a rotation of the
 * endpoint's secret in between wins), so it is safe while the service runs, and a rerun finishes
 * what is left.
 */
export async function resealEndpointSecrets(db: Db, cipher: TokenCipher): Promise<number> {
  const current = cipher.currentKeyId;
  const rows = await listEndpointSecretsNotUnder(db, current);
  let rotated = 0;
  for (const row of rows) {
    const resealed = row.secrets.map((envelope) =>
      cipher.keyIdOf(envelope) === current
        ? envelope
        : cipher.seal(cipher.open(envelope, row.id), row.id),
    );
    rotated += await replaceEndpointSecrets(db, row.id, row.secrets, resealed);
  }
  return rotated;
}
