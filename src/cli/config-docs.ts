import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { configTable } from '../config/config-table.js';

/** `npm run config:docs` rewrites the configuration table in docs/configuration.md from the config schema. */
const docPath = fileURLToPath(new URL('../../docs/configuration.md', import.meta.url));
const START = '<!-- config:start -->';
const END = '<!-- config:end -->';

const doc = await readFile(docPath, 'utf8');
const start = doc.indexOf(START);
const end = doc.indexOf(END);
if (start === -1 || end < start) {
  process.stderr.write(`docs/configuration.md needs ${START} and ${END} markers\n`);
  process.exit(1);
}
await writeFile(
  docPath,
  `${doc.slice(0, start + START.length)}\n${configTable()}\n${doc.slice(end)}`,
);
process.stdout.write('docs/configuration.md configuration table updated\n');
