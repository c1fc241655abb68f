import { readFileSync } from 'node:fs';

/** Name and version from package.json, which sits next to both src/ and dist/. */
export const packageInfo = JSON.parse(
  readFileSync(new URL('../package.json', import.meta.url), 'utf8'),
) as { name: string; version: string };
