import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import t from 'tap';
import { ConfigError, loadConfig } from '../../src/config/config.js';
import { configTable } from '../../src/config/config-table.js';

const tokenKey = (id: string) => `${id}:${randomBytes(32).toString('base64')}`;

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return [...error.problems];
    throw error;
  }
  throw new Error('expected a ConfigError');
}

t.test('an empty environment gives safe defaults and sandbox mode', async (t) => {
  const config = loadConfig({});
  t.match(config, {
    server: { host: '127.0.0.1', port: 3000, publicUrl: 'http://localhost:3000' },
    logLevel: 'info',
    database: { url: undefined, poolMax: 10 },
    apiKeys: [],
    patreon: {
      mode: 'sandbox',
      baseUrl: 'http://localhost:3000/sandbox',
      redirectUri: 'http://localhost:3000/oauth/patreon/callback',
    },
  });
  t.ok(config.dataDir.endsWith('/data'), 'DATA_DIR defaults to ./data, resolved');
  t.ok(Object.isFrozen(config) && Object.isFrozen(config.server), 'frozen');
});

t.test('live mode: credentials, keys and derived URLs', async (t) => {
  const config = loadConfig({
    PORT: '8080',
    PUBLIC_URL: 'https://gateway.example.com/',
    PATREON_CLIENT_ID: 'id',
    PATREON_CLIENT_SECRET: 'secret',
    API_KEYS: `${'a'.repeat(32)}, ${'b'.repeat(40)}`,
    TOKEN_KEYS: `${tokenKey('k2')},${tokenKey('k1')}`,
    DATABASE_URL: 'postgres://u@db:5432/app',
    RETURN_TO_ALLOWLIST: 'https://app.example.com/settings/',
  });
  t.equal(config.patreon.mode, 'live');
  t.equal(config.patreon.baseUrl, 'https://www.patreon.com');
  t.equal(config.server.publicUrl, 'https://gateway.example.com', 'trailing slash trimmed');
  t.equal(config.patreon.redirectUri, 'https://gateway.example.com/oauth/patreon/callback');
  t.equal(config.apiKeys.length, 2);
  t.same(
    config.tokenKeys.map((k) => k.id),
    ['k2', 'k1'],
    'order kept: the first key encrypts',
  );
  t.equal(config.tokenKeys[0]?.key.length, 32);
});

t.test('every problem is listed at once, and no value is ever echoed', async (t) => {
  const secret = 'hunter2-super-secret-value';
  const problems = problemsOf({
    PORT: 'eighty',
    LOG_LEVEL: 'loud',
    DATABASE_URL: `mysql://root:${secret}@db/app`,
    PUBLIC_URL: 'not a url',
    BODY_LIMIT_BYTES: '0',
  });
  t.same(problems.map((p) => p.split(':')[0]).sort(), [
    'BODY_LIMIT_BYTES',
    'DATABASE_URL',
    'LOG_LEVEL',
    'PORT',
    'PUBLIC_URL',
  ]);
  t.notMatch(problems.join('\n'), secret);

  const crossField = problemsOf({
    PATREON_CLIENT_SECRET: secret,
    API_KEYS: `short-key`,
    TOKEN_KEYS: `k1:${Buffer.from(secret).toString('base64')},badkey,k1:${randomBytes(32).toString('base64')},${tokenKey('k1')}`,
  });
  t.match(crossField.join('\n'), /PATREON_CLIENT_ID, PATREON_CLIENT_SECRET: set both/);
  t.match(crossField.join('\n'), /API_KEYS: 1 key\(s\) shorter than 32/);
  t.match(crossField.join('\n'), /TOKEN_KEYS\[0\] \(k1\): the key must be 32 bytes/);
  t.match(crossField.join('\n'), /TOKEN_KEYS\[1\]: expected keyId:base64Key/);
  t.match(crossField.join('\n'), /TOKEN_KEYS\[3\] \(k1\): duplicate keyId/);
  t.notMatch(crossField.join('\n'), secret);
  t.notMatch(crossField.join('\n'), Buffer.from(secret).toString('base64'));
});

t.test('rules across variables are reported together with single-variable problems', async (t) => {
  const problems = problemsOf({ PORT: '0', PATREON_CLIENT_ID: 'id', API_KEYS: 'short' });
  t.same(problems.map((p) => p.split(':')[0]).sort(), [
    'API_KEYS',
    'PATREON_CLIENT_ID, PATREON_CLIENT_SECRET',
    'PORT',
  ]);
});

t.test('live mode requires API keys, token keys and a returnTo allow-list', async (t) => {
  const problems = problemsOf({ PATREON_CLIENT_ID: 'id', PATREON_CLIENT_SECRET: 'secret' });
  t.same(problems, [
    'API_KEYS: required when Patreon credentials are set',
    'TOKEN_KEYS: required when Patreon credentials are set',
    'RETURN_TO_ALLOWLIST: required when Patreon credentials are set',
  ]);
});

t.test('docs/configuration.md has the table generated from the schema', async (t) => {
  const doc = await readFile(new URL('../../docs/configuration.md', import.meta.url), 'utf8');
  t.ok(
    doc.includes(configTable()),
    'docs/configuration.md is out of step with src/config/schema.ts: run `npm run config:docs`',
  );
  t.match(configTable(), /\| `PORT` \| `3000` \|/);
});
