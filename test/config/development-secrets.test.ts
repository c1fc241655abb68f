import { mkdtemp, readFile, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { loadConfig } from '../../src/config/config.js';
import { withDevelopmentSecrets } from '../../src/config/development-secrets.js';

t.test('sandbox mode generates a development API key and token key once', async (t) => {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'pgw-secrets-'));
  t.teardown(() => import('node:fs/promises').then((fs) => fs.rm(dataDir, { recursive: true })));

  const first = await withDevelopmentSecrets(loadConfig({ DATA_DIR: dataDir }));
  t.match(first.generatedApiKey, /^pgw_dev_[A-Za-z0-9_-]{43}$/);
  t.same(first.config.apiKeys, [first.generatedApiKey]);
  t.equal(first.config.tokenKeys.length, 1);
  t.equal(first.config.tokenKeys[0]?.key.length, 32);
  const keyFile = path.join(dataDir, 'dev-api-key');
  t.equal((await stat(keyFile)).mode & 0o777, 0o600, 'readable by the owner only');
  t.equal((await readFile(keyFile, 'utf8')).trim(), first.generatedApiKey);

  const second = await withDevelopmentSecrets(loadConfig({ DATA_DIR: dataDir }));
  t.equal(second.generatedApiKey, first.generatedApiKey, 'reused across restarts');
  t.ok(second.config.tokenKeys[0]?.key.equals(first.config.tokenKeys[0]?.key as Buffer));
});

t.test('configured keys are kept and nothing is generated', async (t) => {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'pgw-secrets-'));
  const config = loadConfig({ DATA_DIR: dataDir, API_KEYS: 'k'.repeat(32) });
  const result = await withDevelopmentSecrets(config);
  t.equal(result.generatedApiKey, undefined);
  t.same(result.config.apiKeys, ['k'.repeat(32)]);
  await t.rejects(stat(path.join(dataDir, 'dev-api-key')), { code: 'ENOENT' });
});
