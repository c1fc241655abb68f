import path from 'node:path';
import { ConfigError, loadConfig } from '../config/config.js';
import { withDevelopmentSecrets } from '../config/development-secrets.js';
import { rotateTokenKeys } from '../connections/key-rotation.js';
import { createTokenCipher } from '../crypto/token-cipher.js';
import { openDatabase } from '../db/database.js';
import { resealEndpointSecrets } from '../events/key-rotation.js';

/**
 * `npm run keys:rotate`: after putting a new key first in TOKEN_KEYS (and restarting the service),
 * re-seals every stored secret under it. Then the old key can be removed from TOKEN_KEYS.
 */
try {
  const { config } = await withDevelopmentSecrets(loadConfig(process.env));
  const database = await openDatabase(
    config.database.url
      ? { url: config.database.url, poolMax: 2 }
      : { embedded: { dataDir: path.join(config.dataDir, 'pglite') } },
  );
  try {
    const cipher = createTokenCipher(config.tokenKeys);
    const rotated = await rotateTokenKeys(database.db, cipher);
    const endpoints = await resealEndpointSecrets(database.db, cipher);
    process.stdout.write(
      `re-sealed under key "${cipher.currentKeyId}": ${rotated.connections} connection(s), ${rotated.webhooks} webhook secret(s), ${endpoints} event endpoint(s)\n`,
    );
  } finally {
    await database.close();
  }
} catch (error) {
  process.stderr.write(
    `${error instanceof ConfigError ? error.message : (error as Error).stack}\n`,
  );
  process.exit(1);
}
