import { loadConfig } from '../config/config.js';
import { withDevelopmentSecrets } from '../config/development-secrets.js';
import { rotateTokenKeys } from '../connections/key-rotation.js';
import { createTokenCipher } from '../crypto/token-cipher.js';
import { resealEndpointSecrets } from '../events/key-rotation.js';
import { withDatabase } from './with-database.js';

/**
 * `npm run keys:rotate`: after putting a new key first in TOKEN_KEYS (and restarting the service),
 * re-seals every stored secret under it. Then the old key can be removed from TOKEN_KEYS.
 */
await withDatabase(
  async () => (await withDevelopmentSecrets(loadConfig(process.env))).config,
  { poolMax: 2 },
  async (database, config) => {
    const cipher = createTokenCipher(config.tokenKeys);
    const rotated = await rotateTokenKeys(database.db, cipher);
    const endpoints = await resealEndpointSecrets(database.db, cipher);
    return `re-sealed under key "${cipher.currentKeyId}": ${rotated.connections} connection(s), ${rotated.webhooks} webhook secret(s), ${endpoints} event endpoint(s)`;
  },
);
