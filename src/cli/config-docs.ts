import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { configTable } from '../config/config-table.js';

/** `npm run config:docs` rewrites the configuration table in README.md from the config schema. */
const readmePath = fileURLToPath(new URL('../../README.md', import.meta.url));
const START = '<!-- config:start -->';
const END = '<!-- config:end -->';

const readme = await readFile(readmePath, 'utf8');
const start = readme.indexOf(START);
const end = readme.indexOf(END);
if (start === -1 || end < start) {
  process.stderr.write(`README.md needs ${START} and ${END} markers\n`);
  process.exit(1);
}
await writeFile(
  readmePath,
  `${readme.slice(0, start + START.length)}\n${configTable()}\n${readme.slice(end)}`,
);
process.stdout.write('README.md configuration table updated\n');
