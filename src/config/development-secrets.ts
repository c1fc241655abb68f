import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { type Config, parseTokenKeys } from './config.js';

export type DevelopmentSecrets = {
  config: Config;
  /** Set when a development API key is in use, so `main` can print it once at start. */
  generatedApiKey: string | undefined;
};

const API_KEY_FILE = 'dev-api-key';
const TOKEN_KEY_FILE = 'dev-token-key';

/**
 * Sandbox mode only: fills in a missing API key and token key with development values kept under
 * DATA_DIR (mode 0600), so a plain `npm start` works and survives restarts. Live mode requires
 * both to be configured, which `loadConfig` enforces.
 */
export async function withDevelopmentSecrets(config: Config): Promise<DevelopmentSecrets> {
  if (config.patreon.mode === 'live') return { config, generatedApiKey: undefined };
  const needsApiKey = config.apiKeys.length === 0;
  const needsTokenKey = config.tokenKeys.length === 0;
  if (!needsApiKey && !needsTokenKey) return { config, generatedApiKey: undefined };

  await mkdir(config.dataDir, { recursive: true });
  const apiKeys = needsApiKey
    ? [
        await readOrCreate(
          config.dataDir,
          API_KEY_FILE,
          () => `pgw_dev_${randomBytes(32).toString('base64url')}`,
        ),
      ]
    : config.apiKeys;
  const tokenKeys = needsTokenKey
    ? parseTokenKeys(
        [
          await readOrCreate(
            config.dataDir,
            TOKEN_KEY_FILE,
            () => `dev:${randomBytes(32).toString('base64')}`,
          ),
        ],
        [],
      )
    : config.tokenKeys;
  if (tokenKeys.length === 0) {
    throw new Error(
      `${path.join(config.dataDir, TOKEN_KEY_FILE)} is corrupt; delete it to regenerate`,
    );
  }
  return {
    config: Object.freeze({
      ...config,
      apiKeys: Object.freeze(apiKeys),
      tokenKeys: Object.freeze(tokenKeys),
    }),
    generatedApiKey: needsApiKey ? apiKeys[0] : undefined,
  };
}

async function readOrCreate(dir: string, name: string, create: () => string): Promise<string> {
  const file = path.join(dir, name);
  try {
    const existing = (await readFile(file, 'utf8')).trim();
    if (existing) return existing;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const value = create();
  // 'wx' fails if another process created it meanwhile; then read theirs.
  try {
    await writeFile(file, `${value}\n`, { mode: 0o600, flag: 'wx' });
    return value;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    return (await readFile(file, 'utf8')).trim();
  }
}
