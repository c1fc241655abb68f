import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { buildApp } from '../app.js';
import { loadConfig } from '../config/config.js';
import { openDatabase } from '../db/database.js';

/**
 * `npm run openapi` writes openapi.yaml from the route schemas; `--check` exits 1 when the file
 * differs. The app is built from a fixed, empty environment so the document never depends on
 * the machine it is generated on.
 */
const target = fileURLToPath(new URL('../../openapi.yaml', import.meta.url));
const check = process.argv.includes('--check');

const app = await buildApp({
  // A throwaway key: the document never depends on secrets, but the app needs one to build.
  config: loadConfig({ TOKEN_KEYS: `openapi:${Buffer.alloc(32).toString('base64')}` }),
  logger: pino({ level: 'silent' }),
  database: await openDatabase({ embedded: { inMemory: true } }),
});
await app.ready();
const generated = app.swagger({ yaml: true });
await app.close();

if (!check) {
  await writeFile(target, generated);
  process.stdout.write(`wrote ${target}\n`);
} else {
  const current = await readFile(target, 'utf8').catch(() => '');
  if (current !== generated) {
    process.stderr.write('openapi.yaml is out of step with the routes: run `npm run openapi`.\n');
    process.exit(1);
  }
  process.stdout.write('openapi.yaml is in step with the routes\n');
}
